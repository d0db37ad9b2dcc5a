/**
 * End to end: the access token is not an ambient credential (issue 13 item 11), and a lost
 * connection is taken up again (issue 14, reading basics).
 *
 * - After the page loads: no cookie in the browser, no token in the address bar; another web
 *   server on 127.0.0.1 (another port), visited and fetched from the same browser, receives no
 *   Cookie header and cannot read the token from storage; a new tab at the bare address is told
 *   to open the printed address; a reload of the viewer's tab connects again.
 * - A dropped WebSocket (closed under the page by Playwright's WebSocket routing): the page says
 *   it lost the connection, reconnects, resumes its session and says nothing was lost.
 * - A server that stops: after a few attempts the page says how to get going again.
 *
 * Run: node --import tsx --test test/e2e/token-reconnect.test.ts (needs `npm run build`).
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Page, WebSocketRoute } from 'playwright-core'
import {
  ARTIFACTS,
  buildRenderer,
  ensureArtifacts,
  launch,
  makeDataDir,
  startServer,
  type Server,
  type Session,
} from './harness.js'

let server: Server
let session: Session
let other: HttpServer
let otherUrl: string
const otherSaw: IncomingHttpHeaders[] = []

// The root tsconfig has no DOM lib: the browser-side shapes used in page functions.
interface PageGlobals {
  readonly document: { cookie: string }
  readonly sessionStorage: { readonly length: number; key(n: number): string | null }
  readonly localStorage: { readonly length: number }
  fetch(url: string, init?: { credentials?: string }): Promise<{ text(): Promise<string> }>
}
declare const globalThis: PageGlobals

const ready = (page: Page): Promise<unknown> =>
  page.waitForSelector('body[data-ready=true]', { state: 'attached', timeout: 120_000 })

const notices = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const d = (globalThis as unknown as { document: { body: { innerText: string } } }).document
    return d.body.innerText
  })

before(async () => {
  await buildRenderer()
  await ensureArtifacts()
  const dirs = await makeDataDir()
  server = await startServer(dirs.data, dirs.out)
  session = await launch()
  // Another local web app (a notebook, a dev server): it records what the browser sends it.
  other = createServer((req, res) => {
    otherSaw.push(req.headers)
    res.setHeader('content-type', 'text/html')
    res.end('<!doctype html><title>other app</title><p>another local app</p>')
  })
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r))
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/`
})

after(async () => {
  await session?.browser.close()
  await server?.stop()
  await new Promise((r) => other?.close(r))
})

test('item 11: no cookie, no token in the address bar, nothing for another local port', async () => {
  const { page } = session
  await page.goto(server.url)
  await ready(page)
  await page.waitForFunction(
    () => {
      const d = (globalThis as unknown as { document: { querySelector(s: string): unknown } })
        .document
      const info = d.querySelector('.volume-info') as { textContent: string } | null
      return info?.textContent?.includes('ch2') ?? false
    },
    undefined,
    { timeout: 60_000 },
  )
  const context = page.context()
  assert.deepEqual(await context.cookies(), [], 'the browser holds no cookie at all')
  assert.equal(await page.evaluate(() => globalThis.document.cookie), '')
  assert.ok(!page.url().includes('token'), `address bar without the token: ${page.url()}`)
  assert.ok(!page.url().includes('#'), page.url())

  // Another app on another port, in another tab of the same browser.
  const tab = await context.newPage()
  await tab.goto(otherUrl)
  await tab.evaluate(async (u) => {
    await globalThis.fetch(u, { credentials: 'include' })
  }, otherUrl)
  assert.ok(otherSaw.length >= 2, `the other app was reached ${otherSaw.length} times`)
  for (const h of otherSaw) {
    assert.equal(h.cookie, undefined, 'another port receives no cookie')
    assert.ok(!JSON.stringify(h).includes(new URL(server.url).hash.slice(7)), 'nor the token')
  }
  const storage = await tab.evaluate(() => ({
    session: globalThis.sessionStorage.length,
    local: globalThis.localStorage.length,
  }))
  assert.deepEqual(storage, { session: 0, local: 0 }, 'another origin sees no stored token')
  await tab.close()

  // A new tab at the bare address (a bookmark without the token): told what to open.
  const bare = await context.newPage()
  await bare.goto(`${new URL(server.url).origin}/`)
  await bare.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { body: { innerText: string } } }
      ).document.body.innerText.includes('Open the address that'),
    undefined,
    { timeout: 30_000 },
  )
  await bare.screenshot({ path: join(ARTIFACTS, 'token-01-bare-address.png') })
  await bare.close()

  // The viewer's own tab reloads and connects (the token stays in this tab's sessionStorage).
  await page.reload()
  await ready(page)
  assert.ok(!(await notices(page)).includes('Open the address that'))
  await page.waitForFunction(
    () => {
      const d = (globalThis as unknown as { document: { querySelector(s: string): unknown } })
        .document
      const info = d.querySelector('.volume-info') as { textContent: string } | null
      return info?.textContent?.includes('ch2') ?? false
    },
    undefined,
    { timeout: 60_000 },
  )
})

test('a dropped connection: the page reconnects, resumes its session and says so', async () => {
  const { browser } = session
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  const page = await context.newPage()
  const routes: WebSocketRoute[] = []
  await page.routeWebSocket(/\/ws$/, (ws) => {
    ws.connectToServer()
    routes.push(ws)
  })
  await page.goto(server.url)
  await ready(page)
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { body: { innerText: string } } }
      ).document.body.innerText.includes('ch2'),
    undefined,
    { timeout: 60_000 },
  )
  assert.equal(routes.length, 1)
  // Drop it under the page: both sides close, as when a network link or a proxy goes away.
  await routes[0]!.close({ code: 4000, reason: 'dropped by the test' })
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { body: { innerText: string } } }
      ).document.body.innerText.includes('Lost the connection to VolSeg'),
    undefined,
    { timeout: 10_000 },
  )
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { body: { innerText: string } } }
      ).document.body.innerText.includes('Reconnected'),
    undefined,
    { timeout: 30_000 },
  )
  await page.screenshot({ path: join(ARTIFACTS, 'reconnect-01-resumed.png') })
  const text = await notices(page)
  assert.ok(routes.length >= 2, `a second connection was made (${routes.length})`)
  assert.match(text, /Reconnected/)
  assert.match(text, /ch2/)

  // The server goes away for good: after a few attempts the page says what to do.
  await server.stop()
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { body: { innerText: string } } }
      ).document.body.innerText.includes('VolSeg does not answer at this address'),
    undefined,
    { timeout: 30_000 },
  )
  await page.screenshot({ path: join(ARTIFACTS, 'reconnect-02-server-gone.png') })
  await context.close()
})

/**
 * The app:// handler's answers in a real Chromium: every request of the page is fulfilled by the
 * real `createAppProtocolHandler` over the built renderer (Playwright routes stand in for
 * `protocol.handle`, which only Electron has), so the viewer's page, scripts and styles load
 * under the exact CSP header the desktop app sends (it then finds no core: no `window.volseg`
 * outside Electron, no token for serve). Loading the page causes no CSP violation; an injected
 * inline script is blocked (`securitypolicyviolation`). Workers and the WebAssembly pipeline
 * start only with an open volume, so they are not exercised here.
 *
 * Run: node --import tsx --test test/e2e/electron-csp.test.ts (needs `npm run build`).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { createAppProtocolHandler } from '../../electron/main/protocol.js'
import { REPO, buildRenderer, launch } from './harness.js'

const ORIGIN = 'http://127.0.0.1:9'

test(
  'the viewer runs under the app:// CSP; an injected inline script is refused',
  { timeout: 180_000 },
  async () => {
    await buildRenderer()
    const handler = createAppProtocolHandler(join(REPO, 'renderer', 'dist'))
    const session = await launch()
    const { page } = session
    const served: string[] = []
    try {
      await page.context().route(`${ORIGIN}/**`, async (route) => {
        const url = route.request().url().replace(ORIGIN, 'app://bundle')
        served.push(url)
        const r = await handler({ url, method: route.request().method() } as Request)
        const headers: Record<string, string> = {}
        r.headers.forEach((v, k) => (headers[k] = v))
        await route.fulfill({ status: r.status, headers, body: Buffer.from(await r.arrayBuffer()) })
      })
      const violations: string[] = []
      await page.exposeFunction('volsegCspViolation', (v: string) => violations.push(v))
      await page.addInitScript(() => {
        const g = globalThis as unknown as {
          addEventListener(
            t: string,
            f: (e: { violatedDirective: string; blockedURI: string }) => void,
          ): void
          volsegCspViolation(v: string): void
        }
        g.addEventListener('securitypolicyviolation', (e) =>
          g.volsegCspViolation(`${e.violatedDirective} ${e.blockedURI}`),
        )
      })
      const res = await page.goto(`${ORIGIN}/index.html`)
      assert.equal(res?.status(), 200)
      assert.match(
        res?.headers()['content-security-policy'] ?? '',
        /script-src 'self' 'wasm-unsafe-eval'/,
      )
      // The page runs its own module script (it builds the layout, then fails to find a core).
      await page.waitForSelector('.views', { state: 'attached', timeout: 60_000 })
      await page.waitForTimeout(1000)
      assert.equal(
        violations.length,
        0,
        `the viewer itself violates nothing: ${violations.join('; ')}`,
      )
      assert.ok(
        served.some((u) => /\/assets\/.+\.js$/.test(u)),
        'its scripts came from the handler',
      )
      await page.evaluate(() => {
        const d = (
          globalThis as unknown as {
            document: {
              createElement(t: string): { textContent: string }
              body: { append(n: unknown): void }
            }
          }
        ).document
        const s = d.createElement('script')
        s.textContent = '(globalThis).injected = true'
        d.body.append(s)
      })
      await page.waitForTimeout(300)
      const injected = await page.evaluate(
        () => (globalThis as unknown as { injected?: boolean }).injected,
      )
      assert.equal(injected, undefined)
      assert.ok(
        violations.some((v) => v.startsWith('script-src')),
        violations.join('; '),
      )
      assert.deepEqual(session.blocked, [])
    } finally {
      await session.browser.close()
    }
  },
)

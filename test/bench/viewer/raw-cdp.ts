/**
 * A page of Debian's Chromium driven over the DevTools protocol with only `Runtime` used: no
 * `Network` or `Fetch` domain, as in a user's browser. Playwright enables both on every page, and
 * then Chromium copies each WebSocket frame, base64-encoded, to the driver: the viewer's 32 MiB
 * voxel slabs crawled at ~4 s each (one 150 MiB read 2 s; without the domains 0.6 s for all the
 * slabs). Load timings are therefore measured here; the rest of the bench uses Playwright.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'

/** A page: evaluate an expression or a function (serialised, called with `arg`), then close. */
export interface RawPage {
  evaluate<T>(fn: string | ((arg: never) => unknown), arg?: unknown): Promise<T>
  /** Waits until `expression` is truthy in the page (polled every 100 ms). */
  waitFor(expression: string, timeoutMs: number): Promise<void>
  /** Sends one DevTools command to the page (e.g. `Profiler.start`); resolves with its result. */
  cdp(method: string, params?: object): Promise<Record<string, unknown> | undefined>
  readonly pid: number | undefined
  close(): Promise<void>
}

interface CdpReply {
  readonly id?: number
  readonly result?: {
    readonly result?: { readonly value?: unknown }
    readonly exceptionDetails?: unknown
  } & Record<string, unknown>
  readonly error?: { readonly message: string }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Starts headless Chromium (the e2e flags) on `url` and attaches to its page. */
export async function launchRawPage(url: string, args: readonly string[]): Promise<RawPage> {
  const profile = mkdtempSync(join(tmpdir(), 'volseg-bench-cdp-'))
  const chrome: ChildProcess = spawn(
    '/usr/bin/chromium',
    [
      '--headless',
      '--no-sandbox',
      ...args,
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      '--window-size=1400,900',
      'about:blank',
    ],
    // Its own process group: closing kills the renderer and GPU children too (see close).
    { stdio: 'ignore', detached: true },
  )
  const portFile = join(profile, 'DevToolsActivePort')
  const end = Date.now() + 60_000
  while (!existsSync(portFile) || readFileSync(portFile, 'utf8').split('\n').length < 2) {
    if (Date.now() > end || chrome.exitCode !== null) throw new Error('Chromium did not start')
    await sleep(100)
  }
  const [port, path] = readFileSync(portFile, 'utf8').split('\n')
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { maxPayload: 256 << 20 })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let nextId = 0
  const pending = new Map<number, (m: CdpReply) => void>()
  ws.on('message', (d: Buffer) => {
    const m = JSON.parse(d.toString()) as CdpReply
    if (m.id !== undefined) pending.get(m.id)?.(m)
    if (m.id !== undefined) pending.delete(m.id)
  })
  const send = (method: string, params: object, sessionId?: string): Promise<CdpReply> =>
    new Promise((resolve) => {
      const id = ++nextId
      pending.set(id, resolve)
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }))
    })
  const target = await send('Target.createTarget', { url })
  const attached = await send('Target.attachToTarget', {
    targetId: target.result?.targetId,
    flatten: true,
  })
  const sessionId = attached.result?.sessionId as string
  const evaluate = async <T>(fn: string | ((arg: never) => unknown), arg?: unknown): Promise<T> => {
    const expression =
      typeof fn === 'string' ? fn : `(${fn.toString()})(${JSON.stringify(arg ?? null)})`
    const m = await send(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      sessionId,
    )
    if (m.error) throw new Error(`Runtime.evaluate: ${m.error.message}`)
    if (m.result?.exceptionDetails) {
      throw new Error(`in the page: ${JSON.stringify(m.result.exceptionDetails).slice(0, 500)}`)
    }
    return m.result?.result?.value as T
  }
  return {
    evaluate,
    async cdp(method, params = {}) {
      const m = await send(method, params, sessionId)
      if (m.error) throw new Error(`${method}: ${m.error.message}`)
      return m.result
    },
    pid: chrome.pid,
    async waitFor(expression, timeoutMs) {
      const stop = Date.now() + timeoutMs
      for (;;) {
        // Before the page's first context exists, evaluate fails: keep polling.
        const ok = await evaluate<boolean>(`!!(${expression})`).catch(() => false)
        if (ok) return
        if (Date.now() > stop) throw new Error(`timed out waiting for ${expression}`)
        await sleep(100)
      }
    },
    async close() {
      // Why: SIGKILL of the browser alone left its children writing the cache while the profile
      // was removed (ENOTEMPTY). Ask it to close, then kill the whole group, then remove.
      const exited =
        chrome.exitCode !== null
          ? Promise.resolve()
          : new Promise<void>((r) => chrome.once('exit', () => r()))
      await Promise.race([send('Browser.close', {}), sleep(3000)])
      await Promise.race([exited, sleep(5000)])
      ws.close()
      try {
        if (chrome.pid !== undefined) process.kill(-chrome.pid, 'SIGKILL')
      } catch {
        // The group has gone.
      }
      await exited
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    },
  }
}

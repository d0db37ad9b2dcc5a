// The real preload API builder (electron/preload/api-builder.ts), E2, and the built preload bundle.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { API_METHODS, type ApiMethod } from '../../src/shared/api.js'
import { API_CHANNELS, COMMAND_CHANNEL, EVENT_CHANNEL } from '../../src/shared/ipc-channels.js'
import {
  PRELOAD_EXTRAS,
  buildPreloadApi,
  type PreloadTransport,
} from '../../electron/preload/api-builder.js'
import { ROOT } from '../helpers.js'

/** A transport that records what the builder sends and lets the test push messages. */
function recording(): {
  t: PreloadTransport
  invoked: unknown[][]
  push(channel: string, payload: unknown): void
} {
  const invoked: unknown[][] = []
  const listeners = new Map<string, Set<(p: unknown) => void>>()
  return {
    invoked,
    push: (ch, p) => listeners.get(ch)?.forEach((l) => l(p)),
    t: {
      invoke: async (...args: unknown[]) => {
        invoked.push(args)
        return { ok: true, value: args[0] }
      },
      on(ch, l) {
        const set = listeners.get(ch) ?? new Set()
        set.add(l)
        listeners.set(ch, set)
        return () => set.delete(l)
      },
    },
  }
}

test('window.volseg has exactly the contract methods plus onEvent/onCommand, frozen', () => {
  const api = buildPreloadApi(recording().t)
  const want = [...Object.keys(API_METHODS), ...PRELOAD_EXTRAS].sort()
  assert.deepEqual(Object.keys(api).sort(), want)
  assert.deepEqual([...PRELOAD_EXTRAS].sort(), ['onCommand', 'onEvent'])
  assert.ok(Object.isFrozen(api))
  for (const k of Object.keys(api)) {
    assert.equal(typeof (api as Record<string, unknown>)[k], 'function')
  }
  // Nothing that looks like Electron's IPC is reachable.
  for (const k of ['ipcRenderer', 'invoke', 'send', 'on', 'postMessage', 'require']) {
    assert.equal(k in api, false, k)
  }
})

test('each method invokes its own volseg: channel with exactly one argument', async () => {
  const r = recording()
  const api = buildPreloadApi(r.t)
  for (const m of Object.keys(API_METHODS) as ApiMethod[]) {
    const call = api[m] as (...a: unknown[]) => Promise<unknown>
    await call({ a: 1 }, 'extra', 'args')
  }
  assert.equal(r.invoked.length, Object.keys(API_METHODS).length)
  for (const [k, m] of (Object.keys(API_METHODS) as ApiMethod[]).entries()) {
    assert.deepEqual(r.invoked[k], [API_CHANNELS[m], { a: 1 }])
  }
})

test('listeners get the payload only, and only known event and command types', () => {
  const r = recording()
  const api = buildPreloadApi(r.t)
  const events: unknown[] = []
  const commands: unknown[] = []
  const offE = api.onEvent((e) => events.push(e))
  api.onCommand((c) => commands.push(c))
  r.push(EVENT_CHANNEL, { type: 'job:queued', jobId: 'job_1', ahead: 0 })
  r.push(EVENT_CHANNEL, { type: 'evil', x: 1 })
  r.push(EVENT_CHANNEL, null)
  r.push(COMMAND_CHANNEL, { type: 'undo' })
  r.push(COMMAND_CHANNEL, { type: 'rm -rf' })
  r.push(COMMAND_CHANNEL, { type: 'job:queued', jobId: 'job_1', ahead: 0 })
  assert.deepEqual(events, [{ type: 'job:queued', jobId: 'job_1', ahead: 0 }])
  assert.deepEqual(commands, [{ type: 'undo' }])
  offE()
  r.push(EVENT_CHANNEL, { type: 'job:cancelled', jobId: 'job_1' })
  assert.equal(events.length, 1)
})

test('a rejected invoke becomes a Result, never a rejection', async () => {
  const api = buildPreloadApi({
    invoke: () => Promise.reject(new Error('gone')),
    on: () => () => undefined,
  })
  const r = await api.hello({})
  assert.equal(r.ok, false)
  if (!r.ok) assert.equal(r.error.code, 'E_INTERNAL')
})

test('the built preload is one sandbox-safe file: it requires electron and nothing else', () => {
  const p = join(ROOT, 'dist', 'electron', 'preload.cjs')
  assert.ok(existsSync(p), 'dist/electron/preload.cjs is built (npm run build)')
  const text = readFileSync(p, 'utf8')
  const required = [...text.matchAll(/require\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1])
  assert.deepEqual([...new Set(required)], ['electron'])
  assert.match(text, /exposeInMainWorld\(\s*["']volseg["']/)
  assert.equal((text.match(/exposeInMainWorld\(/g) ?? []).length, 1)
})

// The real IPC gate (electron/main/ipc-gate.ts) and bytes port (voxel-port.ts), E3. The API
// behind the gate counts its calls, so "reaches no handler" is observed, not assumed; the
// accepted call goes to a real service session.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MessageChannel } from 'node:worker_threads'
import { API_METHODS, type ApiMethod, type Result, type VolsegApi } from '../../src/shared/api.js'
import { API_CHANNELS } from '../../src/shared/ipc-channels.js'
import { createService } from '../../src/service/create-service.js'
import type { JobRunner } from '../../src/service/job-runner.js'
import {
  gateCall,
  registerGate,
  senderProblem,
  type GateEvent,
} from '../../electron/main/ipc-gate.js'
import { BytesOut, type BytesMessage } from '../../electron/main/voxel-port.js'

const TOP = { url: 'app://bundle/index.html', parent: null }
const ok = (frame: GateEvent['senderFrame'] = TOP): GateEvent => ({ senderFrame: frame })

/** An API whose every method counts its calls and answers ok. */
function counting(): { api: VolsegApi; calls: string[] } {
  const calls: string[] = []
  const api = {} as Record<ApiMethod, (req: unknown) => Promise<Result<unknown>>>
  for (const m of Object.keys(API_METHODS) as ApiMethod[]) {
    api[m] = async () => {
      calls.push(m)
      return { ok: true, value: m }
    }
  }
  return { api: api as unknown as VolsegApi, calls }
}

test('a spoofed or foreign sender gets a typed error and reaches no handler', async () => {
  const { api, calls } = counting()
  const frames = [
    null,
    { url: 'https://evil.example/', parent: null },
    { url: 'http://127.0.0.1:8787/', parent: null },
    { url: 'file:///app/renderer/dist/index.html', parent: null },
    { url: 'app://bundle.evil/index.html', parent: null },
    { url: 'app://bundle@evil/index.html', parent: null },
    { url: 'app://bundle:99/index.html', parent: null },
    { url: 'app://other/index.html', parent: null },
    { url: 'app://bundle/index.html', parent: { url: 'app://bundle/' } }, // a sub-frame
    { url: 'not a url', parent: null },
  ]
  for (const f of frames) {
    const r = await gateCall('listSources', ok(f), {}, () => api)
    assert.equal(r.ok, false, JSON.stringify(f))
    if (!r.ok) assert.equal(r.error.code, 'E_ARGS')
    assert.notEqual(senderProblem(f), undefined)
  }
  assert.deepEqual(calls, [])
  assert.equal(senderProblem(TOP), undefined)
})

test('a malformed payload gets E_ARGS and reaches no handler', async () => {
  const { api, calls } = counting()
  const bad: [string, unknown][] = [
    ['listSources', { under: 1 }],
    ['listSources', { extra: true }],
    ['listSources', null],
    ['listSources', 'x'],
    ['listSources', [{}]],
    ['openSource', { source: '' }],
    ['openSource', { source: 'a\0b' }],
    ['readVoxels', { volumeId: 'nope' }],
    ['hello', { sneaky: 1 }],
    ['uploadLabels', { volumeId: 'vol_1', dataType: 'uint8', sizeIJK: [2, 2, 2], bytes: [0] }],
    ['nonexistent', {}],
    ['__proto__', {}],
    ['constructor', {}],
  ]
  for (const [m, p] of bad) {
    const r = await gateCall(m, ok(), p, () => api)
    assert.equal(r.ok, false, `${m} ${JSON.stringify(p)}`)
    if (!r.ok) assert.equal(r.error.code, 'E_ARGS')
  }
  assert.deepEqual(calls, [])
  // The same gate lets a well-formed call from the bundle through.
  const r = await gateCall('listSources', ok(), {}, () => api)
  assert.deepEqual(r, { ok: true, value: 'listSources' })
  assert.deepEqual(calls, ['listSources'])
})

test('a handler that throws becomes E_INTERNAL; a window without a session is refused', async () => {
  const api = {
    listSources: async () => {
      throw new Error('boom')
    },
  } as unknown as VolsegApi
  const r = await gateCall('listSources', ok(), {}, () => api)
  assert.equal(!r.ok && r.error.code, 'E_INTERNAL')
  const none = await gateCall('listSources', ok(), {}, () => undefined)
  assert.equal(!none.ok && none.error.code, 'E_ARGS')
})

test('registerGate: one handler per API method, volseg: channels only, one argument', async () => {
  const handlers = new Map<string, (e: unknown, ...a: unknown[]) => Promise<unknown>>()
  const removed: string[] = []
  const ipcMain = {
    handle: (ch: string, fn: (e: unknown, ...a: unknown[]) => Promise<unknown>) =>
      handlers.set(ch, fn),
    removeHandler: (ch: string) => removed.push(ch),
  }
  const { api, calls } = counting()
  const off = registerGate(ipcMain as never, () => api)
  assert.deepEqual([...handlers.keys()].sort(), Object.values(API_CHANNELS).sort())
  assert.ok([...handlers.keys()].every((c) => c.startsWith('volseg:')))
  const h = handlers.get('volseg:listSources')!
  assert.deepEqual(await h(ok(), {}), { ok: true, value: 'listSources' })
  const extra = (await h(ok(), {}, 'extra')) as Result<unknown>
  assert.equal(!extra.ok && extra.error.code, 'E_ARGS')
  const none = (await h(ok())) as Result<unknown>
  assert.equal(!none.ok && none.error.code, 'E_ARGS')
  const spoofed = (await h(
    ok({ url: 'https://evil.example/', parent: null }),
    {},
  )) as Result<unknown>
  assert.equal(spoofed.ok, false)
  assert.deepEqual(calls, ['listSources'])
  off()
  assert.deepEqual(removed.sort(), Object.values(API_CHANNELS).sort())
})

test('the gate in front of a real service session', async () => {
  const data = mkdtempSync(join(tmpdir(), 'volseg-gate-data-'))
  mkdirSync(join(data, 'sub'))
  writeFileSync(join(data, 'sub', 'a.nii.gz'), 'x')
  const runner: JobRunner = {
    start: () => {
      throw new Error('no job expected')
    },
  }
  const service = await createService({
    dataRoot: data,
    outDir: mkdtempSync(join(tmpdir(), 'volseg-gate-out-')),
    runner,
  })
  try {
    const s = service.openSession()
    const r = await gateCall('listSources', ok(), { under: 'sub' }, () => s)
    assert.equal(r.ok, true)
    if (r.ok) {
      const names = (r.value as { entries: { name: string }[] }).entries.map((e) => e.name)
      assert.deepEqual(names, ['a.nii.gz'])
    }
    const spoofed = await gateCall(
      'listSources',
      ok({ url: 'https://evil.example/', parent: null }),
      { under: 'sub' },
      () => s,
    )
    assert.equal(spoofed.ok, false)
  } finally {
    await service.close()
  }
})

test('result bytes leave over the port as an ArrayBuffer, the reply keeps a ticket', async () => {
  const { port1, port2 } = new MessageChannel()
  const got = new Promise<BytesMessage>((r) => port2.once('message', r))
  const out = new BytesOut(port1)
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6]).subarray(1, 5)
  const r = out.detach({ ok: true, value: { volumeId: 'vol_1', byteLength: 4, bytes } })
  assert.deepEqual(r, { ok: true, value: { volumeId: 'vol_1', byteLength: 4, bytesTicket: 1 } })
  const m = await got
  assert.equal(m.ticket, 1)
  assert.ok(m.bytes instanceof ArrayBuffer)
  assert.deepEqual([...new Uint8Array(m.bytes)], [2, 3, 4, 5])
  // No bytes, or a failure: unchanged, nothing posted.
  const plain = { ok: true as const, value: { a: 1 } }
  assert.equal(out.detach(plain), plain)
  const failed = { ok: false as const, error: { code: 'E_ARGS' as const, message: 'x' } }
  assert.equal(out.detach(failed), failed)
  port1.close()
})

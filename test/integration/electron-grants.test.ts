// Desktop file grants end to end below the window: the real IPC gate in front of the real
// service (from dist/, with the real forked job worker), the real GrantTable, and the bytes port.
// A file outside every root opens only through its grant; a path the UI makes up opens nothing.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import type * as CreateService from '../../src/service/create-service.js'
import type * as Serve from '../../src/cli/serve.js'
import type { OpenedVolume } from '../../src/shared/api.js'
import { gateCall, type GateEvent } from '../../electron/main/ipc-gate.js'
import { GrantTable } from '../../electron/main/grants.js'
import { BytesOut, type BytesMessage } from '../../electron/main/voxel-port.js'
import { ROOT, fixture } from '../helpers.js'

const dist = async <T>(...parts: string[]): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', ...parts)).href)) as T

const APP: GateEvent = { senderFrame: { url: 'app://bundle/index.html', parent: null } }
let service: CreateService.VolsegService
let session: CreateService.ServiceSession
const grants = new GrantTable(new Uint8Array(32).fill(3))
const elsewhere = mkdtempSync(join(tmpdir(), 'volseg-chosen-'))

before(async () => {
  const { createService } = await dist<typeof CreateService>('service', 'create-service.js')
  const { forkRunner } = await dist<typeof Serve>('cli', 'serve.js')
  copyFileSync(fixture('ch2.nii.gz'), join(elsewhere, 'brain.nii.gz'))
  service = await createService({
    dataRoot: mkdtempSync(join(tmpdir(), 'volseg-empty-data-')),
    outDir: mkdtempSync(join(tmpdir(), 'volseg-out-')),
    runner: forkRunner,
    grants,
  })
  session = service.openSession()
})
after(async () => {
  await service?.close()
})

test(
  'a granted file outside every root opens, and its voxels come over the port',
  { timeout: 120_000 },
  async () => {
    const g = grants.grant(join(elsewhere, 'brain.nii.gz'), 'file')
    const r = await gateCall('openSource', APP, { source: g.ref }, () => session)
    assert.equal(r.ok, true, JSON.stringify(r))
    const v = (r as { value: OpenedVolume }).value
    assert.equal(v.kind, 'volume')
    assert.equal(v.name, 'brain.nii.gz')
    assert.equal(v.source, g.ref)
    const { port1, port2 } = new MessageChannel()
    const got = new Promise<BytesMessage>((res) => port2.once('message', res))
    const out = new BytesOut(port1)
    const vox = out.detach(
      await gateCall('readVoxels', APP, { volumeId: v.volumeId }, () => session),
    )
    assert.equal(vox.ok, true)
    const header = (vox as { value: { byteLength: number; bytesTicket: number; bytes?: unknown } })
      .value
    assert.equal(header.bytes, undefined, 'no bytes in the reply')
    const m = await got
    assert.equal(m.ticket, header.bytesTicket)
    assert.equal(m.bytes.byteLength, header.byteLength)
    const [i, j, k] = v.geometry.sizeIJK
    assert.ok(header.byteLength >= i * j * k)
    port1.close()
  },
)

test('refs the UI makes up open nothing', { timeout: 60_000 }, async () => {
  for (const source of [
    join(elsewhere, 'brain.nii.gz'),
    '/etc/passwd',
    '../brain.nii.gz',
    `grant:${'0'.repeat(32)}`,
    new GrantTable(new Uint8Array(32).fill(9)).refFor(join(elsewhere, 'brain.nii.gz'), 'file'),
  ]) {
    const r = await gateCall('openSource', APP, { source }, () => session)
    assert.equal(r.ok, false, source)
    if (!r.ok) {
      assert.ok(['E_ARGS', 'E_NOT_FOUND'].includes(r.error.code), `${source}: ${r.error.code}`)
    }
  }
})

test('a granted file that was removed is E_NOT_FOUND', { timeout: 60_000 }, async () => {
  copyFileSync(fixture('ch2.nii.gz'), join(elsewhere, 'gone.nii.gz'))
  const g = grants.grant(join(elsewhere, 'gone.nii.gz'), 'file')
  rmSync(join(elsewhere, 'gone.nii.gz'))
  const r = await gateCall('openSource', APP, { source: g.ref }, () => session)
  assert.equal(!r.ok && r.error.code, 'E_NOT_FOUND')
})

// A big NIfTI is answered before it is read to the end (issue 14), through the real transport:
// `volseg serve` (CLI, WebSocket gate, forked reader) driven by the Node client and the viewer's
// own slab streaming (a partial volume: its middle slab, then the rest in k order). The voxels and figures are checked against the core's openVolume; a file
// that breaks after its middle, and a volume closed while it is read, are handled in words.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { ModelId, OpenedVolume, SourceRef } from '../../src/shared/api.js'
import { EARLY_OPEN_MIN_BYTES } from '../../src/shared/jobs.js'
import { tempFileOwner } from '../../src/shared/file-names.js'
import { openVolume } from '../../src/io/open-volume.js'
import type { NodeClient } from '../../src/serve/ws-node-client.js'
import {
  readFirstSlab,
  streamSlabs,
  type StreamStore,
  type VoxelsLoading,
} from '../../renderer/src/app/voxel-stream.js'
import { ROOT, python, serveAndConnect } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-early-'))
const data = join(tmp, 'data')
const BIG = join(data, 'big.nii.gz')
const SIZE = [256, 256, 160] as const
let served: Awaited<ReturnType<typeof serveAndConnect>> | undefined
let c: NodeClient

before(async () => {
  mkdirSync(data)
  // 20 MiB of int16 with structure in every slice (a ramp, rings, a little noise), qform only.
  python(
    `
import sys, numpy as np, nibabel as nib
i, j, k = np.meshgrid(np.arange(${SIZE[0]}), np.arange(${SIZE[1]}), np.arange(${SIZE[2]}), indexing='ij')
r = np.sqrt((i - 128.0) ** 2 + (j - 120.0) ** 2)
v = (np.sin(r / 6.0) * 400 + k * 5 - 1000 + np.random.default_rng(7).normal(0, 20, r.shape)).astype(np.int16)
img = nib.Nifti1Image(v, np.diag([0.8, 0.8, 1.5, 1.0]))
img.set_qform(img.affine, code=1)
img.set_sform(None, code=0)
nib.save(img, sys.argv[1])
print('null')
`,
    [BIG],
  )
  // The same file broken at 85 % of its bytes: past the early answer, short of the end.
  const whole = readFileSync(BIG)
  writeFileSync(join(data, 'cut.nii.gz'), whole.subarray(0, Math.floor(whole.length * 0.85)))
  served = await serveAndConnect(data, tmp, {
    ...process.env,
    VOLSEG_HOME: join(tmp, 'home'),
    VOLSEG_MODELS: join(ROOT, 'test', 'tiny-model', 'packs'),
  })
  c = served.c
})

after(async () => {
  await served?.stop()
  rmSync(tmp, { recursive: true, force: true })
})

async function open(ref: string): Promise<OpenedVolume> {
  const r = await c.openSource({ source: ref as SourceRef })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.kind, 'volume')
  return r.value as OpenedVolume
}

function storeOf(volume: StreamStore['state']['volume']) {
  const store = {
    state: { volume, voxelsLoading: undefined as VoxelsLoading | undefined },
    set(p: { voxelsLoading?: VoxelsLoading | undefined }): void {
      store.state = { ...store.state, ...p }
    },
  }
  return store
}

/** Handoff files in /dev/shm that this test's server made. */
function serverHandoffs(): string[] {
  return readdirSync('/dev/shm').filter((n) => tempFileOwner(n) === served?.pid)
}

test('a big NIfTI is answered early; the rest streams in, in file order, and matches the core', async () => {
  const nk = SIZE[2]
  assert.ok(SIZE[0] * SIZE[1] * nk * 2 >= EARLY_OPEN_MIN_BYTES, 'big enough to answer early')
  const v = await open('big.nii.gz')
  assert.ok(v.partial, 'answered before the end')
  // Answered once an eighth of the slices are in, well before the last.
  assert.ok(v.partial.slicesK >= nk / 8 && v.partial.slicesK < nk, JSON.stringify(v.partial))
  const start = await readFirstSlab(c, v)
  assert.ok(start.ok, JSON.stringify(start))
  const ks = start.value.rest.map((x) => x.firstK)
  assert.deepEqual(
    ks,
    [...ks].sort((a, b) => a - b),
    'the rest in the order the file is read',
  )
  assert.equal(start.value.ahead.length, 2, 'the first two asked for with the middle slab')
  const volume = { info: v, voxels: start.value.voxels as Int16Array }
  const store = storeOf(volume)
  assert.equal(await streamSlabs(c, store, volume, start.value), undefined)
  assert.equal(store.state.voxelsLoading, undefined, 'every slice in')
  const core = await openVolume(BIG)
  assert.ok(
    Buffer.from(volume.voxels.buffer).equals(
      Buffer.from((core.volume.voxels as Int16Array).buffer),
    ),
    'every voxel as the core reads it',
  )
  const w = await c.awaitWhole({ volumeId: v.volumeId })
  assert.ok(w.ok, JSON.stringify(w))
  assert.equal(w.value.partial, undefined, 'whole')
  assert.deepEqual(w.value.intensityRange, core.intensityRange)
  assert.deepEqual(w.value.geometry, v.geometry)
  // The early figures were over the first slices only: the ramp along k makes them lower.
  assert.ok(v.intensityRange[1] < w.value.intensityRange[1], 'early range over part of it')
  // listHeld answers the whole volume now, and a second awaitWhole answers at once.
  const held = await c.listHeld({})
  assert.ok(held.ok)
  assert.equal(
    held.value.volumes.find((x) => x.volume.volumeId === v.volumeId)?.volume.partial,
    undefined,
  )
  assert.ok((await c.awaitWhole({ volumeId: v.volumeId })).ok)
  assert.ok((await c.closeVolume({ volumeId: v.volumeId })).ok)
  assert.deepEqual(serverHandoffs(), [], 'no voxel file left')
})

test('a file that breaks past its middle: the slices after the break, the whole and a segmentation fail in words', async () => {
  const v = await open('cut.nii.gz')
  assert.ok(v.partial, 'answered before the break was reached')
  const last = await c.readVoxels({
    volumeId: v.volumeId,
    slab: { firstK: SIZE[2] - 1, countK: 1 },
  })
  assert.ok(!last.ok, 'the last slice never arrives')
  assert.equal(last.error.code, 'E_TRUNCATED')
  assert.equal(last.error.file, 'cut.nii.gz', 'named relative to --data')
  assert.match(last.error.message, /the gzip stream ends early/)
  const w = await c.awaitWhole({ volumeId: v.volumeId })
  assert.ok(!w.ok && w.error.code === 'E_TRUNCATED', JSON.stringify(w))
  // The slices before the break are there.
  const first = await c.readVoxels({ volumeId: v.volumeId, slab: { firstK: 0, countK: 4 } })
  assert.ok(first.ok, JSON.stringify(first))
  const seg = await c.startSegmentation({
    volumeId: v.volumeId,
    modelId: 'tiny-unet' as ModelId,
    provider: 'cpu',
  })
  assert.ok(!seg.ok && seg.error.code === 'E_TRUNCATED', JSON.stringify(seg))
  assert.ok((await c.closeVolume({ volumeId: v.volumeId })).ok)
})

test('a volume closed while it is read stops its reader and leaves no voxel file', async () => {
  const v = await open('big.nii.gz')
  assert.ok(v.partial)
  const waiting = c.readVoxels({ volumeId: v.volumeId, slab: { firstK: SIZE[2] - 1, countK: 1 } })
  assert.ok((await c.closeVolume({ volumeId: v.volumeId })).ok)
  const r = await waiting
  // Either the slice was in before the close, or the wait ends in words.
  if (!r.ok) assert.equal(r.error.code, 'E_CANCELLED')
  const until = Date.now() + 10_000
  while (serverHandoffs().length > 0 && Date.now() < until) {
    await new Promise((res) => setTimeout(res, 100))
  }
  assert.deepEqual(serverHandoffs(), [])
  // The service still opens it again, whole this time as before.
  const again = await open('big.nii.gz')
  assert.ok((await c.awaitWhole({ volumeId: again.volumeId })).ok)
  assert.ok((await c.closeVolume({ volumeId: again.volumeId })).ok)
})

// The service through the real transport: `volseg serve` (real CLI, HTTP + WebSocket gate, forked
// job workers), driven by the Node client. Geometry is checked against `volseg info`, saved masks
// are re-read with the io reader.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { isAbsolute, join, relative } from 'node:path'
import { after, before, test } from 'node:test'
import {
  API_VERSION,
  type ApiEvent,
  type JobId,
  type ModelId,
  type OpenedVolume,
  type SourceRef,
  type VolumeId,
} from '../../src/shared/api.js'
import type { VolumeInfo } from '../../src/shared/info.js'
import { openVolume } from '../../src/io/open-volume.js'
import { connectNodeClient, type NodeClient } from '../../src/serve/ws-node-client.js'
import {
  readFirstSlab,
  streamSlabs,
  type StreamStore,
  type VoxelsLoading,
} from '../../renderer/src/app/voxel-stream.js'
import { ROOT, derived, farOriginNrrd, fixture, manifestEntry, python } from '../helpers.js'

const BIN = join(ROOT, 'bin', 'volseg.mjs')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-service-'))
const data = join(tmp, 'data')
// The OS temporary folder of the server: dropped files (openUpload) are kept under it.
const tmpParent = join(tmp, 'tmp')
const env = {
  ...process.env,
  TMPDIR: tmpParent,
  VOLSEG_HOME: join(tmp, 'home'),
  VOLSEG_MODELS: join(ROOT, 'test', 'tiny-model', 'packs'),
}
let proc: ChildProcess
let c: NodeClient

before(async () => {
  mkdirSync(data)
  mkdirSync(tmpParent)
  copyFileSync(fixture('ch2.nii.gz'), join(data, 'ch2.nii.gz'))
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'ch2-crop.nii.gz'))
  cpSync(derived('dicom', 'two-series'), join(data, 'two-series'), { recursive: true })
  // An old-style DICOM file: no preamble, "DICM" or File Meta, and no extension.
  mkdirSync(join(data, 'z-no-preamble'))
  copyFileSync(
    derived('dicom', 'single', 'CT_small_no_meta.dcm'),
    join(data, 'z-no-preamble', 'IM1'),
  )
  // --out is the data folder itself: saving must still never overwrite an input.
  proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data', data, '--out', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  })
  const url = await new Promise<URL>((resolveUrl, reject) => {
    let stdout = ''
    let stderr = ''
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    proc.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /^VolSeg serving at (http:\/\/\S+)$/m.exec(stdout)
      if (m) resolveUrl(new URL(m[1]!))
    })
    proc.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)))
  })
  c = await connectNodeClient(url.href)
})

after(async () => {
  c?.close()
  if (proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    await exited
  }
  rmSync(tmp, { recursive: true, force: true })
})

function info(path: string): VolumeInfo {
  const r = spawnSync(process.execPath, [BIN, 'info', path, '--json'], { encoding: 'utf8', env })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as VolumeInfo
}

async function open(ref: string): Promise<OpenedVolume> {
  const r = await c.openSource({ source: ref as SourceRef })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.kind, 'volume')
  return r.value as OpenedVolume
}

/** Events of one job until its terminal event. */
function jobEvents(): { events: ApiEvent[]; until: (jobId: JobId) => Promise<ApiEvent> } {
  const events: ApiEvent[] = []
  const waiters: (() => void)[] = []
  c.onEvent((e) => {
    events.push(e)
    for (const w of waiters) w()
  })
  const until = (jobId: JobId): Promise<ApiEvent> =>
    new Promise((resolveEnd) => {
      const check = (): void => {
        const end = events.find(
          (e) => e.jobId === jobId && /^job:(done|failed|cancelled)$/.test(e.type),
        )
        if (end) resolveEnd(end)
      }
      waiters.push(check)
      check()
    })
  return { events, until }
}

test('hello, listSources and listModels', async () => {
  const h = await c.hello({})
  assert.ok(h.ok)
  assert.equal(h.value.apiVersion, API_VERSION)
  assert.equal(h.value.sampleSource, 'ch2.nii.gz')
  assert.ok(h.value.providers.some((p) => p.id === 'cpu' && p.available))
  const l = await c.listSources({})
  assert.ok(l.ok)
  const kinds = Object.fromEntries(l.value.entries.map((e) => [e.name, e.kind]))
  assert.equal(kinds['two-series'], 'dicom-folder')
  assert.equal(kinds['z-no-preamble'], 'dicom-folder', 'DICOM without the Part 10 preamble')
  assert.equal(kinds['ch2.nii.gz'], 'file')
  assert.equal(l.value.entries[0]!.name, 'two-series', 'folders first')
  const sub = await c.listSources({ under: 'two-series' as SourceRef })
  assert.ok(sub.ok)
  assert.equal(sub.value.crumbs.length, 2)
  assert.equal(sub.value.entries.length, 50)
  const m = await c.listModels({})
  assert.ok(m.ok)
  const tiny = m.value.find((x) => x.id === 'tiny-unet')
  assert.ok(tiny, m.value.map((x) => x.id).join(','))
  assert.deepEqual(tiny.patchSize, [32, 32, 32])
  assert.deepEqual(
    tiny.labels.map((x) => x.name),
    ['background', 'a', 'b'],
  )
})

test('openSource ch2: geometry equals volseg info; readVoxels sends every byte', async () => {
  const v = await open('ch2.nii.gz')
  const want = info(fixture('ch2.nii.gz'))
  assert.deepEqual(v.geometry.sizeIJK, [181, 217, 181])
  assert.deepEqual(v.geometry.sizeIJK, want.sizeIJK)
  assert.deepEqual(v.geometry.spacingMm, want.spacingMm)
  assert.deepEqual(v.geometry.originLPS, want.originLPS)
  assert.deepEqual(v.geometry.directionLPS, want.directionLPS)
  assert.equal(v.dataType, 'uint8')
  assert.deepEqual(v.intensityRange, want.intensityRange)
  assert.ok(v.percentiles.p0_5 <= v.percentiles.p99_5)
  const r = await c.readVoxels({ volumeId: v.volumeId })
  assert.ok(r.ok)
  assert.equal(r.value.byteLength, 181 * 217 * 181)
  assert.equal(r.value.bytes.byteLength, 181 * 217 * 181)
  const direct = await openVolume(fixture('ch2.nii.gz'))
  const src = direct.volume.voxels as Uint8Array
  assert.ok(Buffer.from(r.value.bytes).equals(Buffer.from(src)), 'voxels identical')
  assert.ok((await c.closeVolume({ volumeId: v.volumeId })).ok)
  const gone = await c.readVoxels({ volumeId: v.volumeId })
  assert.ok(!gone.ok && gone.error.code === 'E_ARGS')
})

test('readVoxels in slabs: the viewer’s stream rebuilds every byte, middle slab first', async () => {
  // The viewer's own code (renderer/src/app/voxel-stream.ts) over the real socket, writing into
  // a plain object in place of the page's store; every progress update is recorded.
  const seen: number[] = []
  const storeOf = (volume: StreamStore['state']['volume']) => {
    const store = {
      state: { volume, voxelsLoading: undefined as VoxelsLoading | undefined },
      set(p: { voxelsLoading?: VoxelsLoading | undefined }): void {
        store.state = { ...store.state, ...p }
        if (p.voxelsLoading) seen.push(p.voxelsLoading.doneK)
      },
    }
    return store
  }
  const v = await open('ch2.nii.gz')
  const slice = 181 * 217
  // a first slab of 20 slices (k 80–99, holding k 90), then slabs of up to 40 outwards
  const start = await readFirstSlab(c, v, 20 * slice, 40 * slice)
  assert.ok(start.ok, JSON.stringify(start))
  assert.deepEqual(
    start.value.loading && [start.value.loading.doneK, start.value.loading.totalK],
    [20, 181],
  )
  assert.deepEqual(
    start.value.rest.map((s) => [s.firstK, s.countK]),
    [
      [100, 40],
      [40, 40],
      [140, 40],
      [0, 40],
      [180, 1],
    ],
  )
  assert.equal(start.value.loadedK.indexOf(1), 80)
  const volume = { info: v, voxels: start.value.voxels }
  const store = storeOf(volume)
  assert.equal(await streamSlabs(c, store, volume, start.value), undefined)
  assert.equal(store.state.voxelsLoading, undefined, 'loaded')
  assert.deepEqual(seen, [60, 100, 140, 180], 'progress after each slab')
  assert.ok(start.value.loadedK.every((x) => x === 1))
  const direct = await openVolume(fixture('ch2.nii.gz'))
  assert.ok(
    Buffer.from(volume.voxels.buffer).equals(
      Buffer.from((direct.volume.voxels as Uint8Array).buffer),
    ),
    'every byte in its place',
  )
  // a slab past the last slice is refused in words; so is one of another connection's volume
  const past = await c.readVoxels({ volumeId: v.volumeId, slab: { firstK: 180, countK: 2 } })
  assert.ok(!past.ok && past.error.code === 'E_ARGS', JSON.stringify(past))
  assert.match(past.error.message, /outside/)
  assert.ok((await c.closeVolume({ volumeId: v.volumeId })).ok)
  // a stream whose volume closed under it reports the failed read, and stops
  const again = await open('ch2.nii.gz')
  const s2 = await readFirstSlab(c, again, 20 * slice)
  assert.ok(s2.ok)
  const vol2 = { info: again, voxels: s2.value.voxels }
  const store2 = storeOf(vol2)
  store2.set({ voxelsLoading: s2.value.loading })
  assert.ok((await c.closeVolume({ volumeId: again.volumeId })).ok)
  const failed = await streamSlabs(c, store2, vol2, s2.value)
  assert.ok(failed && !failed.ok && failed.error.code === 'E_ARGS')
  assert.equal(store2.state.voxelsLoading, undefined)
})

test('a two-series DICOM folder asks which series; a key opens it', async () => {
  const r = await c.openSource({ source: 'two-series' as SourceRef })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.kind, 'series-choice')
  if (r.value.kind !== 'series-choice') return
  assert.equal(r.value.series.length, 2)
  const sizes = r.value.series.map((s) => [...s.sizeIJK])
  assert.deepEqual(sizes, [
    [140, 160, 40],
    [100, 120, 10],
  ])
  const second = r.value.series[1]!
  const o = await c.openSource({ source: 'two-series' as SourceRef, seriesKey: second.key })
  assert.ok(o.ok, JSON.stringify(o))
  const v = o.value as OpenedVolume
  assert.deepEqual(v.geometry.sizeIJK, [100, 120, 10])
  assert.equal(v.modality, 'MR')
  const bad = await c.openSource({ source: 'two-series' as SourceRef, seriesKey: 'nope' })
  assert.ok(!bad.ok && bad.error.code === 'E_ARGS')
  assert.doesNotMatch(JSON.stringify(bad), new RegExp(tmp), 'no absolute path leaks')
  await c.closeVolume({ volumeId: v.volumeId })
})

test('segment with tiny-unet: plan, progress, done; labels and uncertainty; save verified', async () => {
  const { events, until } = jobEvents()
  const v = await open('ch2-crop.nii.gz')
  const start = await c.startSegmentation({
    volumeId: v.volumeId,
    modelId: 'tiny-unet' as ModelId,
    provider: 'cpu',
    uncertainty: true,
  })
  assert.ok(start.ok, JSON.stringify(start))
  const jobId = start.value.jobId
  const end = await until(jobId)
  assert.equal(end.type, 'job:done', JSON.stringify(end))
  const mine = events.filter((e) => e.jobId === jobId)
  const plan = mine.find((e) => e.type === 'job:plan')
  assert.ok(plan && plan.type === 'job:plan' && plan.tiles > 0)
  assert.deepEqual(plan.patch, [1, 1, 32, 32, 32])
  const progress = mine.filter((e) => e.type === 'job:progress')
  assert.ok(progress.some((e) => e.type === 'job:progress' && e.stage === 'inference'))
  assert.ok(progress.some((e) => e.type === 'job:progress' && e.etaSeconds !== undefined))
  assert.equal(mine.at(-1)!.type, 'job:done', 'done is the last event')
  const n = 140 * 160 * 40
  const l = await c.readLabels({ jobId })
  assert.ok(l.ok, JSON.stringify(l))
  assert.equal(l.value.dataType, 'uint8')
  assert.equal(l.value.byteLength, n)
  assert.equal(l.value.bytes.byteLength, n)
  assert.equal(l.value.run?.modelId, 'tiny-unet')
  assert.equal(l.value.run?.provider, 'cpu')
  const total = l.value.labels.reduce((a, s) => a + s.voxels, 0)
  assert.equal(total, n, 'per-label voxels add up to the grid')
  for (const s of l.value.labels) assert.ok(Math.abs(s.volumeMl - s.voxels / 1000) < 1e-9)
  const u = await c.readUncertainty({ labelsId: l.value.labelsId })
  assert.ok(u.ok, JSON.stringify(u))
  assert.equal(u.value.byteLength, n * 4)
  assert.equal(u.value.kind, 'entropy')

  // Save twice: the second gets a new name; neither replaces an input.
  const inputBefore = statSync(join(data, 'ch2-crop.nii.gz')).mtimeMs
  const s1 = await c.saveMask({
    volumeId: v.volumeId,
    labelsId: l.value.labelsId,
    name: 'crop_seg',
  })
  assert.ok(s1.ok, JSON.stringify(s1))
  assert.equal(s1.value.path, 'crop_seg.nii.gz')
  // The figures of the re-read, checked against what the test itself knows of the labels.
  const ver = s1.value.verification
  assert.equal(ver.reread, 'nifti')
  assert.deepEqual(ver.sizeIJK, [140, 160, 40])
  assert.equal(ver.voxelsCompared, n)
  assert.equal(ver.voxelsEqual, n)
  assert.ok(ver.geometryMaxErrorMm >= 0 && ver.geometryMaxErrorMm <= ver.geometryToleranceMm)
  assert.equal(ver.voxelSha256, createHash('sha256').update(l.value.bytes).digest('hex'))
  const s2 = await c.saveMask({
    volumeId: v.volumeId,
    labelsId: l.value.labelsId,
    name: 'crop_seg.nii.gz',
  })
  assert.ok(s2.ok)
  assert.equal(s2.value.path, 'crop_seg-1.nii.gz')
  const onInput = await c.saveMask({
    volumeId: v.volumeId,
    labelsId: l.value.labelsId,
    name: 'ch2-crop.nii.gz',
  })
  assert.ok(onInput.ok)
  assert.equal(onInput.value.path, 'ch2-crop-1.nii.gz', 'an existing input is never overwritten')
  assert.equal(statSync(join(data, 'ch2-crop.nii.gz')).mtimeMs, inputBefore)
  const back = await openVolume(join(data, 'crop_seg.nii.gz'))
  const src = await openVolume(join(data, 'ch2-crop.nii.gz'))
  assert.deepEqual(back.volume.sizeIJK, src.volume.sizeIJK)
  assert.deepEqual(back.volume.spacingMm, src.volume.spacingMm)
  for (let k = 0; k < 3; k++) {
    assert.ok(Math.abs(back.volume.originLPS[k]! - src.volume.originLPS[k]!) < 1e-4)
  }
  for (let k = 0; k < 9; k++) {
    assert.ok(Math.abs(back.volume.directionLPS[k]! - src.volume.directionLPS[k]!) < 1e-6)
  }
  assert.ok(Buffer.from(back.volume.voxels as Uint8Array).equals(Buffer.from(l.value.bytes)))
  assert.equal((await readFile(join(data, 'crop_seg.nii.gz'))).length, s1.value.bytes)

  // An edited upload is counted and saved like a result.
  const edited = new Uint8Array(n)
  edited.fill(7, 0, 1000)
  const up = await c.uploadLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: [140, 160, 40],
    bytes: edited,
  })
  assert.ok(up.ok, JSON.stringify(up))
  assert.deepEqual(
    up.value.labels.map((s) => [s.value, s.voxels]),
    [
      [0, n - 1000],
      [7, 1000],
    ],
  )
  const s3 = await c.saveMask({ volumeId: v.volumeId, labelsId: up.value.labelsId, name: 'edited' })
  assert.ok(s3.ok, JSON.stringify(s3))
  assert.equal(s3.value.verification.voxelSha256, createHash('sha256').update(edited).digest('hex'))
  const wrongGrid = await c.uploadLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: [10, 10, 10],
    bytes: new Uint8Array(1000),
  })
  assert.ok(!wrongGrid.ok && wrongGrid.error.code === 'E_ARGS')
  await c.closeVolume({ volumeId: v.volumeId })
})

test('a save whose re-read does not match is E_VERIFY, and nothing is written', async () => {
  // An NRRD origin at 12345.678 mm is exact in its float64 text header; the NIfTI-1 mask stores
  // float32 (12345.677734375), 2.7e-4 mm off: more than the re-read allows.
  const size = [6, 5, 4] as const
  const n = size[0] * size[1] * size[2]
  const voxels = Uint8Array.from({ length: n }, (_, i) => i % 7)
  writeFileSync(join(data, 'far.nrrd'), farOriginNrrd(size, voxels))
  const v = await open('far.nrrd')
  const up = await c.uploadLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: [...size],
    bytes: voxels,
  })
  assert.ok(up.ok, JSON.stringify(up))
  const before = readdirSync(data).sort()
  const r = await c.saveMask({ volumeId: v.volumeId, labelsId: up.value.labelsId, name: 'far' })
  assert.ok(!r.ok, JSON.stringify(r))
  assert.equal(r.error.code, 'E_VERIFY')
  assert.match(r.error.message, /affine differs by 2\.66e-4 mm/)
  assert.equal(r.error.file, 'far.nii.gz')
  assert.deepEqual(readdirSync(data).sort(), before, 'no mask and no temporary file left')
  await c.closeVolume({ volumeId: v.volumeId })
})

test('cancel: start on ch2, cancel, job:cancelled', async () => {
  const { events, until } = jobEvents()
  const v = await open('ch2.nii.gz')
  const start = await c.startSegmentation({
    volumeId: v.volumeId,
    modelId: 'tiny-unet' as ModelId,
    provider: 'cpu',
    tta: true,
  })
  assert.ok(start.ok)
  const jobId = start.value.jobId
  await new Promise<void>((r) => {
    const t = setInterval(() => {
      if (events.some((e) => e.jobId === jobId && e.type === 'job:plan')) {
        clearInterval(t)
        r()
      }
    }, 20)
  })
  assert.ok((await c.cancelJob({ jobId })).ok)
  const end = await until(jobId)
  assert.equal(end.type, 'job:cancelled')
  const l = await c.readLabels({ jobId })
  assert.ok(!l.ok && l.error.code === 'E_CANCELLED')
  const unknownModel = await c.startSegmentation({
    volumeId: v.volumeId,
    modelId: 'no-such-model' as ModelId,
  })
  assert.ok(!unknownModel.ok && unknownModel.error.code === 'E_MODEL')
  const unknownVolume = await c.startSegmentation({
    volumeId: 'vol_0' as VolumeId,
    modelId: 'tiny-unet' as ModelId,
  })
  assert.ok(!unknownVolume.ok && unknownVolume.error.code === 'E_ARGS')
  await c.closeVolume({ volumeId: v.volumeId })
  assert.ok(existsSync(join(data, 'ch2.nii.gz')))
})

/** Files under `dir`, recursively (absolute paths). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
}

test('openUpload: a dropped ch2.nii.gz opens as openSource does, kept outside --data; saveMask works', async () => {
  const bytes = new Uint8Array(await readFile(fixture('ch2.nii.gz')))
  const want = await open('ch2.nii.gz')
  const r = await c.openUpload({ name: 'dropped ch2.nii.gz', bytes })
  assert.ok(r.ok, JSON.stringify(r))
  const v = r.value
  assert.equal(v.kind, 'volume')
  assert.equal(v.name, 'dropped ch2.nii.gz')
  assert.deepEqual(v.geometry, want.geometry)
  assert.equal(v.dataType, want.dataType)
  assert.deepEqual(v.intensityRange, want.intensityRange)
  assert.deepEqual(v.percentiles, want.percentiles)
  const a = await c.readVoxels({ volumeId: v.volumeId })
  const b = await c.readVoxels({ volumeId: want.volumeId })
  assert.ok(a.ok && b.ok)
  assert.ok(Buffer.from(a.value.bytes).equals(Buffer.from(b.value.bytes)), 'voxels identical')
  await c.closeVolume({ volumeId: want.volumeId })

  // The copy lives in one private folder under the server's temporary folder, not under --data.
  const folders = readdirSync(tmpParent).filter((n) => n.startsWith('volseg-uploads-'))
  assert.equal(folders.length, 1, folders.join(', '))
  const folder = join(tmpParent, folders[0]!)
  assert.equal(statSync(folder).mode & 0o777, 0o700)
  const rel = relative(data, folder)
  assert.ok(rel.startsWith('..') || isAbsolute(rel), `upload folder ${folder} is under --data`)
  const copies = filesUnder(folder)
  assert.equal(copies.length, 1, copies.join(', '))
  assert.ok(copies[0]!.endsWith('dropped ch2.nii.gz'))
  assert.ok((await readFile(copies[0]!)).equals(bytes), 'the copy holds the dropped bytes')
  const listed = await c.listSources({})
  assert.ok(listed.ok)
  assert.ok(!listed.value.entries.some((e) => e.name.startsWith('volseg-uploads')))

  // Its masks are saved under --out like any other.
  const n = 181 * 217 * 181
  const labels = new Uint8Array(n)
  labels.fill(1, 0, 5000)
  const up = await c.uploadLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: [181, 217, 181],
    bytes: labels,
  })
  assert.ok(up.ok, JSON.stringify(up))
  const saved = await c.saveMask({
    volumeId: v.volumeId,
    labelsId: up.value.labelsId,
    name: 'dropped-upload_seg.nii.gz',
  })
  assert.ok(saved.ok, JSON.stringify(saved))
  assert.equal(saved.value.path, 'dropped-upload_seg.nii.gz')
  const back = await openVolume(join(data, saved.value.path))
  assert.deepEqual(back.volume.sizeIJK, v.geometry.sizeIJK)
  assert.equal(filesUnder(folder).length, 1, 'saving wrote nothing into the upload folder')

  // Closing the volume removes the copy.
  assert.ok((await c.closeVolume({ volumeId: v.volumeId })).ok)
  assert.deepEqual(filesUnder(folder), [])
})

test('openUpload refuses other formats and broken files in words naming the file', async () => {
  const bytes = new Uint8Array(await readFile(fixture('ch2.nii.gz')))
  const head = bytes.subarray(0, 4096)
  const refused: [string, Uint8Array, RegExp][] = [
    [
      'scan.dcm',
      head,
      /^scan\.dcm: single DICOM files can't be dropped; put the folder under --data/,
    ],
    ['IM00001', head, /^IM00001: a file without an extension can't be dropped/],
    [
      'notes.txt',
      head,
      /^notes\.txt: only NIfTI \(\.nii, \.nii\.gz\), NRRD \(\.nrrd\) and MetaImage/,
    ],
    ['scan.nhdr', head, /^scan\.nhdr: this header keeps its voxels in a separate file/],
    ['scan.mhd', head, /^scan\.mhd: this header keeps its voxels in a separate file/],
    [
      'evil.nrrd',
      new TextEncoder().encode(
        'NRRD0004\ntype: uint8\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: /etc/passwd\n\n',
      ),
      /^evil\.nrrd: this NRRD header points to a separate data file/,
    ],
    [
      'evil.mha',
      new TextEncoder().encode(
        'ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementDataFile = ../../etc/passwd\n',
      ),
      /^evil\.mha: this MetaImage header points to a separate data file/,
    ],
  ]
  for (const [name, b, why] of refused) {
    const r = await c.openUpload({ name, bytes: b })
    assert.ok(!r.ok, name)
    assert.equal(r.error.code, 'E_UNSUPPORTED', `${name}: ${r.error.message}`)
    assert.equal(r.error.file, name)
    assert.match(r.error.message, why)
  }
  // A truncated gzip stream and a file that is no image: the reader's reason, naming the file.
  const broken: [string, Uint8Array, string, RegExp][] = [
    ['cut.nii.gz', bytes.subarray(0, bytes.length >> 1), 'E_TRUNCATED', /truncated/],
    [
      'junk.nii',
      new TextEncoder().encode('not an image at all\n'.repeat(40)),
      'E_UNKNOWN_FORMAT',
      /not a NIfTI/,
    ],
  ]
  for (const [name, b, code, why] of broken) {
    const r = await c.openUpload({ name, bytes: b })
    assert.ok(!r.ok, name)
    assert.equal(r.error.code, code, r.error.message)
    assert.equal(r.error.file, name)
    assert.ok(r.error.message.startsWith(`${name}: `), r.error.message)
    assert.match(r.error.message, why)
    assert.doesNotMatch(r.error.message, new RegExp(tmp), 'no absolute path leaks')
    assert.doesNotMatch(r.error.message, /volseg-uploads-/, 'the upload folder is not shown')
  }
  const folders = readdirSync(tmpParent).filter((n) => n.startsWith('volseg-uploads-'))
  for (const f of folders) assert.deepEqual(filesUnder(join(tmpParent, f)), [], 'no copy is left')
})

test('SeriesChoice.warnings: empty for two good series; a series with a missing slice says so', async () => {
  const good = await c.openSource({ source: 'two-series' as SourceRef })
  assert.ok(good.ok && good.value.kind === 'series-choice', JSON.stringify(good))
  for (const s of good.value.series) assert.deepEqual(s.warnings, [], s.key)
  // The same folder without one slice of the 40-slice series (from the manifest's sorted list).
  cpSync(derived('dicom', 'two-series'), join(data, 'two-series-gap'), { recursive: true })
  const a = (manifestEntry('dicom/two-series').series as { files_sorted: string[] }[])[0]!
  const dropped = a.files_sorted[20]!.split('/').at(-1)!
  rmSync(join(data, 'two-series-gap', dropped))
  const r = await c.openSource({ source: 'two-series-gap' as SourceRef })
  assert.ok(r.ok && r.value.kind === 'series-choice', JSON.stringify(r))
  const [big, small] = r.value.series
  assert.deepEqual(big!.sizeIJK, [140, 160, 39])
  assert.equal(big!.warnings.length, 1, JSON.stringify(big!.warnings))
  assert.match(
    big!.warnings[0]!,
    /^cannot be opened: non-uniform slice spacing: 2 mm between slices 20 and 21 \(median 1 mm\); a slice may be missing$/,
  )
  assert.deepEqual(small!.warnings, [])
  assert.doesNotMatch(JSON.stringify(r), new RegExp(tmp), 'no absolute path leaks')
})

/** Opens `ref`, segments it with the threshold pack, and returns the result's warnings. */
async function warningsOf(ref: string): Promise<{ v: OpenedVolume; warnings: readonly string[] }> {
  const { until } = jobEvents()
  const v = await open(ref)
  const start = await c.startSegmentation({
    volumeId: v.volumeId,
    modelId: 'threshold' as ModelId,
    provider: 'cpu',
  })
  assert.ok(start.ok, JSON.stringify(start))
  const end = await until(start.value.jobId)
  assert.equal(end.type, 'job:done', JSON.stringify(end))
  const l = await c.readLabels({ jobId: start.value.jobId })
  assert.ok(l.ok, JSON.stringify(l))
  if (end.type === 'job:done') assert.deepEqual(end.labels.warnings, l.value.warnings)
  await c.closeVolume({ volumeId: v.volumeId })
  return { v, warnings: l.value.warnings }
}

test('LabelsHeader.warnings: empty for MR; a CT (NIfTI by its HU, DICOM by Modality) runs with a warning; an empty mask says so', async () => {
  assert.deepEqual((await warningsOf('ch2-crop.nii.gz')).warnings, [])
  copyFileSync(derived('ct-synthetic-3mm.nii.gz'), join(data, 'ct.nii.gz'))
  const ct = await warningsOf('ct.nii.gz')
  assert.equal(ct.v.modality, undefined)
  assert.equal(ct.warnings.length, 1, JSON.stringify(ct.warnings))
  assert.match(
    ct.warnings[0]!,
    /^model threshold expects MR, input looks like CT \(\d+ % of voxels ≤ −500, \d+ % in −200\.\.200, integer range -1024\.\.\d+\): the result may be meaningless$/,
  )
  cpSync(derived('dicom', 'ct-synthetic'), join(data, 'ct-series'), { recursive: true })
  const series = await warningsOf('ct-series')
  assert.equal(series.v.modality, 'CT')
  assert.deepEqual(series.warnings, [
    'model threshold expects MR, input is CT (DICOM Modality): the result may be meaningless',
  ])
  // A flat image: nothing is above its mean.
  python<null>(
    `import sys, numpy as np, nibabel as nib
nib.Nifti1Image(np.full((24, 24, 24), 100, np.uint8), np.eye(4)).to_filename(sys.argv[1])
print("null")`,
    [join(data, 'flat.nii.gz')],
  )
  assert.deepEqual((await warningsOf('flat.nii.gz')).warnings, [
    'the mask is empty: model threshold labelled no voxel as above-mean',
  ])
})

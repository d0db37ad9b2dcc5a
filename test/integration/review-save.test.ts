// Issue 14, review states saved with the mask: `saveMask` with a review writes
// `<final stem>.review.json` beside the mask (atomically, never over a file, same stem), and
// refuses a review that leaves out a label present in the map. Real files, real forked workers,
// the real service (built `dist/`, as the CLI runs).
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, test } from 'node:test'
import type { OpenedVolume, ReviewRecord, SourceRef, VolumeId } from '../../src/shared/api.js'
import type { ReviewFile } from '../../src/shared/review-file.js'
import type * as CreateService from '../../src/service/create-service.js'
import type * as Serve from '../../src/cli/serve.js'
import { openVolume } from '../../src/io/open-volume.js'
import { ROOT, derived } from '../helpers.js'

const dist = async <T>(...parts: string[]): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', ...parts)).href)) as T

const tmp = mkdtempSync(join(tmpdir(), 'volseg-review-save-'))
const data = join(tmp, 'data')
const out = join(tmp, 'out')
let service: CreateService.VolsegService
let api: CreateService.ServiceSession

before(async () => {
  mkdirSync(data)
  mkdirSync(out)
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'ch2-crop.nii.gz'))
  const { createService } = await dist<typeof CreateService>('service', 'create-service.js')
  const { forkRunner } = await dist<typeof Serve>('cli', 'serve.js')
  service = await createService({ dataRoot: data, outDir: out, runner: forkRunner })
  api = service.openSession()
})

after(async () => {
  await service?.close()
  rmSync(tmp, { recursive: true, force: true })
})

/** ch2-crop opened, with a label map uploaded: label 1 in the first 100 voxels, 3 in the next 20. */
async function openWithLabels(): Promise<{ volumeId: VolumeId; labelsId: string }> {
  const opened = await api.openSource({ source: 'ch2-crop.nii.gz' as SourceRef })
  assert.ok(opened.ok, JSON.stringify(opened))
  const v = opened.value as OpenedVolume
  const [i, j, k] = v.geometry.sizeIJK
  const bytes = new Uint8Array(i * j * k)
  bytes.fill(1, 0, 100)
  bytes.fill(3, 100, 120)
  const labels = await api.uploadLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: v.geometry.sizeIJK,
    bytes,
  })
  assert.ok(labels.ok, JSON.stringify(labels))
  return { volumeId: v.volumeId, labelsId: labels.value.labelsId }
}

const review: ReviewRecord = {
  labels: [
    {
      value: 3,
      name: 'lesion',
      colourRGB: [255, 0, 0],
      status: 'rejected',
      reason: 'spills into bone',
    },
    { value: 1, name: 'brain', colourRGB: [0, 200, 0], status: 'accepted' },
    { value: 7, name: 'unused', colourRGB: [0, 0, 255], status: 'pending' },
  ],
  updatedAt: '2026-12-04T00:00:00.000Z',
}

test('saveMask with a review writes mask and <stem>.review.json; a second save numbers both', async () => {
  const { volumeId, labelsId } = await openWithLabels()
  const r1 = await api.saveMask({
    volumeId,
    labelsId: labelsId as never,
    name: 'ch2_seg.nii.gz',
    review,
  })
  assert.ok(r1.ok, JSON.stringify(r1))
  assert.equal(r1.value.path, 'ch2_seg.nii.gz')
  assert.equal(r1.value.reviewPath, 'ch2_seg.review.json')
  const f1 = JSON.parse(readFileSync(join(out, 'ch2_seg.review.json'), 'utf8')) as ReviewFile
  assert.deepEqual(f1.review, review)
  assert.equal(f1.format, 'volseg-review')
  assert.equal(f1.mask, 'ch2_seg.nii.gz')
  assert.equal(f1.source, 'ch2-crop.nii.gz')
  assert.deepEqual(
    f1.labelVoxels.map((x) => [x.value, x.voxels]),
    [
      [1, 100],
      [3, 20],
    ],
  )
  assert.equal(f1.modelRun, undefined, 'an uploaded map has no model run')
  assert.ok(Math.abs(Date.parse(f1.savedAt) - Date.now()) < 60_000, f1.savedAt)
  // The mask itself, re-read by the core's reader, holds the same counts as the review says.
  const mask = await openVolume([join(out, 'ch2_seg.nii.gz')])
  let ones = 0
  let threes = 0
  for (const x of mask.volume.voxels) {
    if (x === 1) ones++
    else if (x === 3) threes++
  }
  assert.deepEqual([ones, threes], [100, 20])
  assert.deepEqual(f1.geometry.sizeIJK, mask.volume.sizeIJK)

  const r2 = await api.saveMask({
    volumeId,
    labelsId: labelsId as never,
    name: 'ch2_seg.nii.gz',
    review,
  })
  assert.ok(r2.ok, JSON.stringify(r2))
  assert.equal(r2.value.path, 'ch2_seg-1.nii.gz')
  assert.equal(r2.value.reviewPath, 'ch2_seg-1.review.json')
  const f2 = JSON.parse(readFileSync(join(out, 'ch2_seg-1.review.json'), 'utf8')) as ReviewFile
  assert.equal(f2.mask, 'ch2_seg-1.nii.gz')
  assert.deepEqual(f2.review, review)
  // The first pair is untouched by the second save.
  assert.equal(
    (JSON.parse(readFileSync(join(out, 'ch2_seg.review.json'), 'utf8')) as ReviewFile).mask,
    'ch2_seg.nii.gz',
  )
})

test('a stale review file takes its stem: the save moves on to the next number for both', async () => {
  const { volumeId, labelsId } = await openWithLabels()
  copyFileSync(join(out, 'ch2_seg.review.json'), join(out, 'stale.review.json'))
  const before = readFileSync(join(out, 'stale.review.json'))
  const r = await api.saveMask({
    volumeId,
    labelsId: labelsId as never,
    name: 'stale.nii.gz',
    review,
  })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.path, 'stale-1.nii.gz')
  assert.equal(r.value.reviewPath, 'stale-1.review.json')
  assert.ok(!existsSync(join(out, 'stale.nii.gz')))
  assert.ok(readFileSync(join(out, 'stale.review.json')).equals(before), 'stale file untouched')
})

test('a review that leaves out a label present in the map is refused, and nothing is written', async () => {
  const { volumeId, labelsId } = await openWithLabels()
  const partial: ReviewRecord = { ...review, labels: review.labels.filter((l) => l.value !== 3) }
  const r = await api.saveMask({
    volumeId,
    labelsId: labelsId as never,
    name: 'partial.nii.gz',
    review: partial,
  })
  assert.ok(!r.ok)
  assert.equal(r.error.code, 'E_ARGS')
  assert.match(r.error.message, /partial\.nii\.gz.*label value 3 present in the label map/)
  assert.ok(!existsSync(join(out, 'partial.nii.gz')))
  assert.ok(!existsSync(join(out, 'partial.review.json')))
})

test('saveMask without a review writes no review file', async () => {
  const { volumeId, labelsId } = await openWithLabels()
  const r = await api.saveMask({ volumeId, labelsId: labelsId as never, name: 'plain.nii.gz' })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.reviewPath, undefined)
  assert.ok(!existsSync(join(out, 'plain.review.json')))
})

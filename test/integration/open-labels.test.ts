// Issue 14, "a saved mask cannot be opened back as labels for review": `openLabels` reads a mask
// under --out (or --data) as the label map of an open volume, refuses one on another grid or one
// that is not labels, and brings back the review saved beside it. Masks written by the real
// service and by nibabel (an oracle someone else wrote); real forked workers, built `dist/`.
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, test } from 'node:test'
import type {
  LabelsId,
  OpenedVolume,
  ReviewRecord,
  SourceRef,
  VolumeId,
} from '../../src/shared/api.js'
import type * as CreateService from '../../src/service/create-service.js'
import type * as Serve from '../../src/cli/serve.js'
import { ROOT, derived, python } from '../helpers.js'

const dist = async <T>(...parts: string[]): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', ...parts)).href)) as T

const tmp = mkdtempSync(join(tmpdir(), 'volseg-open-labels-'))
const data = join(tmp, 'data')
const out = join(tmp, 'out')
let service: CreateService.VolsegService
let api: CreateService.ServiceSession
let volumeId: VolumeId
let uploaded: Uint8Array

const review: ReviewRecord = {
  labels: [
    { value: 3, name: 'lesion', colourRGB: [255, 0, 0], status: 'rejected', reason: 'in bone' },
    { value: 1, name: 'brain', colourRGB: [0, 200, 0], status: 'accepted' },
  ],
  updatedAt: '2026-12-04T00:00:00.000Z',
}

/** Writes with nibabel a copy of `src` (NIfTI) with its data replaced as `expr` says. */
function nibabelCopy(src: string, dst: string, expr: string, dtype: string): void {
  python<null>(
    `import sys, json, numpy as np, nibabel as nib
img = nib.load(sys.argv[1])
a = np.asanyarray(img.dataobj)
b = (${expr}).astype(np.${dtype})
h = img.header.copy(); h.set_data_dtype(np.${dtype}); h['scl_slope'] = 1; h['scl_inter'] = 0
nib.save(nib.Nifti1Image(b, img.affine, h), sys.argv[2])
print('null')`,
    [src, dst],
  )
}

before(async () => {
  mkdirSync(data)
  mkdirSync(out)
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'ch2-crop.nii.gz'))
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'ch2-crop-copy.nii.gz'))
  const { createService } = await dist<typeof CreateService>('service', 'create-service.js')
  const { forkRunner } = await dist<typeof Serve>('cli', 'serve.js')
  service = await createService({ dataRoot: data, outDir: out, runner: forkRunner })
  api = service.openSession()
  const opened = await api.openSource({ source: 'ch2-crop.nii.gz' as SourceRef })
  assert.ok(opened.ok, JSON.stringify(opened))
  const v = opened.value as OpenedVolume
  volumeId = v.volumeId
  const [i, j, k] = v.geometry.sizeIJK
  uploaded = new Uint8Array(i * j * k)
  uploaded.fill(1, 1000, 1100)
  uploaded.fill(3, 5000, 5020)
  const up = await api.uploadLabels({
    volumeId,
    dataType: 'uint8',
    sizeIJK: v.geometry.sizeIJK,
    bytes: uploaded,
  })
  assert.ok(up.ok, JSON.stringify(up))
  const saved = await api.saveMask({
    volumeId,
    labelsId: up.value.labelsId,
    name: 'ch2-crop_seg.nii.gz',
    review,
  })
  assert.ok(saved.ok, JSON.stringify(saved))
})

after(async () => {
  await service?.close()
  rmSync(tmp, { recursive: true, force: true })
})

async function labelBytes(labelsId: LabelsId): Promise<Uint8Array> {
  const r = await api.readLabels({ labelsId })
  assert.ok(r.ok, JSON.stringify(r))
  return r.value.bytes
}

test('the saved mask, listed under --out, opens back with its exact voxels and its review', async () => {
  const listing = await api.listSources({ root: 'out' })
  assert.ok(listing.ok, JSON.stringify(listing))
  const names = listing.value.entries.map((e) => [e.name, e.kind])
  assert.deepEqual(names, [
    ['ch2-crop_seg.nii.gz', 'file'],
    ['ch2-crop_seg.review.json', 'other'],
  ])
  const r = await api.openLabels({
    volumeId,
    root: 'out',
    source: 'ch2-crop_seg.nii.gz' as SourceRef,
  })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.path, 'ch2-crop_seg.nii.gz')
  assert.equal(r.value.reviewPath, 'ch2-crop_seg.review.json')
  assert.deepEqual(r.value.review, review)
  assert.deepEqual(r.value.labels.warnings, [])
  assert.deepEqual(
    r.value.labels.labels.map((l) => [l.value, l.name, l.voxels]),
    [
      [0, 'background', uploaded.length - 120],
      [1, 'brain', 100],
      [3, 'lesion', 20],
    ],
  )
  assert.deepEqual(await labelBytes(r.value.labels.labelsId), uploaded)
})

test('a float32 mask of whole numbers (as nnU-Net and others write them) opens as uint8 labels', async () => {
  nibabelCopy(join(out, 'ch2-crop_seg.nii.gz'), join(data, 'float-mask.nii.gz'), 'a * 2', 'float32')
  const r = await api.openLabels({
    volumeId,
    root: 'data',
    source: 'float-mask.nii.gz' as SourceRef,
  })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.labels.dataType, 'uint8')
  assert.equal(r.value.review, undefined, 'no review beside it')
  const bytes = await labelBytes(r.value.labels.labelsId)
  assert.deepEqual(
    bytes,
    uploaded.map((x) => x * 2),
  )
})

test('a mask that is not labels, or on another grid, is refused in words naming the file', async () => {
  nibabelCopy(join(out, 'ch2-crop_seg.nii.gz'), join(data, 'prob.nii.gz'), 'a * 0.25', 'float32')
  const frac = await api.openLabels({ volumeId, root: 'data', source: 'prob.nii.gz' as SourceRef })
  assert.equal(frac.ok, false)
  assert.match(
    frac.ok ? '' : frac.error.message,
    /^prob\.nii\.gz: voxel 1000 holds 0\.25, not a whole number: this is not a label map$/,
  )

  nibabelCopy(
    join(out, 'ch2-crop_seg.nii.gz'),
    join(data, 'neg.nii.gz'),
    'a.astype(np.int16) - 1',
    'int16',
  )
  const neg = await api.openLabels({ volumeId, root: 'data', source: 'neg.nii.gz' as SourceRef })
  assert.equal(neg.ok, false)
  assert.match(neg.ok ? '' : neg.error.message, /voxel 0 holds -1, a negative value/)

  // Same voxels, shifted by 2 mm: not this image's grid.
  python<null>(
    `import sys, nibabel as nib
img = nib.load(sys.argv[1]); aff = img.affine.copy(); aff[0, 3] += 2
nib.save(nib.Nifti1Image(img.get_fdata().astype('uint8'), aff), sys.argv[2]); print('null')`,
    [join(out, 'ch2-crop_seg.nii.gz'), join(data, 'shifted.nii.gz')],
  )
  const moved = await api.openLabels({
    volumeId,
    root: 'data',
    source: 'shifted.nii.gz' as SourceRef,
  })
  assert.equal(moved.ok, false)
  assert.match(
    moved.ok ? '' : moved.error.message,
    /^shifted\.nii\.gz is not a mask of ch2-crop\.nii\.gz: the mask's voxels lie up to 2\.00 mm from the image's/,
  )

  const elsewhere = await api.openLabels({
    volumeId,
    root: 'out',
    source: '../data/prob.nii.gz' as SourceRef,
  })
  assert.equal(elsewhere.ok, false)
  assert.equal(elsewhere.ok ? '' : elsewhere.error.code, 'E_ARGS')
})

test('a review that no longer matches its mask keeps the names but resets the decisions', async () => {
  // The mask edited by another tool after the save (one more voxel of label 1).
  nibabelCopy(
    join(out, 'ch2-crop_seg.nii.gz'),
    join(out, 'edited.nii.gz'),
    'np.where(np.arange(a.size).reshape(a.shape, order="F") == 1100, 1, a)',
    'uint8',
  )
  const f = JSON.parse(readFileSync(join(out, 'ch2-crop_seg.review.json'), 'utf8')) as {
    mask: string
  }
  writeFileSync(join(out, 'edited.review.json'), JSON.stringify({ ...f, mask: 'edited.nii.gz' }))
  const r = await api.openLabels({ volumeId, root: 'out', source: 'edited.nii.gz' as SourceRef })
  assert.ok(r.ok, JSON.stringify(r))
  assert.deepEqual(
    r.value.review?.labels.map((l) => [l.value, l.name, l.status, l.reason]),
    [
      [3, 'lesion', 'pending', undefined],
      [1, 'brain', 'pending', undefined],
    ],
  )
  assert.match(
    r.value.labels.warnings.join('\n'),
    /edited\.nii\.gz was changed after edited\.review\.json was saved/,
  )

  // A review file naming another mask is not used for this one.
  copyFileSync(join(out, 'ch2-crop_seg.review.json'), join(out, 'edited.review.json'))
  const other = await api.openLabels({
    volumeId,
    root: 'out',
    source: 'edited.nii.gz' as SourceRef,
  })
  assert.ok(other.ok, JSON.stringify(other))
  assert.equal(other.value.review, undefined)
  assert.match(
    other.value.labels.warnings.join('\n'),
    /belongs to ch2-crop_seg\.nii\.gz, not this mask/,
  )
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readImageNode } from '@itk-wasm/image-io'
import { openVolume } from '../../src/io/open-volume.js'
import { writeMaskNifti } from '../../src/io/nifti/write-nifti-mask.js'
import { AppError } from '../../src/shared/errors.js'
import { affineRAS, maxAbsDiff } from '../../src/core/geometry/affine.js'
import { derived, fixture, python } from '../helpers.js'

const NIBABEL = `
import json, sys, nibabel as nib, numpy as np
img = nib.load(sys.argv[1]); h = img.header
d = np.asanyarray(img.dataobj)
print(json.dumps({"affine": img.affine.tolist(), "qform": h.get_qform().tolist(), "sform": h.get_sform().tolist(),
  "codes": [int(h["qform_code"]), int(h["sform_code"])], "dtype": str(d.dtype), "sum": float(d.sum()), "max": float(d.max())}))
`

type Nib = {
  affine: number[][]
  qform: number[][]
  sform: number[][]
  codes: number[]
  dtype: string
  sum: number
  max: number
}

const SOURCES: [string, () => string][] = [
  ['axial ch2 (NIfTI)', () => fixture('ch2.nii.gz')],
  ['flipped (PSR storage)', () => derived('flipped.nii.gz')],
  ['oblique', () => derived('oblique.nii.gz')],
  ['DICOM series', () => derived('dicom', 'ch2-crop')],
  ['NRRD', () => derived('ch2-crop.nrrd')],
]

for (const [label, source] of SOURCES) {
  test(`mask round trip on the source grid: ${label}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'volseg-mask-'))
    try {
      const src = await openVolume(source())
      const v = src.volume
      const labels = new Uint8Array(v.voxels.length)
      let count = 0
      for (let i = 0; i < labels.length; i++) {
        if ((v.voxels[i] as number) > 100) {
          labels[i] = (v.voxels[i] as number) > 150 ? 2 : 1
          count++
        }
      }
      const out = join(dir, 'mask.nii.gz')
      const report = await writeMaskNifti({
        path: out,
        labels,
        geometry: v,
        sourceFiles: src.files,
      })
      assert.equal(report.datatype, 'uint8')
      assert.equal(report.labelVoxels, count)
      assert.ok(report.affineDiffMm <= 1e-4)
      // Independent readers: nibabel and itk-wasm.
      const nib = python<Nib>(NIBABEL, [out])
      const want = affineRAS(v)
      assert.ok(
        maxAbsDiff(nib.affine.flat(), want) < 1e-5,
        `nibabel affine ${JSON.stringify(nib.affine)}`,
      )
      assert.ok(maxAbsDiff(nib.qform.flat(), want) < 1e-5, 'qform set and equal')
      assert.ok(maxAbsDiff(nib.sform.flat(), want) < 1e-5, 'sform set and equal')
      assert.ok(nib.codes.every((c) => c > 0))
      assert.equal(nib.dtype, 'uint8')
      let sum = 0
      for (const x of labels) sum += x
      assert.equal(nib.sum, sum)
      const itk = await readImageNode(out)
      assert.ok(maxAbsDiff([...itk.origin], [...v.originLPS]) < 1e-4)
      assert.ok(
        maxAbsDiff(Array.from(itk.direction as ArrayLike<number>), [...v.directionLPS]) < 1e-5,
      )
      assert.ok(Buffer.from(itk.data as Uint8Array).equals(Buffer.from(labels)))
      // Nothing but the mask is left in the folder (no temp files).
      assert.deepEqual(readdirSync(dir), ['mask.nii.gz'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

test('more than 255 labels are written as uint16', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-mask-'))
  try {
    const v = (await openVolume(derived('ch2-crop.nii.gz'))).volume
    const labels = new Uint16Array(v.voxels.length)
    for (let i = 0; i < labels.length; i++) labels[i] = (v.voxels[i] as number) * 2
    const out = join(dir, 'many.nii.gz')
    const r = await writeMaskNifti({ path: out, labels, geometry: v, sourceFiles: [] })
    assert.equal(r.datatype, 'uint16')
    const nib = python<Nib>(NIBABEL, [out])
    assert.equal(nib.dtype, 'uint16')
    assert.equal(nib.max, 380)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a mask is never written over its input, and a wrong-sized mask is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-mask-'))
  try {
    const input = join(dir, 'scan.nii.gz')
    copyFileSync(derived('ch2-crop.nii.gz'), input)
    const before = readFileSync(input)
    const src = await openVolume(input)
    const labels = new Uint8Array(src.volume.voxels.length)
    await assert.rejects(
      writeMaskNifti({ path: input, labels, geometry: src.volume, sourceFiles: src.files }),
      (e: unknown) =>
        e instanceof AppError && e.code === 'E_WRITE' && /overwrite an input/.test(e.message),
    )
    assert.ok(readFileSync(input).equals(before))
    await assert.rejects(
      writeMaskNifti({
        path: join(dir, 'x.nii.gz'),
        labels: labels.subarray(1),
        geometry: src.volume,
        sourceFiles: [],
      }),
      (e: unknown) => e instanceof AppError && e.code === 'E_ARGS',
    )
    assert.deepEqual(readdirSync(dir), ['scan.nii.gz'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

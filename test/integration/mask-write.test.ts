import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { gunzipSync, gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readImageNode } from '@itk-wasm/image-io'
import { openVolume } from '../../src/io/open-volume.js'
import { rereadMask, writeMaskNifti } from '../../src/io/nifti/write-nifti-mask.js'
import { AppError } from '../../src/shared/errors.js'
import {
  describeVerification,
  verificationPassed,
  type MaskVerification,
} from '../../src/shared/mask-verification.js'
import type { VolumeGeometry } from '../../src/shared/geometry.js'
import { affineRAS, maxAbsDiff } from '../../src/core/geometry/affine.js'
import { derived, fixture, python } from '../helpers.js'

const NIBABEL = `
import hashlib, json, sys, nibabel as nib, numpy as np
img = nib.load(sys.argv[1]); h = img.header
d = np.asanyarray(img.dataobj)
le = d.astype(d.dtype.newbyteorder("<")).tobytes(order="F")  # i fastest, little-endian
print(json.dumps({"affine": img.affine.tolist(), "qform": h.get_qform().tolist(), "sform": h.get_sform().tolist(),
  "codes": [int(h["qform_code"]), int(h["sform_code"])], "dtype": str(d.dtype), "sum": float(d.sum()), "max": float(d.max()),
  "sha256": hashlib.sha256(le).hexdigest()}))
`

type Nib = {
  affine: number[][]
  qform: number[][]
  sform: number[][]
  codes: number[]
  dtype: string
  sum: number
  max: number
  sha256: string
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
      const ver = report.verification
      assert.equal(ver.reread, 'nifti')
      assert.deepEqual(ver.sizeIJK, v.sizeIJK)
      assert.equal(ver.voxelsCompared, labels.length)
      assert.equal(ver.voxelsEqual, labels.length)
      assert.ok(ver.geometryMaxErrorMm <= 1e-4, `${ver.geometryMaxErrorMm}`)
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
      assert.equal(ver.voxelSha256, nib.sha256, 'the reported checksum is that of the file')
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
    assert.equal(r.verification.voxelSha256, nib.sha256, 'little-endian uint16 bytes, i fastest')
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

test('a geometry NIfTI float32 cannot hold fails the re-read: E_VERIFY with its figures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-mask-'))
  try {
    const src = await openVolume(derived('ch2-crop.nii.gz'))
    // 12345.678 mm is a float64 origin; the header keeps float32 12345.677734375.
    const x = 12345.678
    const geometry: VolumeGeometry = { ...src.volume, originLPS: [x, 0, -7.5] }
    const labels = new Uint8Array(src.volume.voxels.length).fill(3, 100, 200)
    const out = join(dir, 'far.nii.gz')
    let thrown: unknown
    await writeMaskNifti({ path: out, labels, geometry, sourceFiles: [] }).catch((e: unknown) => {
      thrown = e
    })
    assert.ok(thrown instanceof AppError, String(thrown))
    assert.equal(thrown.code, 'E_VERIFY')
    assert.equal(thrown.file, out)
    assert.match(thrown.message, /affine differs by 2\.66e-4 mm/)
    const ver = (thrown.details as { verification: MaskVerification }).verification
    assert.equal(ver.geometryMaxErrorMm, Math.abs(Math.fround(x) - x))
    assert.equal(ver.voxelsEqual, ver.voxelsCompared, 'the voxels themselves re-read equal')
    assert.equal(verificationPassed(ver), false)
    assert.deepEqual(readdirSync(dir), [], 'neither the mask nor its temporary file is left')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('re-reading a tampered mask file counts the voxels and the origin that changed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-mask-'))
  try {
    const src = await openVolume(derived('ch2-crop.nii.gz'))
    const v = src.volume
    const labels = new Uint8Array(v.voxels.length)
    for (let i = 0; i < labels.length; i++) labels[i] = (v.voxels[i] as number) > 100 ? 1 : 0
    const out = join(dir, 'mask.nii.gz')
    const report = await writeMaskNifti({ path: out, labels, geometry: v, sourceFiles: [] })
    const clean = await rereadMask(out, v, labels)
    assert.deepEqual(clean, report.verification, 'the same figures as the writer reported')
    assert.ok(verificationPassed(clean))
    // Tamper with the written file: three voxels, then the sform/qform x offset.
    const raw = gunzipSync(readFileSync(out))
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    const voxOffset = view.getFloat32(108, true)
    for (const i of [0, 4242, labels.length - 1]) raw[voxOffset + i] = (labels[i] as number) + 5
    writeFileSync(out, gzipSync(raw))
    const voxelsOnly = await rereadMask(out, v, labels)
    assert.equal(voxelsOnly.voxelsCompared, labels.length)
    assert.equal(voxelsOnly.voxelsEqual, labels.length - 3)
    assert.ok(voxelsOnly.geometryMaxErrorMm <= 1e-4)
    assert.notEqual(voxelsOnly.voxelSha256, clean.voxelSha256)
    assert.equal(verificationPassed(voxelsOnly), false)
    assert.match(describeVerification(voxelsOnly), /, 3 of [\d,]+ voxels differ$/)
    // qoffset_x (byte 268) and srow_x[3] (byte 292) moved by 0.5 mm.
    for (const at of [268, 292]) view.setFloat32(at, view.getFloat32(at, true) + 0.5, true)
    writeFileSync(out, gzipSync(raw))
    const moved = await rereadMask(out, v, labels)
    assert.ok(Math.abs(moved.geometryMaxErrorMm - 0.5) < 1e-3, `${moved.geometryMaxErrorMm}`)
    assert.equal(verificationPassed(moved), false)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

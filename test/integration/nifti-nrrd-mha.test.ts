import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { metaWriteImageNode, readImageNode } from '@itk-wasm/image-io'
import { openVolume } from '../../src/io/open-volume.js'
import type { Volume } from '../../src/shared/volume.js'
import { affineRAS, indexToLPS, maxAbsDiff } from '../../src/core/geometry/affine.js'
import { derived, fixture, manifestEntry, maxAbs, stats, rejectsWith } from '../helpers.js'

const flat = (m: unknown): number[] => (m as number[][]).flat()

/** Voxel value at (i, j, k). */
const at = (v: Volume, i: number, j: number, k: number): number =>
  v.voxels[i + v.sizeIJK[0] * (j + v.sizeIJK[1] * k)] as number

test('ch2: geometry equals nibabel, voxels equal the itk-wasm decode', async () => {
  const path = fixture('ch2.nii.gz')
  const o = await openVolume(path)
  const m = manifestEntry('../ch2.nii.gz')
  assert.deepEqual(o.volume.sizeIJK, m.shape)
  assert.ok(maxAbsDiff(affineRAS(o.volume), flat(m.nibabel_affine)) < 1e-6)
  assert.deepEqual(o.volume.spacingMm, [1, 1, 1])
  assert.deepEqual(o.volume.originLPS, [90, 126 - 1, -71])
  assert.equal(o.volume.pixelType, 'uint8')
  assert.equal(stats(o.volume.voxels).sum, (m.raw as { sum: number }).sum)
  assert.deepEqual(o.nifti?.geometrySource, 'sform')
  assert.equal(o.nifti?.xforms.sform_code, 4)
  const itk = await readImageNode(path)
  assert.deepEqual(Array.from(itk.origin), [...o.volume.originLPS])
  assert.deepEqual(
    Array.from(itk.direction as ArrayLike<number>, (x) => x + 0),
    [...o.volume.directionLPS],
  )
  assert.ok(Buffer.from(itk.data as Uint8Array).equals(Buffer.from(o.volume.voxels as Uint8Array)))
})

const VARIANTS = [
  'ch2-crop.nii.gz',
  'flipped.nii.gz',
  'oblique.nii.gz',
  'qform-sform-differ.nii.gz',
  'nifti2.nii.gz',
  'big-endian.nii',
  'slope-nan.nii.gz',
  'slope-zero.nii.gz',
  'slope-2.nii.gz',
]

for (const name of VARIANTS) {
  test(`NIfTI ${name}: affine and values equal nibabel`, async () => {
    const o = await openVolume(derived(name))
    const m = manifestEntry(name)
    assert.deepEqual([...o.volume.sizeIJK], m.shape)
    assert.ok(maxAbsDiff(affineRAS(o.volume), flat(m.nibabel_affine)) < 1e-5, name)
    const want = m.scaled as { sum: number; min: number; max: number }
    const got = stats(o.volume.voxels)
    assert.deepEqual([got.min, got.max, got.sum], [want.min, want.max, want.sum])
  })
}

test('NIfTI headers: slope rules, qform/sform report, no-xform and sheared sform', async () => {
  const nan = await openVolume(derived('slope-nan.nii.gz'))
  assert.equal(nan.volume.pixelType, 'uint8')
  assert.equal(nan.nifti?.scalingApplied, false)
  const two = await openVolume(derived('slope-2.nii.gz'))
  assert.equal(two.volume.pixelType, 'float32')
  const differ = await openVolume(derived('qform-sform-differ.nii.gz'))
  assert.match(differ.warnings.join(), /qform and sform disagree by up to 5\.00 mm/)
  const none = await openVolume(derived('no-xform.nii.gz'))
  assert.equal(none.nifti?.geometrySource, 'pixdim')
  const m1 = flat(manifestEntry('no-xform.nii.gz').nifti_method1_affine)
  assert.ok(maxAbsDiff(affineRAS(none.volume), m1) < 1e-6)
  assert.match(none.warnings.join(), /no patient orientation/)
  const path = derived('sheared-sform.nii.gz')
  await rejectsWith(openVolume(path), 'E_UNSUPPORTED', path)
})

test('flipped and oblique storage: every voxel sits at the same patient position as in the crop', async () => {
  const crop = (await openVolume(derived('ch2-crop.nii.gz'))).volume
  const flipped = (await openVolume(derived('flipped.nii.gz'))).volume
  const inv = invertAffine(affineRAS(flipped))
  const cropAffine = affineRAS(crop)
  let checked = 0
  for (let n = 0; n < 2000; n++) {
    const i = (n * 7919) % crop.sizeIJK[0]
    const j = (n * 104729) % crop.sizeIJK[1]
    const k = (n * 1299709) % crop.sizeIJK[2]
    const p = apply(cropAffine, [i, j, k])
    const q = apply(inv, p).map(Math.round) as [number, number, number]
    assert.equal(at(flipped, ...q), at(crop, i, j, k), `voxel ${i},${j},${k}`)
    checked++
  }
  assert.equal(checked, 2000)
  // Oblique: same array, rotated affine; positions follow the header, not the array.
  const oblique = (await openVolume(derived('oblique.nii.gz'))).volume
  assert.ok(
    Buffer.from(oblique.voxels as Uint8Array).equals(Buffer.from(crop.voxels as Uint8Array)),
  )
  const p = indexToLPS(oblique, [10, 20, 30])
  const want = apply(flat(manifestEntry('oblique.nii.gz').nibabel_affine), [10, 20, 30])
  assert.ok(maxAbs([-p[0], -p[1], p[2]], want) < 1e-4)
})

for (const name of ['ch2-crop.nrrd', 'ch2-crop.mha']) {
  test(`${name} (plastimatch): geometry and voxels equal the NIfTI crop`, async () => {
    const crop = (await openVolume(derived('ch2-crop.nii.gz'))).volume
    const o = await openVolume(derived(name))
    assert.equal(o.format, name.endsWith('nrrd') ? 'nrrd' : 'meta')
    assert.ok(maxAbsDiff(affineRAS(o.volume), flat(manifestEntry(name).affine_ras)) < 1e-5)
    assert.ok(maxAbsDiff(affineRAS(o.volume), affineRAS(crop)) < 1e-5)
    assert.deepEqual(Array.from(o.volume.voxels), Array.from(crop.voxels))
  })
}

function apply(m: readonly number[], p: readonly number[]): number[] {
  return [0, 1, 2].map(
    (r) =>
      (m[r * 4] as number) * (p[0] as number) +
      (m[r * 4 + 1] as number) * (p[1] as number) +
      (m[r * 4 + 2] as number) * (p[2] as number) +
      (m[r * 4 + 3] as number),
  )
}

/** Inverse of a 4×4 affine whose last row is 0 0 0 1. */
function invertAffine(m: readonly number[]): number[] {
  const a = [0, 1, 2].map((r) => [0, 1, 2].map((c) => m[r * 4 + c] as number)) as number[][]
  const det =
    a[0]![0]! * (a[1]![1]! * a[2]![2]! - a[1]![2]! * a[2]![1]!) -
    a[0]![1]! * (a[1]![0]! * a[2]![2]! - a[1]![2]! * a[2]![0]!) +
    a[0]![2]! * (a[1]![0]! * a[2]![1]! - a[1]![1]! * a[2]![0]!)
  const inv = [0, 1, 2].map((r) =>
    [0, 1, 2].map((c) => {
      const r1 = (c + 1) % 3
      const r2 = (c + 2) % 3
      const c1 = (r + 1) % 3
      const c2 = (r + 2) % 3
      return (a[r1]![c1]! * a[r2]![c2]! - a[r1]![c2]! * a[r2]![c1]!) / det
    }),
  )
  const t = [0, 1, 2].map(
    (r) =>
      -(
        inv[r]![0]! * (m[3] as number) +
        inv[r]![1]! * (m[7] as number) +
        inv[r]![2]! * (m[11] as number)
      ),
  )
  return [...inv[0]!, t[0]!, ...inv[1]!, t[1]!, ...inv[2]!, t[2]!, 0, 0, 0, 1]
}

test('compressed MHA (written by itk-wasm) reads back; a false CompressedData flag is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-mha-'))
  try {
    const crop = await openVolume(derived('ch2-crop.mha'))
    const itk = await readImageNode(derived('ch2-crop.mha'))
    const packed = join(dir, 'packed.mha')
    await metaWriteImageNode(itk, packed, { useCompression: true })
    assert.match(readFileSync(packed, 'latin1').slice(0, 400), /CompressedData = True/)
    const back = await openVolume(packed)
    assert.deepEqual(Array.from(back.volume.voxels), Array.from(crop.volume.voxels))
    // Raw bytes behind a header that claims compression: itk-wasm alone returns zeros.
    const liar = join(dir, 'liar.mha')
    writeFileSync(
      liar,
      readFileSync(derived('ch2-crop.mha'), 'latin1').replace(
        'CompressedData = False',
        'CompressedData = True ',
      ),
      'latin1',
    )
    await rejectsWith(openVolume(liar), 'E_BAD_HEADER', liar)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/**
 * Gantry-tilted DICOM series are resampled onto an orthogonal grid. Oracles (built by
 * test/fixtures/derive_dicom.py): dcm2niix 1.0.20220720's `_Tilt` NIfTI of dicom/tilted-ct, and
 * for both tilted series a pydicom/numpy resampling from world positions (tilt/*.truth.nii.gz,
 * float64, unrounded), which the fixture script checks against dcm2niix on tilted-ct. dcm2niix is
 * no oracle for dicom/tilted: it writes no `_Tilt` without (0018,1120) and, with it, shears that
 * orientation (column direction anterior) the wrong way (manifest `tilt/tilted.truth.nii.gz`).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openVolume, type OpenedVolume } from '../../src/io/open-volume.js'
import { affineLPS, indexToLPS } from '../../src/core/geometry/affine.js'
import type { Vec3 } from '../../src/shared/geometry.js'
import type { Volume } from '../../src/shared/volume.js'
import { runOpenJob } from '../../src/jobs/volume-jobs.js'
import { runInfo } from '../../src/jobs/info-job.js'
import { derived, manifestEntry } from '../helpers.js'

const roundHalfAway = (x: number): number => (x < 0 ? -Math.round(-x) : Math.round(x))

/**
 * Index map from grid `a` to grid `b` (b's nearest voxel to a's first voxel and to its steps
 * along i, j, k), and the largest distance between a voxel centre of `a` and the centre of the
 * voxel it maps to in `b`, in mm: both maps are affine, so that is largest at one of the 8
 * corners, and a wrong map shows as a distance of a voxel or more.
 */
function matchGrids(
  a: Volume,
  b: Volume,
): { map: (i: number, j: number, k: number) => number; mm: number } {
  const B = affineLPS(b)
  // b's (fractional) index of an LPS point; b's axes are orthogonal.
  const col = (m: readonly number[], c: number): Vec3 => [m[c]!, m[4 + c]!, m[8 + c]!]
  const bAxes = [0, 1, 2].map((c) => col(B, c))
  const toB = (p: Vec3): Vec3 => {
    const d: Vec3 = [p[0] - B[3]!, p[1] - B[7]!, p[2] - B[11]!]
    return bAxes.map(
      (ax) => (ax[0] * d[0] + ax[1] * d[1] + ax[2] * d[2]) / (ax[0] ** 2 + ax[1] ** 2 + ax[2] ** 2),
    ) as unknown as Vec3
  }
  const [ni, nj, nk] = a.sizeIJK
  const o = toB(indexToLPS(a, [0, 0, 0]))
  const steps = (
    [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ] as Vec3[]
  ).map((e) => {
    const q = toB(indexToLPS(a, e))
    return [q[0] - o[0], q[1] - o[1], q[2] - o[2]].map(Math.round) as unknown as Vec3
  })
  const o0 = o.map(Math.round) as unknown as Vec3
  const idx = (i: number, j: number, k: number): Vec3 =>
    [0, 1, 2].map(
      (r) => o0[r]! + steps[0]![r]! * i + steps[1]![r]! * j + steps[2]![r]! * k,
    ) as unknown as Vec3
  let mm = 0
  for (const i of [0, ni - 1]) {
    for (const j of [0, nj - 1]) {
      for (const k of [0, nk - 1]) {
        const p = indexToLPS(a, [i, j, k])
        const q = indexToLPS(b, idx(i, j, k))
        mm = Math.max(mm, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]))
      }
    }
  }
  const [bi, bj] = b.sizeIJK
  return {
    map: (i, j, k) => {
      const [x, y, z] = idx(i, j, k)
      return x + bi * (y + bj * z)
    },
    mm,
  }
}

async function openTilted(name: string): Promise<{ o: OpenedVolume; truth: Volume }> {
  const o = await openVolume(derived('dicom', name))
  const truth = (await openVolume(derived('tilt', `${name}.truth.nii.gz`))).volume
  return { o, truth }
}

/** Our volume equals the rounded truth voxel for voxel, on the same grid (≤ 0.01 mm). */
function assertEqualsTruth(v: Volume, truth: Volume): void {
  assert.deepEqual(v.sizeIJK, truth.sizeIJK)
  const g = matchGrids(v, truth)
  assert.ok(g.mm <= 0.01, `voxel centres ${g.mm} mm from the truth's`)
  const [ni, nj, nk] = v.sizeIJK
  let differ = 0
  let n = 0
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, n++) {
        if (v.voxels[n] !== roundHalfAway(truth.voxels[g.map(i, j, k)] as number)) differ++
      }
    }
  }
  assert.equal(differ, 0, `${differ} of ${n} voxels differ from the rounded truth`)
}

test('dicom/tilted-ct (12°, 0.8 mm pixels, 2 mm slices, padding): equals dcm2niix _Tilt', async () => {
  const { o, truth } = await openTilted('tilted-ct')
  const m = manifestEntry('tilt/tilted-ct.truth.nii.gz') as {
    shape: number[]
    rows_before: number
    dcm2niix: { n_diff: number }
  }
  const v = o.volume
  assert.deepEqual(v.sizeIJK, m.shape)
  assert.deepEqual(v.sizeIJK, [175, 211, 20])
  assert.ok(
    o.warnings.some((w) => /^gantry tilt 12\.0° .*orthogonal grid .*_Tilt.*11 rows added/.test(w)),
    o.warnings.join('\n'),
  )
  assert.equal(o.dicom?.tilt?.rowsBefore, 11)
  assert.equal(o.dicom?.tilt?.rowsAfter, 0)
  assertEqualsTruth(v, truth)

  // dcm2niix's _Tilt: same shape (its rows run the other way), voxel centres ≤ 0.01 mm apart
  // (its affine is float32), values equal. dcm2niix interpolates with float32 weights, so a value
  // within 1e-3 of a .5 rounding tie may round the other way (±1); none does in this fixture
  // (the fixture script asserts the same of the truth: manifest dcm2niix.n_diff = 0).
  const d = (await openVolume(derived('tilt', 'tilted-ct.dcm2niix_Tilt.nii'))).volume
  assert.deepEqual(d.sizeIJK, v.sizeIJK)
  const g = matchGrids(v, d)
  assert.ok(g.mm <= 0.01, `voxel centres ${g.mm} mm from dcm2niix's`)
  const [ni, nj, nk] = v.sizeIJK
  let n = 0
  let worst = 0
  let offTie = 0
  let differ = 0
  const tg = matchGrids(v, truth)
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, n++) {
        const diff = Math.abs((v.voxels[n] as number) - (d.voxels[g.map(i, j, k)] as number))
        if (diff === 0) continue
        differ++
        worst = Math.max(worst, diff)
        const t = Math.abs(truth.voxels[tg.map(i, j, k)] as number)
        if (Math.abs(t - Math.trunc(t) - 0.5) >= 1e-3) offTie++
      }
    }
  }
  assert.ok(worst <= 1, `largest difference from dcm2niix ${worst}`)
  assert.equal(offTie, 0, 'differences from dcm2niix only at rounding ties')
  assert.equal(differ, m.dcm2niix.n_diff)
  // Outside every slice: the Pixel Padding Value (-2000 stored, -3024 HU), as dcm2niix.
  assert.equal(v.voxels[0], -3024)
})

test('dicom/tilted (16.7°, shift along +column): resampled exactly; the source geometry is kept', async () => {
  const { o, truth } = await openTilted('tilted')
  const m = manifestEntry('dicom/tilted') as {
    tilt_angle_deg: number
    shear_mm_per_slice_along_column_direction: number
    image_orientation_patient: number[]
    ipp_first: number[]
    ipp_last: number[]
  }
  const v = o.volume
  assert.deepEqual(v.sizeIJK, [140, 172, 40])
  assert.ok(
    o.warnings.some((w) =>
      /^gantry tilt 16\.7° \(slices step 0\.3 mm sideways each\).*12 rows added/.test(w),
    ),
    o.warnings.join('\n'),
  )
  assertEqualsTruth(v, truth)
  // Independent of the truth file: slice 10 is shifted by exactly 3 rows, so its source pixels
  // (= dicom/ch2-crop's, by construction) reappear unchanged 3 rows down; slice 0 is not moved.
  const crop = (await openVolume(derived('dicom', 'ch2-crop'))).volume
  const [ni, nj] = crop.sizeIJK
  const njOut = v.sizeIJK[1]
  for (const [k, rows] of [
    [0, 0],
    [10, 3],
  ] as const) {
    const src = crop.voxels.subarray(k * ni * nj, (k + 1) * ni * nj)
    const got = v.voxels.subarray((k * njOut + rows) * ni, (k * njOut + rows + nj) * ni)
    assert.deepEqual(Array.from(got), Array.from(src), `slice ${k}`)
  }
  const t = o.dicom?.tilt
  assert.ok(t)
  assert.ok(Math.abs(t.angleDeg - m.tilt_angle_deg) < 1e-6)
  assert.equal(t.rowsBefore, 0)
  assert.equal(t.rowsAfter, 12)
  assert.deepEqual(t.sourceGeometry.sizeIJK, [140, 160, 40])
  assert.equal(t.sliceIPPsLPS.length, 40)
  assert.deepEqual(t.sliceIPPsLPS[0], m.ipp_first)
  assert.deepEqual(t.sliceIPPsLPS[39], m.ipp_last)
  const colDir = m.image_orientation_patient.slice(3)
  t.shearPerSliceLPS.forEach((x, c) =>
    assert.ok(Math.abs(x - m.shear_mm_per_slice_along_column_direction * colDir[c]!) < 1e-9),
  )
  // The orthogonal grid starts at the first slice (the slices move towards +j).
  assert.deepEqual(v.originLPS, m.ipp_first)
})

test('the tilt record reaches the open job (for the service) and volseg info --json', async () => {
  const job = await runOpenJob({ kind: 'open', input: [derived('dicom', 'tilted')] })
  assert.equal(job.kind, 'volume')
  if (job.kind !== 'volume') return
  assert.equal(job.gantryTilt?.rowsAfter, 12)
  assert.deepEqual(job.volume.geometry.sizeIJK, [140, 172, 40])
  const info = await runInfo([derived('dicom', 'tilted')])
  assert.ok(info.gantryTilt && Math.abs(info.gantryTilt.angleDeg - 16.6992) < 1e-3)
  assert.deepEqual(info.sizeIJK, [140, 172, 40])
})

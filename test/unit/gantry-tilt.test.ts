import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import { AppError } from '../../src/shared/errors.js'
import { indexToLPS, mat3FromColumns } from '../../src/core/geometry/affine.js'
import { planGantryTilt, resampleGantryTilt } from '../../src/core/dicom/gantry-tilt.js'

const ROW: Vec3 = [1, 0, 0]
const COL: Vec3 = [0, 1, 0]
const NORMAL: Vec3 = [0, 0, 1]

/** A stack of nk slices, dz apart along the normal, each `shiftMm` further along the column. */
function stack(
  sizeIJK: Vec3,
  spacingMm: Vec3,
  shiftMm: (k: number) => number,
  rowDrift: (k: number) => number = () => 0,
): { source: VolumeGeometry; ipps: Vec3[] } {
  const o: Vec3 = [-10, 20, -30]
  const ipps = Array.from({ length: sizeIJK[2] }, (_, k): Vec3 => {
    const s = shiftMm(k)
    return [o[0] + rowDrift(k), o[1] + s, o[2] + k * spacingMm[2]]
  })
  const source: VolumeGeometry = {
    sizeIJK,
    spacingMm,
    originLPS: o,
    directionLPS: mat3FromColumns(ROW, COL, NORMAL),
  }
  return { source, ipps }
}

const plan = (s: { source: VolumeGeometry; ipps: Vec3[] }, padding?: number) =>
  planGantryTilt(s.source, s.ipps, undefined, padding)

const near = (a: number, b: number, tol = 1e-9): void =>
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`)

test('plan: shift along +column adds rows after, the grid starts at the first slice', () => {
  const { source, ipps } = stack([3, 4, 3], [0.5, 2, 3], (k) => k * 1) // 1 mm = 0.5 row per slice
  const p = planGantryTilt(source, ipps)
  assert.ok(p)
  assert.deepEqual(p.rowShift, [0, 0.5, 1])
  assert.equal(p.tilt.rowsBefore, 0)
  assert.equal(p.tilt.rowsAfter, 1)
  assert.deepEqual(p.geometry.sizeIJK, [3, 5, 3])
  assert.deepEqual(p.geometry.originLPS, ipps[0])
  assert.deepEqual(p.geometry.spacingMm, [0.5, 2, 3])
  near(p.tilt.angleDeg, (Math.atan(1 / 3) * 180) / Math.PI)
  assert.deepEqual(p.tilt.shearPerSliceLPS, [0, 1, 0])
  assert.deepEqual(p.tilt.sliceIPPsLPS, ipps)
  assert.equal(p.tilt.sourceGeometry, source)
  assert.match(p.warning, /^gantry tilt 18\.4° \(slices step 1 mm sideways each\): .*1 row added/)
})

test('plan: shift against the column direction adds rows before and moves the origin back', () => {
  const { source, ipps } = stack([3, 4, 3], [0.5, 2, 3], (k) => -2.5 * k) // −1.25 rows per slice
  const p = planGantryTilt(source, ipps)
  assert.ok(p)
  assert.equal(p.tilt.rowsBefore, 3)
  assert.equal(p.tilt.rowsAfter, 0)
  assert.deepEqual(p.geometry.sizeIJK, [3, 7, 3])
  assert.deepEqual(p.geometry.originLPS, [-10, 20 - 3 * 2, -30])
  // A whole-row total shift needs exactly that many rows (no extra row from rounding noise).
  const whole = plan(stack([3, 4, 3], [1, 2, 3], (k) => 2 * k + 1e-9 * k))
  assert.equal(whole?.tilt.rowsAfter, 2)
})

test('plan: no drift, rounding jitter and a one-slice stack are no tilt; row drift is refused', () => {
  assert.equal(plan(stack([3, 4, 5], [1, 1, 1], () => 0)), undefined)
  // Positions rounded to 0.1 mm: ±0.05 mm jitter on a 4 mm stack is not a tilt (slope 0.005).
  const jitter = (k: number): number => [0, -0.05, 0.05, 0, 0][k]!
  assert.equal(plan(stack([3, 4, 5], [1, 1, 1], jitter, jitter)), undefined)
  // 0.09 mm over 9 mm (slope 0.01) is within the rounding too; 0.2 mm is a tilt.
  assert.equal(plan(stack([3, 4, 10], [1, 1, 1], (k) => 0.01 * k)), undefined)
  assert.ok(plan(stack([3, 4, 10], [1, 1, 1], (k) => 0.2 * (k / 9))))
  assert.equal(planGantryTilt(stack([3, 4, 1], [1, 1, 1], () => 0).source, [[0, 0, 0]]), undefined)
  const rows = stack(
    [3, 4, 5],
    [1, 1, 2],
    () => 0,
    (k) => 0.5 * k,
  )
  assert.throws(
    () => planGantryTilt(rows.source, rows.ipps, '/x/last.dcm'),
    (e: unknown) =>
      e instanceof AppError &&
      e.code === 'E_SERIES_GEOMETRY' &&
      e.file === '/x/last.dcm' &&
      /drift 2 mm along the row direction .*shear of 14\.0362°/.test(e.message),
  )
})

test('resample: linear between a slice’s own rows; the band before row 0 repeats it; rest is the minimum', () => {
  // One column (ni = 1), 3 rows; slice k is shifted by 0.5·k rows (dy = 2 mm, 1 mm per slice).
  const { source, ipps } = stack([1, 3, 3], [1, 2, 1], (k) => k)
  const p = planGantryTilt(source, ipps)!
  assert.deepEqual(p.geometry.sizeIJK, [1, 4, 3])
  const src = Int16Array.from([10, 20, 40, 10, 20, 40, -7, -4, 3])
  const out = resampleGantryTilt(src, p)
  assert.ok(out instanceof Int16Array)
  // k=0: rows unmoved, last output row uncovered -> min (-7).
  // k=1: x = r - 0.5: r=0 -> -0.5 (band: row 0), 0.5 -> 15, 1.5 -> 30, 2.5 -> beyond -> min.
  // k=2: x = r - 1: r=0 -> -1 (outside), then rows 0..2 unchanged.
  assert.deepEqual(Array.from(out), [10, 20, 40, -7, 10, 15, 30, -7, -7, -7, -4, 3])
})

test('resample: integers round half away from zero; floats are not rounded', () => {
  const { source, ipps } = stack([2, 2, 2], [1, 2, 1], (k) => k) // slice 1: x = r - 0.5
  const p = planGantryTilt(source, ipps)!
  const ints = resampleGantryTilt(Int16Array.from([0, 0, 0, 0, -3, 2, -2, 3]), p)
  // slice 1, output row 1 samples halfway between rows 0 and 1: (-3+-2)/2 = -2.5 -> -3; (2+3)/2 -> 3
  assert.deepEqual(Array.from(ints.subarray(8, 10)), [-3, 3])
  const floats = resampleGantryTilt(Float32Array.from([0, 0, 0, 0, -3, 2, -2, 3]), p)
  assert.ok(floats instanceof Float32Array)
  assert.deepEqual(Array.from(floats.subarray(8, 10)), [-2.5, 2.5])
})

test('resample: Pixel Padding Value fills and is never blended (nearest, the lower row on a tie)', () => {
  // ni = 3 columns, 2 rows; slice 1 shifted by 0.3 rows, slice 2 by 0.5 (dy = 1).
  const { source, ipps } = stack([3, 2, 3], [1, 1, 1], (k) => [0, 0.3, 0.5][k]!)
  const p = planGantryTilt(source, ipps, undefined, -2000)!
  assert.equal(p.padding, -2000)
  assert.equal(p.tilt.rowsAfter, 1)
  const pad = -2000
  const src = Int16Array.from([
    ...[1, 2, 3, 4, 5, 6], // slice 0
    ...[pad, 100, 100, 200, pad, 300], // slice 1
    ...[pad, 100, 0, 200, 200, 10], // slice 2
  ])
  const out = resampleGantryTilt(src, p)
  const row = (k: number, r: number): number[] =>
    Array.from(out.subarray((k * 3 + r) * 3, (k * 3 + r + 1) * 3))
  assert.deepEqual(row(0, 2), [pad, pad, pad]) // uncovered: the padding, not the minimum
  // slice 1, output row 1: x = 0.7 between rows 0 and 1 (f = 0.7): padding pairs take row 1.
  assert.deepEqual(row(1, 1), [200, pad, 240])
  assert.deepEqual(row(1, 0), [pad, 100, 100]) // x = -0.3: row 0
  // slice 2, output row 1: x = 0.5, a tie: a padding pair takes the lower row (row 0).
  assert.deepEqual(row(2, 1), [pad, 150, 5])
})

test('property: a ramp along the column direction resamples to the world coordinate of each voxel', () => {
  fc.assert(
    fc.property(
      fc.double({ min: -1.5, max: 1.5, noNaN: true }).filter((s) => Math.abs(s) > 0.11),
      fc.double({ min: 0.3, max: 2, noNaN: true }),
      fc.double({ min: 0.5, max: 3, noNaN: true }),
      fc.integer({ min: 2, max: 6 }),
      (shiftPerSlice, dy, dz, nk) => {
        const nj = 8
        const { source, ipps } = stack([2, nj, nk], [1, dy, dz], (k) => k * shiftPerSlice)
        const p = planGantryTilt(source, ipps)!
        // Source value = the column coordinate (LPS y) of the voxel centre.
        const src = new Float64Array(2 * nj * nk)
        for (let k = 0; k < nk; k++) {
          for (let j = 0; j < nj; j++) {
            for (let i = 0; i < 2; i++) src[i + 2 * (j + nj * k)] = ipps[k]![1] + j * dy
          }
        }
        const out = resampleGantryTilt(src, p)
        const njOut = p.geometry.sizeIJK[1]
        const fill = Math.min(...src)
        for (let k = 0; k < nk; k++) {
          const lo = ipps[k]![1]
          const hi = lo + (nj - 1) * dy
          for (let r = 0; r < njOut; r++) {
            const y = indexToLPS(p.geometry, [0, r, k])
            near(y[2], ipps[k]![2], 1e-9) // slice k stays where it was along the normal
            const v = out[2 * (r + njOut * k)] as number
            if (y[1] >= lo - 1e-9 && y[1] <= hi + 1e-9) near(v, y[1], 1e-5)
            else if (y[1] < lo - dy + 1e-6 || y[1] > hi) assert.equal(v, fill)
          }
        }
      },
    ),
    { seed: 7, numRuns: 200 },
  )
})

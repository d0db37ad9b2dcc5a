// Pure engine pieces: reorientation, resampling, tiling, Gaussian weights, mirroring.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import { signedPermutations } from '../helpers.js'
import {
  closestLpsAxes,
  fromTensorGrid,
  planTensorAxes,
  toTensorGrid,
} from '../../src/inference/preprocess/reorient.js'
import { resampleLinear, targetShape } from '../../src/inference/preprocess/resample.js'
import {
  gaussianImportance,
  accumulatePatch,
  padGrid,
  padToPatch,
  separableWeightSum,
  tileCount,
  tileOrigins,
  tileStarts,
  tileTotal,
  cropChannels,
} from '../../src/inference/sliding-window.js'
import { flipGrids, mirrorCombos, softmaxChannels } from '../../src/inference/tta.js'
import { assertFits, planMemory } from '../../src/inference/memory-plan.js'
import { indexToLPS, mat3FromColumns } from '../../src/core/geometry/affine.js'
import { AppError } from '../../src/shared/errors.js'

// The 48 signed axis permutations, shared with the geometry tests.
const ORIENTATIONS = signedPermutations()

test('reorientation to RAS puts i along R, j along A, k along S for all 48 orientations', () => {
  for (const [n, directionLPS] of ORIENTATIONS.entries()) {
    {
      const g: VolumeGeometry = {
        sizeIJK: [3, 4, 5],
        spacingMm: [1, 2, 3],
        originLPS: [10, -20, 30],
        directionLPS,
      }
      const plan = planTensorAxes(g, 'RAS', 'ijk')
      // Tensor D = i′ must step towards R (−x in LPS), H = j′ towards A (−y), W = k′ towards S (+z).
      const want: Vec3[] = [
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ]
      for (let t = 0; t < 3; t++) {
        const a = plan.sourceAxis[t] as number
        const step = [0, 0, 0]
        step[a] = plan.flip[t] ? -1 : 1
        const p0 = indexToLPS(g, [0, 0, 0])
        const p1 = indexToLPS(g, step as unknown as Vec3)
        const dir = [0, 1, 2].map((r) => Math.sign((p1[r] as number) - (p0[r] as number)))
        assert.deepEqual(
          dir.map((x) => x + 0),
          want[t],
          `orientation ${n} dim ${t}`,
        )
      }
    }
  }
})

test('toTensorGrid ∘ fromTensorGrid is the identity for every orientation and axis order (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 47 }),
      fc.constantFrom('RAS', 'LPS', 'PSR', 'as-stored', 'ILA'),
      fc.constantFrom('kji', 'ijk', 'jki', 'ikj') as fc.Arbitrary<'kji' | 'ijk' | 'jki' | 'ikj'>,
      fc.tuple(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
      ),
      (oi, code, order, size) => {
        const g: VolumeGeometry = {
          sizeIJK: size,
          spacingMm: [1, 1, 1],
          originLPS: [0, 0, 0],
          directionLPS: ORIENTATIONS[oi]!,
        }
        const n = size[0] * size[1] * size[2]
        const src = Float32Array.from({ length: n }, (_, i) => i)
        const plan = planTensorAxes(g, code, order)
        const t = toTensorGrid(src, size, plan)
        assert.equal(t.length, n)
        assert.equal(plan.shape[0] * plan.shape[1] * plan.shape[2], n)
        const back = fromTensorGrid(t, size, plan, new Float32Array(n))
        assert.deepEqual(back, src)
      },
    ),
    { seed: 20261125, numRuns: 300 },
  )
})

test('oblique directions map to their closest axes one-to-one', () => {
  const c = Math.cos(0.5)
  const s = Math.sin(0.5)
  // 28.6° about z: i still mostly L, j mostly P.
  const dir = mat3FromColumns([c, s, 0], [-s, c, 0], [0, 0, 1])
  assert.deepEqual(closestLpsAxes(dir), [
    [0, 1],
    [1, 1],
    [2, 1],
  ])
  // 45° exactly: still a permutation (each LPS axis used once).
  const h = Math.SQRT1_2
  const axes = closestLpsAxes(mat3FromColumns([h, h, 0], [-h, h, 0], [0, 0, 1]))
  assert.deepEqual(new Set(axes.map(([a]) => a)).size, 3)
})

test('resampling: same shape is the identity; half-pixel mapping preserves constants and ramps', () => {
  const shape = [5, 6, 7] as const
  const src = Float32Array.from({ length: 5 * 6 * 7 }, (_, i) => Math.sin(i))
  assert.equal(resampleLinear(src, shape, shape), src)
  const ramp = new Float32Array(5 * 6 * 7)
  for (let d = 0; d < 5; d++) {
    for (let h = 0; h < 6; h++) for (let w = 0; w < 7; w++) ramp[(d * 6 + h) * 7 + w] = w
  }
  // Up-sampling ×2 along W: centres at (x + 0.5)/2 − 0.5, clamped to the edge voxels.
  const up = resampleLinear(ramp, shape, [5, 6, 14])
  const expect = Array.from({ length: 14 }, (_, x) => Math.min(6, Math.max(0, (x + 0.5) / 2 - 0.5)))
  assert.deepEqual(
    Array.from(up.subarray(0, 14)),
    expect.map((v) => Math.fround(v)),
  )
  const down = resampleLinear(up, [5, 6, 14], shape)
  for (let w = 1; w < 6; w++) assert.ok(Math.abs((down[w] as number) - w) < 1e-6)
  assert.deepEqual(targetShape([100, 50, 20], [1, 1, 3], [2, 2, 2]), [50, 25, 30])
  assert.deepEqual(targetShape([100, 50, 20], [1, 1, 3], null), [100, 50, 20])
})

test('tiles start at 0, end at the edge, and keep at least the overlap', () => {
  assert.deepEqual(tileStarts(32, 32, 0.5), [0])
  assert.deepEqual(tileStarts(20, 32, 0.5), [0])
  assert.deepEqual(tileStarts(64, 32, 0.5), [0, 16, 32])
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 64 }),
      fc.integer({ min: 0, max: 300 }),
      fc.double({ min: 0, max: 0.9, noNaN: true }),
      (patch, extra, ov) => {
        const size = patch + extra
        const s = tileStarts(size, patch, ov)
        assert.equal(s[0], 0)
        assert.equal((s.at(-1) as number) + patch, size)
        for (let i = 1; i < s.length; i++) {
          const step = (s[i] as number) - (s[i - 1] as number)
          assert.ok(step > 0 && step <= Math.max(1, patch * (1 - ov)) + 1, `step ${step}`)
        }
      },
    ),
    { seed: 7, numRuns: 300 },
  )
  assert.equal(tileOrigins([64, 32, 40], [32, 32, 32], 0.5).length, 3 * 1 * 2)
  assert.equal(tileTotal([64, 32, 40], [32, 32, 32], 0.5), 3 * 1 * 2)
  // The arithmetic count (used to plan before enumerating) is the list's length.
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 64 }),
      fc.integer({ min: 0, max: 300 }),
      fc.double({ min: 0, max: 0.9, noNaN: true }),
      (patch, size, ov) => {
        const s = Math.max(1, size)
        assert.equal(tileCount(s, patch, ov), tileStarts(Math.max(s, patch), patch, ov).length)
      },
    ),
    { seed: 11, numRuns: 300 },
  )
})

test('Gaussian importance: max 1 at the centre, symmetric, σ = patch/8, never 0', () => {
  const g = gaussianImportance([9, 16, 5], 0.125)
  let max = 0
  let min = Infinity
  for (const v of g) {
    max = Math.max(max, v)
    min = Math.min(min, v)
  }
  assert.ok(Math.abs(max - 1) < 1e-6 || max < 1)
  assert.ok(min > 0)
  const at = (d: number, h: number, w: number): number => g[(d * 16 + h) * 5 + w] as number
  assert.ok(Math.abs(at(4, 7, 2) - at(4, 8, 2)) < 1e-7) // even size: symmetric about 7.5
  assert.ok(Math.abs(at(0, 7, 2) - at(8, 7, 2)) < 1e-7)
  // Along D (n = 9, σ = 1.125): one voxel from the centre the weight drops by exp(−1/(2σ²)).
  const ratio = at(5, 7, 2) / at(4, 7, 2)
  assert.ok(Math.abs(ratio - Math.exp(-1 / (2 * 1.125 ** 2))) < 1e-5)
})

test('separable weight sum equals the per-tile sum of Gaussian weights; tiny σ falls back', () => {
  for (const [padded, patch, ov] of [
    [[40, 33, 50], [16, 16, 16], 0.5],
    [[32, 32, 32], [32, 32, 32], 0.5],
    [[70, 20, 41], [24, 20, 9], 0.3],
  ] as [[number, number, number], [number, number, number], number][]) {
    const sep = separableWeightSum(padded, patch, ov, 0.125)
    assert.ok(sep)
    const weight = gaussianImportance(patch, 0.125)
    const acc = new Float32Array(padded[0] * padded[1] * padded[2])
    const sum = new Float32Array(acc.length)
    const zeros = new Float32Array(patch[0] * patch[1] * patch[2])
    for (const o of tileOrigins(padded, patch, ov)) {
      accumulatePatch(acc, sum, padded, 1, o, patch, zeros, weight)
    }
    let worst = 0
    for (let i = 0; i < sum.length; i++) {
      worst = Math.max(worst, Math.abs((sep[i] as number) / (sum[i] as number) - 1))
    }
    assert.ok(worst < 1e-5, `relative difference ${worst}`)
  }
  assert.equal(separableWeightSum([400, 400, 400], [400, 400, 400], 0.5, 0.001), null)
})

test('pad then crop is the identity; mirroring twice is the identity; softmax sums to 1', () => {
  const shape = [3, 5, 2] as const
  const src = Float32Array.from({ length: 30 }, (_, i) => i + 1)
  const pad = padToPatch(shape, [4, 4, 6])
  assert.deepEqual(pad, [
    [0, 1],
    [0, 0],
    [2, 2],
  ])
  const padded = padGrid(src, shape, pad)
  assert.equal(padded.length, 4 * 5 * 6)
  assert.deepEqual(cropChannels(padded, 1, [4, 5, 6], pad, shape), src)
  for (const axes of mirrorCombos([0, 1, 2])) {
    const once = flipGrids(src, 1, shape, axes, new Float32Array(30))
    assert.deepEqual(flipGrids(once, 1, shape, axes, new Float32Array(30)), src)
  }
  assert.equal(mirrorCombos([0, 2]).length, 4)
  const logits = Float32Array.from([1000, -3, 0.5, 1002, 2, 0.5])
  softmaxChannels(logits, 1, 2, 3)
  for (let v = 0; v < 3; v++) {
    assert.ok(Math.abs((logits[v] as number) + (logits[3 + v] as number) - 1) < 1e-6)
  }
})

test('memory plan refuses before allocating, naming the largest part', () => {
  const plan = planMemory({
    sourceVoxels: 512 * 512 * 2000,
    tensorShape: [2000, 512, 512],
    modelShape: [2000, 512, 512],
    classes: 20,
    channels: 1,
    patch: [128, 128, 128],
    batch: 1,
    tta: true,
    uncertainty: true,
  })
  assert.throws(
    () => assertFits(plan, 8 * 2 ** 30),
    (e: unknown) =>
      e instanceof AppError && e.code === 'E_TOO_LARGE' && /accumulator/.test(e.message),
  )
})

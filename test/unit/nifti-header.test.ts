import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Mat3, VolumeGeometry } from '../../src/shared/geometry.js'
import { AppError } from '../../src/shared/errors.js'
import { affineRAS, maxAbsDiff } from '../../src/core/geometry/affine.js'
import { buildMaskHeader } from '../../src/core/nifti/nifti-write-header.js'
import {
  checkNiftiHeader,
  niftiQformRAS,
  niftiScaling,
  niftiSformRAS,
  parseNiftiHeader,
  reportNiftiXforms,
  type NiftiHeader,
} from '../../src/core/nifti/nifti-header.js'
import { preflightVoxelBytes } from '../../src/core/volume/limits.js'
import { signedPermutations } from '../helpers.js'

const g = (directionLPS: Mat3): VolumeGeometry => ({
  sizeIJK: [10, 12, 14],
  spacingMm: [0.9, 1.2, 3],
  originLPS: [-17.5, 33.25, 71],
  directionLPS,
})

test('mask header: qform and sform both reproduce the grid for all 48 orientations', () => {
  for (const d of signedPermutations()) {
    const h = parseNiftiHeader(buildMaskHeader({ geometry: g(d), datatype: 'uint8' }))
    const want = affineRAS(g(d))
    assert.ok(maxAbsDiff(niftiSformRAS(h)!, want) < 1e-5)
    assert.ok(maxAbsDiff(niftiQformRAS(h)!, want) < 1e-5, `qform for ${d.join(',')}`)
    assert.equal(h.qform_code, 1)
    assert.equal(h.sform_code, 1)
    assert.equal(checkNiftiHeader(h).payloadBytes, 10 * 12 * 14)
  }
})

test('property: mask header qform equals sform for oblique rotations and reflections', () => {
  fc.assert(
    fc.property(
      fc.double({ min: -3, max: 3, noNaN: true }),
      fc.double({ min: -3, max: 3, noNaN: true }),
      fc.boolean(),
      (a, b, flip) => {
        const [ca, sa, cb, sb] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b)]
        const f = flip ? -1 : 1
        const d: Mat3 = [cb, sb * sa, f * sb * ca, 0, ca, -f * sa, -sb, cb * sa, f * cb * ca]
        const h = parseNiftiHeader(
          buildMaskHeader({ geometry: g(d), datatype: 'uint16', qform_code: 2, sform_code: 4 }),
        )
        assert.ok(maxAbsDiff(niftiQformRAS(h)!, niftiSformRAS(h)!) < 2e-5)
        assert.equal(h.datatype, 512)
        assert.equal(reportNiftiXforms(h).warnings.length, 0)
      },
    ),
    { seed: 7, numRuns: 300 },
  )
})

const base = parseNiftiHeader(
  buildMaskHeader({ geometry: g([1, 0, 0, 0, 1, 0, 0, 0, 1]), datatype: 'uint8' }),
)
const codeOf = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    assert.ok(e instanceof AppError)
    return e.code
  }
  return 'none'
}

test('header checks: bad dims, datatype, bitpix, 4-D, magic', () => {
  const h = (over: Partial<NiftiHeader>): NiftiHeader => ({ ...base, ...over })
  assert.equal(
    codeOf(() => checkNiftiHeader(h({ dim: [0, 1, 1, 1, 1, 1, 1, 1] }))),
    'E_BAD_HEADER',
  )
  assert.equal(
    codeOf(() => checkNiftiHeader(h({ dim: [3, 10, -1, 1, 1, 1, 1, 1] }))),
    'E_BAD_HEADER',
  )
  assert.equal(
    codeOf(() => checkNiftiHeader(h({ datatype: 3 }))),
    'E_BAD_HEADER',
  )
  assert.equal(
    codeOf(() => checkNiftiHeader(h({ datatype: 128, bitpix: 24 }))),
    'E_UNSUPPORTED',
  )
  assert.equal(
    codeOf(() => checkNiftiHeader(h({ bitpix: 16 }))),
    'E_BAD_HEADER',
  )
  assert.equal(
    codeOf(() => checkNiftiHeader(h({ dim: [4, 10, 10, 10, 5, 1, 1, 1] }))),
    'E_UNSUPPORTED',
  )
  const bytes = buildMaskHeader({ geometry: g([1, 0, 0, 0, 1, 0, 0, 0, 1]), datatype: 'uint8' })
  bytes[344] = 0x78
  assert.equal(
    codeOf(() => parseNiftiHeader(bytes)),
    'E_BAD_HEADER',
  )
  assert.equal(
    codeOf(() => parseNiftiHeader(bytes.subarray(0, 100))),
    'E_TRUNCATED',
  )
})

test('absurd dimensions are refused before allocating', () => {
  const t = performance.now()
  assert.equal(
    codeOf(() => preflightVoxelBytes([4096, 4096, 4096], 4)),
    'E_TOO_LARGE',
  )
  assert.equal(
    codeOf(() => preflightVoxelBytes([32767, 32767, 32767], 8, { copies: 2 })),
    'E_TOO_LARGE',
  )
  assert.equal(preflightVoxelBytes([512, 512, 300], 2), 512 * 512 * 300 * 2)
  assert.ok(performance.now() - t < 1000)
})

test('scl_slope applies only when finite and non-zero (nifti1.h)', () => {
  assert.equal(niftiScaling({ ...base, scl_slope: Number.NaN, scl_inter: 5 }), undefined)
  assert.equal(niftiScaling({ ...base, scl_slope: 0, scl_inter: 5 }), undefined)
  assert.equal(niftiScaling({ ...base, scl_slope: Infinity, scl_inter: 5 }), undefined)
  assert.equal(niftiScaling({ ...base, scl_slope: 1, scl_inter: 0 }), undefined)
  assert.deepEqual(niftiScaling({ ...base, scl_slope: 2, scl_inter: -10 }), {
    slope: 2,
    inter: -10,
  })
  assert.deepEqual(niftiScaling({ ...base, scl_slope: 1, scl_inter: Number.NaN }), undefined)
})

test('qform/sform disagreement and missing transforms are reported', () => {
  const shifted = { ...base, sformRAS: base.sformRAS.map((v, i) => (i === 3 ? v + 5 : v)) }
  const r = reportNiftiXforms(shifted)
  assert.ok(Math.abs(r.disagreementMm! - 5) < 1e-4)
  assert.match(r.warnings.join(), /disagree by up to 5\.00 mm/)
  const none = reportNiftiXforms({ ...base, qform_code: 0, sform_code: 0 })
  assert.match(none.warnings.join(), /no patient orientation/)
  const sheared = reportNiftiXforms({
    ...base,
    sformRAS: base.sformRAS.map((v, i) => (i === 1 ? 0.4 : v)),
  })
  assert.equal(sheared.sformSheared, true)
})

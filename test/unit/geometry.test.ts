import { signedPermutations } from '../helpers.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Mat3, Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import {
  affineLPS,
  affineRAS,
  geometryFromAffineLPS,
  geometryFromAffineRAS,
  indexToLPS,
  lpsRasFlip,
  maxAbsDiff,
  orientationLetters,
  orthonormalityError,
} from '../../src/core/geometry/affine.js'

const geom = (
  directionLPS: Mat3,
  spacingMm: Vec3 = [0.8, 1.1, 2.5],
  originLPS: Vec3 = [12.5, -40, 7],
): VolumeGeometry => ({
  sizeIJK: [7, 9, 11],
  spacingMm,
  originLPS,
  directionLPS,
})

test('48 orientations: affine → geometry is the identity and letters are distinct axes', () => {
  const seen = new Set<string>()
  for (const d of signedPermutations()) {
    const g = geom(d)
    const back = geometryFromAffineLPS(affineLPS(g), g.sizeIJK)
    assert.ok(maxAbsDiff(affineLPS(back), affineLPS(g)) < 1e-12)
    assert.ok(
      maxAbsDiff(affineRAS(geometryFromAffineRAS(affineRAS(g), g.sizeIJK)), affineRAS(g)) < 1e-12,
    )
    const letters = orientationLetters(d)
    assert.equal(
      new Set(letters.replace(/[RL]/, 'x').replace(/[AP]/, 'y').replace(/[SI]/, 'z')).size,
      3,
    )
    seen.add(letters)
  }
  assert.equal(seen.size, 48)
})

test('orientation letters of the standard frames', () => {
  assert.equal(orientationLetters([1, 0, 0, 0, 1, 0, 0, 0, 1]), 'LPS')
  assert.equal(orientationLetters([-1, 0, 0, 0, -1, 0, 0, 0, 1]), 'RAS')
  assert.equal(orientationLetters([0, 0, -1, 1, 0, 0, 0, -1, 0]), 'PIR')
})

test('LPS ↔ RAS flips x and y only, and is its own inverse', () => {
  const g = geom([1, 0, 0, 0, 1, 0, 0, 0, 1])
  const ras = affineRAS(g)
  assert.deepEqual(
    ras.slice(0, 4),
    [-0.8, -0, -0, -12.5].map((v) => v + 0),
  )
  assert.equal(ras[11], 7)
  assert.ok(maxAbsDiff(lpsRasFlip(ras), affineLPS(g)) === 0)
})

test('property: random rotations round-trip and index → LPS matches the affine', () => {
  fc.assert(
    fc.property(
      fc.tuple(
        fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
        fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
        fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
      ),
      fc.tuple(
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        fc.double({ min: 0.1, max: 5, noNaN: true }),
      ),
      fc.boolean(),
      ([a, b, c], spacing, flip) => {
        const [ca, sa, cb, sb, cc, sc] = [
          Math.cos(a),
          Math.sin(a),
          Math.cos(b),
          Math.sin(b),
          Math.cos(c),
          Math.sin(c),
        ]
        // Rz(c)·Ry(b)·Rx(a), optionally with k reflected.
        const f = flip ? -1 : 1
        const d: Mat3 = [
          cc * cb,
          cc * sb * sa - sc * ca,
          f * (cc * sb * ca + sc * sa),
          sc * cb,
          sc * sb * sa + cc * ca,
          f * (sc * sb * ca - cc * sa),
          -sb,
          cb * sa,
          f * cb * ca,
        ]
        const g = geom(d, spacing as unknown as Vec3)
        assert.ok(orthonormalityError(d) < 1e-12)
        const back = geometryFromAffineLPS(affineLPS(g), g.sizeIJK)
        assert.ok(maxAbsDiff(affineLPS(back), affineLPS(g)) < 1e-9)
        const p = indexToLPS(g, [3, 4, 5])
        const m = affineLPS(g)
        for (let r = 0; r < 3; r++) {
          const expect =
            (m[r * 4] as number) * 3 +
            (m[r * 4 + 1] as number) * 4 +
            (m[r * 4 + 2] as number) * 5 +
            (m[r * 4 + 3] as number)
          assert.ok(Math.abs((p[r] as number) - expect) < 1e-9)
        }
      },
    ),
    { seed: 20261125, numRuns: 300 },
  )
})

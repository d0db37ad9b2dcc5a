/**
 * Review hotspots (renderer/src/workers/hotspots.ts, no DOM): regions grow from saturated seeds
 * down to a quarter of the maximum, so they differ in size and mean uncertainty and rank by
 * size × mean. Known answers on a synthetic 24³ grid with two uncertain blobs.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findHotspots } from '../../renderer/src/workers/hotspots.js'
import type { Mat3, Vec3 } from '../../src/shared/geometry.js'

const N = 24
const at = (i: number, j: number, k: number): number => i + N * (j + N * k)

test('hotspots: a saturated core with a wide uncertain rim outranks a bare saturated core', () => {
  const u = new Float32Array(N ** 3)
  const labels = new Uint8Array(N ** 3).fill(1)
  // Blob A: a 2×2×2 core at 1.0 inside a 6×6×6 cube at 0.5 (i, j, k in 2..7).
  for (let k = 2; k < 8; k++) {
    for (let j = 2; j < 8; j++) for (let i = 2; i < 8; i++) u[at(i, j, k)] = 0.5
  }
  for (let k = 4; k < 6; k++) {
    for (let j = 4; j < 6; j++) for (let i = 4; i < 6; i++) u[at(i, j, k)] = 1
  }
  // Blob B: a bare 3×3×3 core at 1.0 (i, j, k in 15..17), nothing around it.
  for (let k = 15; k < 18; k++) {
    for (let j = 15; j < 18; j++) for (let i = 15; i < 18; i++) u[at(i, j, k)] = 1
  }
  // Background noise under the growing threshold (the 98th percentile, 0.5 here): never joins.
  for (let x = 0; x < u.length; x += 7) if (u[x] === 0) u[x] = 0.2
  const identity: Mat3 = [2, 0, 0, 0, 2, 0, 0, 0, 2]
  const origin: Vec3 = [-10, -10, -10]
  const { hotspots } = findHotspots({
    id: 1,
    sizeIJK: [N, N, N],
    indexToLPS: identity,
    originLPS: origin,
    uncertainty: u,
    labels,
    perLabel: 5,
  })
  assert.equal(hotspots.length, 2)
  const [a, b] = hotspots
  assert.equal(a!.voxels, 216, 'blob A grew over its whole rim')
  assert.ok(Math.abs(a!.meanUncertainty - (8 * 1 + 208 * 0.5) / 216) < 1e-6)
  assert.deepEqual(a!.centreLPS, [-10 + 2 * 4.5, -10 + 2 * 4.5, -10 + 2 * 4.5])
  assert.equal(b!.voxels, 27)
  assert.equal(b!.meanUncertainty, 1)
  // The figures that separate them: size × mean, 112 against 27.
  assert.ok(a!.voxels * a!.meanUncertainty > b!.voxels * b!.meanUncertainty)
  assert.notEqual(a!.meanUncertainty.toFixed(2), b!.meanUncertainty.toFixed(2))
})

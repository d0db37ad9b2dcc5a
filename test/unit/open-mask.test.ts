// Issue 14, a saved mask opened back as labels: which voxels are labels, and which grids are the
// image's. Known answers on small arrays and geometries.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { toLabelVoxels } from '../../src/core/segmentation/label-voxels.js'
import { gridMismatch } from '../../src/core/geometry/grid-match.js'
import type { VolumeGeometry } from '../../src/shared/geometry.js'

test('whole numbers 0..255 become uint8, up to 65535 uint16; the uint8 input is not copied', () => {
  const u8 = new Uint8Array([0, 1, 255])
  const a = toLabelVoxels(u8)
  assert.ok(a.ok)
  assert.equal(a.voxels, u8)
  const b = toLabelVoxels(new Float32Array([0, 2, 7]))
  assert.ok(b.ok)
  assert.equal(b.dataType, 'uint8')
  assert.deepEqual([...b.voxels], [0, 2, 7])
  const c = toLabelVoxels(new Int32Array([0, 300, 65535]))
  assert.ok(c.ok)
  assert.equal(c.dataType, 'uint16')
  assert.deepEqual([...c.voxels], [0, 300, 65535])
})

test('fractions, NaN, negatives and values above 65535 are refused, naming the first voxel', () => {
  const cases: [ArrayLike<number> & Iterable<number>, string][] = [
    [new Float32Array([0, 0.5]), 'voxel 1 holds 0.5, not a whole number'],
    [new Float64Array([0, 1, NaN]), 'voxel 2 holds NaN'],
    [new Int16Array([3, -2]), 'voxel 1 holds -2, a negative value'],
    [new Uint32Array([65536]), 'voxel 0 holds 65536, above 65535'],
  ]
  for (const [v, why] of cases) {
    const r = toLabelVoxels(v as Float32Array)
    assert.equal(r.ok, false)
    assert.equal(r.ok ? '' : r.problem, `${why}: this is not a label map`)
  }
})

const image: VolumeGeometry = {
  sizeIJK: [10, 12, 8],
  spacingMm: [0.8, 0.8, 3],
  originLPS: [-100, 20, 5],
  directionLPS: [1, 0, 0, 0, 0, 1, 0, -1, 0],
}

test('a grid differing by float32 round-off is the same grid; a shift or a tilt is not', () => {
  const f32 = (xs: readonly number[]): number[] => [...new Float32Array(xs)]
  const rounded: VolumeGeometry = {
    ...image,
    originLPS: f32([-100.00001, 20.00002, 5]) as unknown as VolumeGeometry['originLPS'],
    spacingMm: f32([0.8, 0.8, 3]) as unknown as VolumeGeometry['spacingMm'],
  }
  assert.equal(gridMismatch(image, rounded), undefined)
  const shifted: VolumeGeometry = { ...image, originLPS: [-99.5, 20, 5] }
  assert.match(
    gridMismatch(image, shifted) ?? '',
    /up to 0\.50 mm .*axes 0\.0° apart; at most 0\.040 mm/,
  )
  const c = Math.cos(0.01)
  const s = Math.sin(0.01)
  const tilted: VolumeGeometry = { ...image, directionLPS: [c, 0, s, 0, 0, 1, -s, -1, 0] }
  assert.match(gridMismatch(image, tilted) ?? '', /axes 0\.6° apart/)
  assert.equal(
    gridMismatch(image, { ...image, sizeIJK: [10, 12, 9] }),
    'the mask has 10×12×9 voxels, the image 10×12×8',
  )
})

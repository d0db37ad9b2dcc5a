import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import { createLabelVolume, voxelIndex } from '../../src/core/segmentation/label-volume.js'
import { floodFill } from '../../src/core/segmentation/flood-fill.js'
import {
  keepLargestIsland,
  removeSmallIslands,
  splitIslands,
} from '../../src/core/segmentation/islands.js'
import { revertDelta } from '../../src/core/segmentation/label-delta.js'

const geom = (size: Vec3, spacing: Vec3 = [1, 1, 1]): VolumeGeometry => ({
  sizeIJK: size,
  spacingMm: spacing,
  originLPS: [0, 0, 0],
  directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
})
const count = (a: ArrayLike<number>, v: number): number => {
  let n = 0
  for (let x = 0; x < a.length; x++) if (a[x] === v) n++
  return n
}

test('3-D fill grows through in-range voxels, 6-connected (a diagonal-only touch is not crossed)', () => {
  const g = geom([10, 10, 10])
  const vol = createLabelVolume(g)
  const intensity = new Float32Array(1000)
  // A 4×4×4 bright cube at 1..4, and a bright voxel touching it only at a corner (5,5,5).
  for (let k = 1; k <= 4; k++) {
    for (let j = 1; j <= 4; j++) {
      for (let i = 1; i <= 4; i++) intensity[voxelIndex(g.sizeIJK, i, j, k)] = 100
    }
  }
  intensity[voxelIndex(g.sizeIJK, 5, 5, 5)] = 100
  const r = floodFill(vol, { seedIJK: [2, 2, 2], intensity, range: [50, 150], value: 7 })
  assert.equal(r.regionVoxels, 64)
  assert.equal(count(vol.labels, 7), 64)
  assert.equal(vol.labels[voxelIndex(g.sizeIJK, 5, 5, 5)], 0)
  assert.deepEqual(r.delta.box, [1, 1, 1, 5, 5, 5])
  revertDelta(vol, r.delta)
  assert.equal(count(vol.labels, 0), 1000)
})

test('2-D fill stays in the seed slice; onlyLabel limits growth', () => {
  const g = geom([10, 10, 10])
  const vol = createLabelVolume(g)
  const intensity = new Int16Array(1000).fill(10)
  const r = floodFill(vol, {
    seedIJK: [3, 3, 4],
    intensity,
    range: [0, 20],
    value: 1,
    sliceAxis: 2,
  })
  assert.equal(r.regionVoxels, 100)
  for (let n = 0; n < 1000; n++) assert.equal(vol.labels[n], Math.floor(n / 100) === 4 ? 1 : 0)
  // Only through label 0: the filled slice 4 is a wall; slices 0..3 fill from a seed in slice 0.
  const r2 = floodFill(vol, {
    seedIJK: [0, 0, 0],
    intensity,
    range: [0, 20],
    value: 2,
    onlyLabel: 0,
  })
  assert.equal(r2.regionVoxels, 400)
  assert.equal(count(vol.labels, 1), 100)
})

test('fill on a 256×256×64 volume is linear (one pass, no recursion limit)', () => {
  const g = geom([256, 256, 64])
  const vol = createLabelVolume(g)
  const intensity = new Uint8Array(256 * 256 * 64).fill(1)
  const t = Date.now()
  const r = floodFill(vol, { seedIJK: [0, 0, 0], intensity, range: [1, 1], value: 1 })
  assert.equal(r.regionVoxels, 256 * 256 * 64)
  assert.ok(Date.now() - t < 5000)
})

/** Three blobs of label 1: 27 voxels, 8 voxels, 1 voxel; one blob of label 2 of 1 voxel. */
const blobs = () => {
  const g = geom([12, 12, 12], [1, 1, 2])
  const vol = createLabelVolume(g)
  const set = (i: number, j: number, k: number, v: number) =>
    (vol.labels[voxelIndex(g.sizeIJK, i, j, k)] = v)
  for (let k = 0; k < 3; k++) {
    for (let j = 0; j < 3; j++) for (let i = 0; i < 3; i++) set(i, j, k, 1)
  }
  for (let k = 6; k < 8; k++) {
    for (let j = 6; j < 8; j++) for (let i = 6; i < 8; i++) set(i, j, k, 1)
  }
  set(11, 11, 11, 1)
  set(11, 0, 0, 2)
  return vol
}

test('remove islands < N mm³ (voxel = 2 mm³), per label and for all labels', () => {
  const v = blobs()
  const r = removeSmallIslands(v, 10, { label: 1 })
  assert.equal(r.componentsChanged, 1) // the 1-voxel blob (2 mm³); the 8-voxel blob is 16 mm³
  assert.equal(count(v.labels, 1), 35)
  assert.equal(count(v.labels, 2), 1)
  const all = blobs()
  assert.equal(removeSmallIslands(all, 20).componentsChanged, 3)
  assert.equal(count(all.labels, 1), 27)
  assert.equal(count(all.labels, 2), 0)
})

test('keep largest; 6 vs 26 connectivity; split into new values from a free list', () => {
  const v = blobs()
  keepLargestIsland(v)
  assert.equal(count(v.labels, 1), 27)
  assert.equal(count(v.labels, 2), 1)
  // Two voxels touching at a corner: one component with 26, two with 6.
  const g = geom([4, 4, 4])
  const c = createLabelVolume(g)
  c.labels[voxelIndex(g.sizeIJK, 0, 0, 0)] = 1
  c.labels[voxelIndex(g.sizeIJK, 1, 1, 1)] = 1
  assert.equal(
    keepLargestIsland(createLabelVolumeFrom(c), { connectivity: 26 }).componentsChanged,
    0,
  )
  assert.equal(
    keepLargestIsland(createLabelVolumeFrom(c), { connectivity: 6 }).componentsChanged,
    1,
  )
  const s = blobs()
  const r = splitIslands(s, 1, [9, 10, 11])
  assert.deepEqual(r.assigned, [9, 10])
  assert.equal(count(s.labels, 1), 27)
  assert.equal(count(s.labels, 9), 8)
  assert.equal(count(s.labels, 10), 1)
  assert.throws(() => splitIslands(blobs(), 1, [9]), RangeError)
  revertDelta(s, r.delta)
  assert.deepEqual(s.labels, blobs().labels)
})

function createLabelVolumeFrom(v: ReturnType<typeof createLabelVolume>) {
  return { geometry: v.geometry, labels: v.labels.slice() }
}

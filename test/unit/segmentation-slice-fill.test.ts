import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Mat3, Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import { createLabelVolume, voxelIndex } from '../../src/core/segmentation/label-volume.js'
import { revertDelta } from '../../src/core/segmentation/label-delta.js'
import {
  mergeSliceFill,
  nearestVoxelAxis,
  planSliceFill,
  subImageAxes,
} from '../../src/core/segmentation/slice-fill.js'

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

test('nearestVoxelAxis: the voxel axis closest to the view normal, sign ignored', () => {
  const id: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]
  assert.equal(nearestVoxelAxis(id, [0, 0, 1]), 2)
  assert.equal(nearestVoxelAxis(id, [0, -1, 0]), 1)
  assert.equal(nearestVoxelAxis(id, [-0.9, 0.1, 0.3]), 0)
  // A sagittally acquired grid: i → S, j → P, k → L (columns of directionLPS).
  const sag: Mat3 = [0, 0, 1, 0, 1, 0, 1, 0, 0]
  assert.equal(nearestVoxelAxis(sag, [0, 0, 1]), 0, 'axial view steps along i')
  assert.equal(nearestVoxelAxis(sag, [1, 0, 0]), 2, 'sagittal view steps along k')
  assert.deepEqual(subImageAxes(0), [1, 2, 0])
  assert.deepEqual(subImageAxes(1), [0, 2, 1])
  assert.deepEqual(subImageAxes(2), [0, 1, 2])
})

test('planSliceFill: fewer than two slices, or no empty slice between, is said so', () => {
  const g = geom([8, 8, 8])
  const vol = createLabelVolume(g)
  assert.deepEqual(planSliceFill(vol, { label: 1, axis: 2 }), {
    kind: 'too-few-slices',
    slices: [],
  })
  vol.labels[voxelIndex(g.sizeIJK, 3, 3, 4)] = 1
  vol.labels[voxelIndex(g.sizeIJK, 4, 3, 4)] = 1
  assert.deepEqual(planSliceFill(vol, { label: 1, axis: 2 }), {
    kind: 'too-few-slices',
    slices: [4],
  })
  vol.labels[voxelIndex(g.sizeIJK, 3, 3, 5)] = 1
  assert.deepEqual(planSliceFill(vol, { label: 1, axis: 2 }), { kind: 'no-gap', slices: [4, 5] })
  // Along i the same voxels sit on slices 3 and 4: contiguous too.
  assert.deepEqual(planSliceFill(vol, { label: 1, axis: 0 }), { kind: 'no-gap', slices: [3, 4] })
  // Another label on other slices does not count.
  vol.labels[voxelIndex(g.sizeIJK, 3, 3, 7)] = 2
  assert.equal(planSliceFill(vol, { label: 1, axis: 2 }).kind, 'no-gap')
})

for (const axis of [0, 1, 2] as const) {
  test(`planSliceFill along axis ${axis}: box, slices and the permuted binary sub-image`, () => {
    const g = geom([9, 10, 11], [0.5, 0.75, 2])
    const vol = createLabelVolume(g)
    // Two small squares of label 3 on slices 2 and 6 of `axis`, a label 4 voxel in between.
    const at = (s: number, u: number, v: number): number => {
      const ijk = [0, 0, 0]
      const [a, b] = subImageAxes(axis)
      ijk[axis] = s
      ijk[a] = u
      ijk[b] = v
      return voxelIndex(g.sizeIJK, ijk[0]!, ijk[1]!, ijk[2]!)
    }
    for (const [s, u0, v0] of [
      [2, 3, 4],
      [6, 4, 5],
    ] as const) {
      for (let u = u0; u < u0 + 3; u++) {
        for (let v = v0; v < v0 + 2; v++) vol.labels[at(s, u, v)] = 3
      }
    }
    vol.labels[at(4, 4, 5)] = 4
    const plan = planSliceFill(vol, { label: 3, axis, marginVoxels: 1 })
    assert.equal(plan.kind, 'ready')
    if (plan.kind !== 'ready') return
    const p = plan.input
    assert.deepEqual(p.slices, [2, 6])
    assert.equal(p.axis, axis)
    assert.deepEqual(p.axes, subImageAxes(axis))
    // In-plane: u 3..6, v 4..6, margin 1 → [2, 8) and [3, 8); along the axis [1, 8).
    const lo = [0, 0, 0]
    const hi = [0, 0, 0]
    lo[axis] = 1
    hi[axis] = 8
    lo[p.axes[0]] = 2
    hi[p.axes[0]] = 8
    lo[p.axes[1]] = 3
    hi[p.axes[1]] = 8
    assert.deepEqual(p.box, [...lo, ...hi])
    assert.deepEqual(p.sizeXYZ, [6, 5, 7])
    assert.deepEqual(p.spacingMm, [
      g.spacingMm[p.axes[0]],
      g.spacingMm[p.axes[1]],
      g.spacingMm[axis],
    ])
    assert.equal(count(p.binary, 1), 12)
    assert.equal(count(p.binary, 0), p.binary.length - 12)
    // Sub-image (x, y, z) = grid (u, v, s) − box lower corner.
    const sub = (s: number, u: number, v: number): number =>
      u - lo[p.axes[0]]! + 6 * (v - lo[p.axes[1]]! + 5 * (s - lo[axis]!))
    assert.equal(p.binary[sub(2, 3, 4)], 1)
    assert.equal(p.binary[sub(6, 6, 6)], 1)
    assert.equal(p.binary[sub(4, 4, 5)], 0, 'the other label is background')
    assert.equal(p.binary[sub(6, 3, 4)], 0)
  })
}

test('mergeSliceFill: writes only on unlabelled voxels, never over another label; undo exact', () => {
  const g = geom([6, 6, 6])
  const vol = createLabelVolume(g)
  const L = 2
  vol.labels[voxelIndex(g.sizeIJK, 2, 2, 1)] = L
  vol.labels[voxelIndex(g.sizeIJK, 2, 2, 4)] = L
  vol.labels[voxelIndex(g.sizeIJK, 2, 2, 3)] = 9 // another label in the way
  const plan = planSliceFill(vol, { label: L, axis: 2, marginVoxels: 0 })
  assert.equal(plan.kind, 'ready')
  if (plan.kind !== 'ready') return
  assert.deepEqual(plan.input.box, [2, 2, 0, 3, 3, 6])
  const original = vol.labels.slice()
  // A made-up filter output: the whole column inside.
  const out = new Uint8Array(plan.input.binary.length).fill(1)
  const r = mergeSliceFill(vol, plan.input, out)
  assert.equal(r.keptOther, 1)
  assert.equal(r.delta.changed, 3, 'k = 0, 2 and 5 (1 and 4 were already L, 3 is label 9)')
  assert.equal(vol.labels[voxelIndex(g.sizeIJK, 2, 2, 3)], 9)
  assert.equal(count(vol.labels, L), 5)
  // Zero in the output never erases.
  revertDelta(vol, r.delta)
  assert.deepEqual(vol.labels, original)
  const none = mergeSliceFill(vol, plan.input, new Uint8Array(out.length))
  assert.equal(none.delta.changed, 0)
  assert.deepEqual(vol.labels, original)
  assert.throws(() => mergeSliceFill(vol, plan.input, new Uint8Array(3)), RangeError)
})

test('mergeSliceFill on 16-bit labels keeps the label value and type', () => {
  const g = geom([4, 4, 5])
  const vol = createLabelVolume(g, 1000)
  vol.labels[voxelIndex(g.sizeIJK, 1, 1, 0)] = 700
  vol.labels[voxelIndex(g.sizeIJK, 1, 1, 4)] = 700
  const plan = planSliceFill(vol, { label: 700, axis: 2, marginVoxels: 0 })
  assert.equal(plan.kind, 'ready')
  if (plan.kind !== 'ready') return
  const r = mergeSliceFill(vol, plan.input, new Uint8Array(plan.input.binary.length).fill(1))
  assert.ok(r.delta.after instanceof Uint16Array)
  assert.equal(count(vol.labels, 700), 5)
})

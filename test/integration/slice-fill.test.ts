/**
 * Fill between slices (issue 14) in Node: the pipeline the viewer runs (planSliceFill → the
 * morphological contour interpolation filter on the binary sub-image → mergeSliceFill), with
 * the filter from the node entry of @itk-wasm/morphological-contour-interpolation, checked
 * voxel for voxel against the same filter run directly on the whole grid, plus known answers:
 * the slices between are filled with a growing disc, nothing outside, other labels untouched,
 * undo exact.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { morphologicalContourInterpolationNode } from '@itk-wasm/morphological-contour-interpolation'
import type { Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import {
  createLabelVolume,
  voxelIndex,
  type LabelVolume,
} from '../../src/core/segmentation/label-volume.js'
import { revertDelta } from '../../src/core/segmentation/label-delta.js'
import {
  SLICE_FILL_OPTIONS,
  mergeSliceFill,
  nearestVoxelAxis,
  planSliceFill,
  type SliceFillMerge,
  type VoxelAxis,
} from '../../src/core/segmentation/slice-fill.js'

type McImage = Parameters<typeof morphologicalContourInterpolationNode>[0]

/** A 3-D uint8 scalar itk-wasm Image (identity direction, origin 0). */
function itkImage(size: Vec3, spacing: Vec3, data: Uint8Array): McImage {
  return {
    imageType: { dimension: 3, componentType: 'uint8', pixelType: 'Scalar', components: 1 },
    name: 'labels',
    origin: [0, 0, 0],
    spacing: [...spacing],
    direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]),
    size: [...size],
    data,
    metadata: new Map(),
  } as McImage
}

/** The viewer's pipeline, with the filter run by the node entry instead of the worker. */
async function fillBetween(
  vol: LabelVolume,
  label: number,
  axis: VoxelAxis,
): Promise<SliceFillMerge> {
  const plan = planSliceFill(vol, { label, axis })
  assert.equal(plan.kind, 'ready', JSON.stringify(plan))
  if (plan.kind !== 'ready') throw new Error('not ready')
  const p = plan.input
  const { outputImage } = await morphologicalContourInterpolationNode(
    itkImage(p.sizeXYZ, p.spacingMm, p.binary.slice()),
    SLICE_FILL_OPTIONS,
  )
  return mergeSliceFill(vol, p, outputImage.data as Uint8Array)
}

const LABEL = 3
const OTHER = 5
const FAR = 7
const SIZE: Vec3 = [32, 32, 12]
const geom = (size: Vec3): VolumeGeometry => ({
  sizeIJK: size,
  spacingMm: [0.9, 0.9, 2.5],
  originLPS: [0, 0, 0],
  directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
})

/** Grid index of in-plane (u, v) on slice s, for slices along `axis` (u, v: the other axes). */
function at(size: Vec3, axis: VoxelAxis, s: number, u: number, v: number): number {
  const ijk = [0, 0, 0]
  const [a, b] = [0, 1, 2].filter((x) => x !== axis)
  ijk[axis] = s
  ijk[a!] = u
  ijk[b!] = v
  return voxelIndex(size, ijk[0]!, ijk[1]!, ijk[2]!)
}

/** A disc of `radius` voxels centred in the plane (15.5, 15.5) on slice s. */
function disc(vol: LabelVolume, axis: VoxelAxis, s: number, radius: number, value: number): void {
  for (let v = 0; v < 32; v++) {
    for (let u = 0; u < 32; u++) {
      if ((u - 15.5) ** 2 + (v - 15.5) ** 2 <= radius * radius) {
        vol.labels[at(vol.geometry.sizeIJK, axis, s, u, v)] = value
      }
    }
  }
}

/** Discs of LABEL (r 6 on slice 2, r 10 on slice 8), OTHER in the gap, FAR beyond slice 8. */
function drawn(axis: VoxelAxis): LabelVolume {
  const size: Vec3 = axis === 2 ? SIZE : axis === 0 ? [12, 32, 32] : [32, 12, 32]
  const vol = createLabelVolume(geom(size))
  disc(vol, axis, 2, 6, LABEL)
  disc(vol, axis, 8, 10, LABEL)
  // another label where the fill will pass (slice 5, a 3×3 block at the centre)…
  for (let u = 14; u < 17; u++) {
    for (let v = 14; v < 17; v++) vol.labels[at(size, axis, 5, u, v)] = OTHER
  }
  // …and one far from it (slice 10)
  vol.labels[at(size, axis, 10, 1, 1)] = FAR
  return vol
}

const perSlice = (vol: LabelVolume, axis: VoxelAxis, value: number): number[] => {
  const size = vol.geometry.sizeIJK
  return Array.from({ length: size[axis] }, (_, s) => {
    let n = 0
    for (let v = 0; v < 32; v++) {
      for (let u = 0; u < 32; u++) if (vol.labels[at(size, axis, s, u, v)] === value) n++
    }
    return n
  })
}

test('fill between two discs along k: same voxels as the filter on the whole grid, known answers', async () => {
  const vol = drawn(nearestVoxelAxis(geom(SIZE).directionLPS, [0, 0, 1]))
  const original = vol.labels.slice()
  // Direct: the filter on the whole grid's binary mask of the label, along k (axis 2).
  const binary = Uint8Array.from(original, (v) => (v === LABEL ? 1 : 0))
  const direct = (
    await morphologicalContourInterpolationNode(itkImage(SIZE, geom(SIZE).spacingMm, binary), {
      label: 1,
      axis: 2,
    })
  ).outputImage.data as Uint8Array
  const r = await fillBetween(vol, LABEL, 2)
  // Same voxels: the direct output merged by the same rule (never over another label).
  let diff = 0
  let blocked = 0
  for (let n = 0; n < original.length; n++) {
    const o = original[n]!
    const want = direct[n] && (o === 0 || o === LABEL) ? LABEL : o
    if (direct[n] && o !== 0 && o !== LABEL) blocked++
    if (vol.labels[n] !== want) diff++
  }
  assert.equal(diff, 0, 'voxels differing from the direct run')
  assert.equal(r.keptOther, blocked)
  assert.ok(blocked > 0, 'the fill passed through the other label')
  // Known answers.
  const counts = perSlice(vol, 2, LABEL)
  const drawnCounts = perSlice({ geometry: vol.geometry, labels: original }, 2, LABEL)
  assert.deepEqual(counts.slice(0, 2), [0, 0], 'nothing before the first drawn slice')
  assert.deepEqual(counts.slice(9), [0, 0, 0], 'nothing after the last drawn slice')
  assert.equal(counts[2], drawnCounts[2], 'drawn slice 2 kept')
  assert.equal(counts[8], drawnCounts[8], 'drawn slice 8 kept')
  // The disc grows from radius 6 to 10: the area never shrinks (on slice 5 counting the voxels
  // OTHER kept), and stays within the larger disc.
  const area = (k: number): number => counts[k]! + (k === 5 ? blocked : 0)
  for (let k = 3; k < 8; k++) {
    assert.ok(counts[k]! > 0, `slice ${k} filled`)
    assert.ok(area(k) >= area(k - 1), `slice ${k} not smaller: ${counts.join(' ')}`)
    assert.ok(area(k) <= drawnCounts[8]!, `slice ${k} within the larger disc`)
  }
  assert.ok(area(5) > Math.PI * 7 ** 2 && area(5) < Math.PI * 9 ** 2, `slice 5: ${area(5)}`)
  // Every filled voxel lies within the larger disc's footprint.
  for (let k = 3; k < 8; k++) {
    for (let j = 0; j < 32; j++) {
      for (let i = 0; i < 32; i++) {
        if (vol.labels[voxelIndex(SIZE, i, j, k)] !== LABEL) continue
        assert.ok((i - 15.5) ** 2 + (j - 15.5) ** 2 <= 10.5 ** 2, `(${i}, ${j}, ${k}) outside`)
      }
    }
  }
  // Other labels untouched: every voxel that was not 0 or LABEL is the same.
  for (let n = 0; n < original.length; n++) {
    if (original[n] !== 0 && original[n] !== LABEL) assert.equal(vol.labels[n], original[n])
  }
  assert.equal(perSlice(vol, 2, OTHER)[5], 9)
  assert.equal(perSlice(vol, 2, FAR)[10], 1)
  // The one undo step restores the exact bytes.
  assert.equal(
    r.delta.changed,
    counts.reduce((a, b) => a + b, 0) - drawnCounts[2]! - drawnCounts[8]!,
  )
  revertDelta(vol, r.delta)
  assert.deepEqual(vol.labels, original)
})

test('fill along i (axis 0, which the wrapper cannot pass): same voxels as the filter on the whole grid', async () => {
  const axis = nearestVoxelAxis(geom(SIZE).directionLPS, [-1, 0.2, 0])
  assert.equal(axis, 0)
  const vol = drawn(axis)
  const original = vol.labels.slice()
  const size = vol.geometry.sizeIJK
  // Directly: axis 0 is dropped by the wrapper (`if (options.axis)`), so the whole grid runs
  // with slice auto-detection on every axis; only the i slices are drawn.
  const binary = Uint8Array.from(original, (v) => (v === LABEL ? 1 : 0))
  const direct = (
    await morphologicalContourInterpolationNode(itkImage(size, vol.geometry.spacingMm, binary), {
      label: 1,
    })
  ).outputImage.data as Uint8Array
  await fillBetween(vol, LABEL, axis)
  let diff = 0
  for (let n = 0; n < original.length; n++) {
    const o = original[n]!
    if (vol.labels[n] !== (direct[n] && (o === 0 || o === LABEL) ? LABEL : o)) diff++
  }
  assert.equal(diff, 0)
  const counts = perSlice(vol, 0, LABEL)
  for (let s = 3; s < 8; s++) assert.ok(counts[s]! > 0, `slice ${s} filled: ${counts.join(' ')}`)
  assert.equal(counts[0]! + counts[1]! + counts[9]! + counts[10]! + counts[11]!, 0)
})

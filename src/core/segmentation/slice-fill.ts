/**
 * "Fill between slices" (issue 14), the pure parts: the user draws a label on a few slices of one
 * voxel axis, and morphological contour interpolation (ITK MorphologicalContourInterpolation,
 * run by `@itk-wasm/morphological-contour-interpolation` outside this module) fills the slices
 * between. Here: choosing the axis, cutting a small binary sub-image around the label, and
 * merging the filter's output back without overwriting another label.
 *
 * The sub-image is a box of the label grid with its axes permuted so that the fill axis is the
 * sub-image's last (slowest) axis, z: x and y are the two other voxel axes in their grid order.
 * Why always z: the generated wrapper passes `--axis` only when `options.axis` is truthy
 * (`if (options.axis)` in morphological-contour-interpolation.js, 2.0.0), so axis 0 silently
 * becomes "every axis" (-1). With the fill axis last, the filter is always asked for axis 2.
 *
 * Frames and units: boxes and slice numbers are voxel indices of the label grid
 * (i fastest, see label-volume.ts); spacing is millimetres.
 */
import type { Mat3, Vec3 } from '../../shared/geometry.js'
import { makeDelta, readBox, type LabelDelta } from './label-delta.js'
import type { IndexBox, LabelVolume } from './label-volume.js'

/** A voxel axis: 0 = i, 1 = j, 2 = k. */
export type VoxelAxis = 0 | 1 | 2

/**
 * The filter's options for a sub-image from {@link planSliceFill}: foreground value 1 (the input
 * is binary), along the sub-image's z axis only. Everything else is the filter's default:
 * heuristic region alignment, distance-transform median contours, extrapolation of branch
 * extremities, cross structuring element, automatic detection of the drawn slices.
 */
export const SLICE_FILL_OPTIONS = { label: 1, axis: 2 } as const

/**
 * Voxels of margin around the label's box in the slice plane (the interpolated shapes stay
 * within the drawn ones' box; the margin keeps the filter's image border away from them).
 */
export const SLICE_FILL_MARGIN = 2

/**
 * The voxel axis whose LPS direction is closest to `normalLPS` (largest |cos|): the axis a view
 * with that normal steps along. `directionLPS` is row-major, column c the LPS unit vector of c.
 */
export function nearestVoxelAxis(directionLPS: Mat3, normalLPS: Vec3): VoxelAxis {
  const d = directionLPS
  const along = [0, 1, 2].map((a) =>
    Math.abs(d[a]! * normalLPS[0] + d[3 + a]! * normalLPS[1] + d[6 + a]! * normalLPS[2]),
  )
  return along.indexOf(Math.max(...along)) as VoxelAxis
}

/** The in-plane axes (grid order) and the fill axis: sub-image x, y, z in grid axes. */
export function subImageAxes(axis: VoxelAxis): readonly [VoxelAxis, VoxelAxis, VoxelAxis] {
  const [u, v] = ([0, 1, 2] as const).filter((a) => a !== axis) as [VoxelAxis, VoxelAxis]
  return [u, v, axis]
}

/** A binary sub-image ready for the filter (see the module comment for its axes). */
export interface SliceFillInput {
  /** The label value being filled. */
  readonly label: number
  /** The fill axis of the label grid. */
  readonly axis: VoxelAxis
  /** Sub-image x, y, z as grid axes (`subImageAxes(axis)`). */
  readonly axes: readonly [VoxelAxis, VoxelAxis, VoxelAxis]
  /** The box of the label grid the sub-image covers, [i0, j0, k0, i1, j1, k1) in grid axes. */
  readonly box: IndexBox
  /** Sub-image size along x, y, z (voxels). */
  readonly sizeXYZ: Vec3
  /** Sub-image spacing along x, y, z (mm). */
  readonly spacingMm: Vec3
  /** 1 where the grid holds `label`, else 0; x fastest, z slowest. */
  readonly binary: Uint8Array
  /** Grid slice numbers along `axis` that hold the label, ascending. */
  readonly slices: readonly number[]
}

/** What {@link planSliceFill} found. */
export type SliceFillPlan =
  | { readonly kind: 'ready'; readonly input: SliceFillInput }
  /** Fewer than two slices along the axis hold the label (`slices`: those that do). */
  | { readonly kind: 'too-few-slices'; readonly slices: readonly number[] }
  /** The label's slices are contiguous: there is no empty slice between two of them. */
  | { readonly kind: 'no-gap'; readonly slices: readonly number[] }

/** Options of {@link planSliceFill}. */
export interface SliceFillOptions {
  /** Label value to fill (≥ 1). */
  readonly label: number
  /** Grid axis to fill along (the active view's, see {@link nearestVoxelAxis}). */
  readonly axis: VoxelAxis
  /** In-plane margin in voxels (default {@link SLICE_FILL_MARGIN}). */
  readonly marginVoxels?: number
}

/**
 * Finds the label's box and the slices along `axis` that hold it, and when at least two slices
 * do with an empty one between, cuts the binary sub-image: the box padded by the margin in the
 * plane and by one slice along the axis (clamped to the grid). Reads the labels only. One pass
 * over the grid plus one over the box.
 */
export function planSliceFill(vol: LabelVolume, o: SliceFillOptions): SliceFillPlan {
  const [ni, nj, nk] = vol.geometry.sizeIJK
  const lab = vol.labels
  const label = o.label
  const lo = [ni, nj, nk]
  const hi = [-1, -1, -1]
  const size = [ni, nj, nk]
  const onSlice = new Uint8Array(size[o.axis]!)
  let p = 0
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, p++) {
        if (lab[p] !== label) continue
        if (i < lo[0]!) lo[0] = i
        if (i > hi[0]!) hi[0] = i
        if (j < lo[1]!) lo[1] = j
        if (j > hi[1]!) hi[1] = j
        if (k < lo[2]!) lo[2] = k
        if (k > hi[2]!) hi[2] = k
        onSlice[o.axis === 0 ? i : o.axis === 1 ? j : k] = 1
      }
    }
  }
  const slices: number[] = []
  for (let s = 0; s < onSlice.length; s++) if (onSlice[s]) slices.push(s)
  if (slices.length < 2) return { kind: 'too-few-slices', slices }
  if (slices[slices.length - 1]! - slices[0]! + 1 === slices.length) {
    return { kind: 'no-gap', slices }
  }
  const margin = Math.max(0, Math.floor(o.marginVoxels ?? SLICE_FILL_MARGIN))
  const pad = [0, 1, 2].map((a) => (a === o.axis ? 1 : margin))
  const b0 = [0, 1, 2].map((a) => Math.max(0, lo[a]! - pad[a]!))
  const b1 = [0, 1, 2].map((a) => Math.min(size[a]!, hi[a]! + 1 + pad[a]!))
  const box = [b0[0]!, b0[1]!, b0[2]!, b1[0]!, b1[1]!, b1[2]!] as const
  const axes = subImageAxes(o.axis)
  const ext = [0, 1, 2].map((a) => b1[a]! - b0[a]!)
  const sizeXYZ: Vec3 = [ext[axes[0]]!, ext[axes[1]]!, ext[axes[2]]!]
  const sp = vol.geometry.spacingMm
  const spacingMm: Vec3 = [sp[axes[0]], sp[axes[1]], sp[axes[2]]]
  const binary = new Uint8Array(sizeXYZ[0] * sizeXYZ[1] * sizeXYZ[2])
  forEachBoxVoxel(vol, box, axes, (grid, sub) => {
    if (lab[grid] === label) binary[sub] = 1
  })
  return {
    kind: 'ready',
    input: { label, axis: o.axis, axes, box, sizeXYZ, spacingMm, binary, slices },
  }
}

/**
 * Calls `f(gridIndex, subIndex)` for every voxel of `box`, where `subIndex` is the voxel's flat
 * index in the permuted sub-image (x = grid axis `axes[0]` fastest).
 */
function forEachBoxVoxel(
  vol: LabelVolume,
  box: IndexBox,
  axes: readonly [VoxelAxis, VoxelAxis, VoxelAxis],
  f: (grid: number, sub: number) => void,
): void {
  const [ni, nj] = vol.geometry.sizeIJK
  const ext = [box[3] - box[0], box[4] - box[1], box[5] - box[2]]
  const sx = ext[axes[0]]!
  const sy = ext[axes[1]]!
  // sub-image stride of one step along each grid axis
  const stride = [0, 0, 0]
  stride[axes[0]] = 1
  stride[axes[1]] = sx
  stride[axes[2]] = sx * sy
  for (let k = box[2]; k < box[5]; k++) {
    for (let j = box[1]; j < box[4]; j++) {
      let g = box[0] + ni * (j + nj * k)
      let s = (j - box[1]) * stride[1]! + (k - box[2]) * stride[2]!
      for (let i = box[0]; i < box[3]; i++, g++, s += stride[0]!) f(g, s)
    }
  }
}

/** Result of {@link mergeSliceFill}. */
export interface SliceFillMerge {
  /** The undo step (over the plan's box; `changed` voxels became the label). */
  readonly delta: LabelDelta
  /** Voxels the filter set that hold another label now, left as they are. */
  readonly keptOther: number
}

/**
 * Writes the label wherever the filter's `output` (the sub-image of `input`, any non-zero value
 * = inside) is inside and the grid voxel is unlabelled (0) or already the label: another label
 * is never overwritten and nothing is erased. In place; returns the delta over the plan's box.
 * Throws a RangeError when `output` does not have the sub-image's voxel count.
 */
export function mergeSliceFill(
  vol: LabelVolume,
  input: SliceFillInput,
  output: ArrayLike<number>,
): SliceFillMerge {
  if (output.length !== input.binary.length) {
    throw new RangeError(
      `interpolated image has ${output.length} voxels, the sub-image ${input.binary.length}`,
    )
  }
  const lab = vol.labels
  const label = input.label
  const before = readBox(vol, input.box)
  let keptOther = 0
  forEachBoxVoxel(vol, input.box, input.axes, (grid, sub) => {
    if (output[sub] === 0) return
    const v = lab[grid]!
    if (v === 0) lab[grid] = label
    else if (v !== label) keptOther++
  })
  const after = readBox(vol, input.box)
  return { delta: makeDelta(input.box, before, after), keptOther }
}

/**
 * Label volume model for review and editing. Labels live on the image's voxel grid
 * (`VolumeGeometry`, LPS millimetres), i fastest: flat index = i + ni·(j + nj·k).
 * Value 0 is background.
 */
import type { Vec3, VolumeGeometry } from '../../shared/geometry.js'

/** Label voxel storage: 8-bit for ≤ 255 labels, 16-bit otherwise. */
export type LabelArray = Uint8Array | Uint16Array

/** Any intensity volume on the same grid (one value per voxel, i fastest). */
export type IntensityArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array

/** A labelling: the grid and its voxels. `labels.length` = ni·nj·nk. */
export interface LabelVolume {
  /** The grid (LPS mm), shared with the image. */
  readonly geometry: VolumeGeometry
  /** Label value per voxel, i fastest. Edited in place by the operations. */
  readonly labels: LabelArray
}

/** Axis-aligned box in voxel indices, inclusive min and exclusive max: [i0, j0, k0, i1, j1, k1]. */
export type IndexBox = readonly [number, number, number, number, number, number]

/**
 * A new all-zero labelling on `geometry` (labelling from scratch). `maxLabel` > 255 selects
 * 16-bit storage.
 */
export function createLabelVolume(geometry: VolumeGeometry, maxLabel = 255): LabelVolume {
  const [ni, nj, nk] = geometry.sizeIJK
  const n = ni * nj * nk
  return { geometry, labels: maxLabel > 255 ? new Uint16Array(n) : new Uint8Array(n) }
}

/** Flat index of voxel (i, j, k) (no bounds check): i + ni·(j + nj·k). */
export function voxelIndex(sizeIJK: Vec3, i: number, j: number, k: number): number {
  return i + sizeIJK[0] * (j + sizeIJK[1] * k)
}

/** Volume of one voxel in mm³ (product of `spacingMm`). */
export function voxelVolumeMm3(geometry: VolumeGeometry): number {
  const [a, b, c] = geometry.spacingMm
  return a * b * c
}

/** Throws when `values` is not one value per voxel of `geometry` (used by every operation). */
export function assertOnGrid(
  geometry: VolumeGeometry,
  values: ArrayLike<number>,
  what: string,
): void {
  const [ni, nj, nk] = geometry.sizeIJK
  if (values.length !== ni * nj * nk) {
    throw new RangeError(`${what} has ${values.length} values, the grid has ${ni * nj * nk}`)
  }
}

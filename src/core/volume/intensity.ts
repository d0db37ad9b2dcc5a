import type { VoxelArray } from '../../shared/volume.js'

/** Minimum and maximum voxel value, ignoring NaN; `[NaN, NaN]` when every voxel is NaN. */
export function intensityRange(voxels: VoxelArray): [number, number] {
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < voxels.length; i++) {
    const v = voxels[i] as number
    if (v < min) min = v
    if (v > max) max = v
  }
  return min <= max ? [min, max] : [Number.NaN, Number.NaN]
}

/** Counts NaN and infinite voxels (only float volumes can have them). */
export function countNonFinite(voxels: VoxelArray): number {
  if (!(voxels instanceof Float32Array || voxels instanceof Float64Array)) return 0
  let n = 0
  for (let i = 0; i < voxels.length; i++) if (!Number.isFinite(voxels[i] as number)) n++
  return n
}

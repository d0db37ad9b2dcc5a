/**
 * A mask file read back as a label map: every voxel must hold a whole number from 0 to 65535
 * (label values, as VolSeg, ITK-SNAP, 3D Slicer and nnU-Net write them, whatever the file's
 * pixel type). Pure: no DOM, no Node.
 */
import type { VoxelArray } from '../../shared/volume.js'

/** Largest label value a VolSeg label map holds (`uint16`). */
export const MAX_LABEL_VALUE = 65535

/** A label map made from a mask file's voxels (same order: i fastest). */
export type LabelVoxels =
  | {
      readonly ok: true
      readonly dataType: 'uint8' | 'uint16'
      readonly voxels: Uint8Array | Uint16Array
    }
  | {
      readonly ok: false
      /** Why the voxels are not labels, e.g. `voxel 1234 holds 0.5, not a whole number`. */
      readonly problem: string
    }

/**
 * Converts `voxels` to labels: `uint8` when every value is at most 255, else `uint16`; the
 * input's own array is returned (no copy) when it already has that type. Refuses fractions,
 * negatives, NaN and values above {@link MAX_LABEL_VALUE}, naming the first such voxel (linear
 * index, i fastest).
 */
export function toLabelVoxels(voxels: VoxelArray): LabelVoxels {
  let max = 0
  for (let n = 0; n < voxels.length; n++) {
    const x = voxels[n]!
    // One test catches fractions, NaN, negatives and values too large for uint16.
    if (!(x >= 0 && x <= MAX_LABEL_VALUE && Math.floor(x) === x)) {
      const why = Number.isNaN(x)
        ? 'NaN'
        : x < 0
          ? `${x}, a negative value`
          : x > MAX_LABEL_VALUE
            ? `${x}, above ${MAX_LABEL_VALUE}`
            : `${x}, not a whole number`
      return { ok: false, problem: `voxel ${n} holds ${why}: this is not a label map` }
    }
    if (x > max) max = x
  }
  if (max <= 255) {
    if (voxels instanceof Uint8Array) return { ok: true, dataType: 'uint8', voxels }
    return { ok: true, dataType: 'uint8', voxels: Uint8Array.from(voxels) }
  }
  if (voxels instanceof Uint16Array) return { ok: true, dataType: 'uint16', voxels }
  return { ok: true, dataType: 'uint16', voxels: Uint16Array.from(voxels) }
}

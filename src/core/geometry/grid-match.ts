/**
 * Whether a mask lies on an image's voxel grid, so that it can be shown over the image voxel for
 * voxel without resampling. Pure.
 */
import type { VolumeGeometry } from '../../shared/geometry.js'
import { axisAngleDeg, cornerDistanceMm } from './affine.js'

/**
 * Largest corner displacement accepted, as a fraction of the smallest voxel spacing: NIfTI
 * stores its affine in float32, so a mask saved from a DICOM series differs from the series by
 * about 1e-4 mm; a real mismatch is at least a good part of a voxel.
 */
export const GRID_TOLERANCE_VOXELS = 0.05

/**
 * Why grid `mask` is not grid `image` (a sentence fragment naming sizes in voxels, or the
 * largest corner distance in mm and axis angle in degrees), or undefined when they coincide
 * within {@link GRID_TOLERANCE_VOXELS} of a voxel. Both geometries in LPS mm.
 */
export function gridMismatch(image: VolumeGeometry, mask: VolumeGeometry): string | undefined {
  const a = image.sizeIJK
  const b = mask.sizeIJK
  if (a.some((n, k) => n !== b[k])) {
    return `the mask has ${b.join('×')} voxels, the image ${a.join('×')}`
  }
  const tol = GRID_TOLERANCE_VOXELS * Math.min(...image.spacingMm)
  const d = cornerDistanceMm(image, mask)
  if (d <= tol) return undefined
  const angle = axisAngleDeg(image, mask)
  return `the mask's voxels lie up to ${d.toFixed(2)} mm from the image's (axes ${angle.toFixed(1)}° apart; at most ${tol.toFixed(3)} mm is accepted)`
}

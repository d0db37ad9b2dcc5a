import type { Vec3, VolumeGeometry } from './geometry.js'

/**
 * How a gantry-tilted DICOM series was acquired, kept when the reader resamples it onto an
 * orthogonal grid (so a later export can go back to the source's sheared slices). LPS mm.
 */
export interface GantryTilt {
  /**
   * Angle between the slice stacking direction and the slice normal, degrees (0–90). Measured
   * from ImagePositionPatient, never from GantryDetectorTilt (0018,1120), whose sign and presence
   * vary by vendor (dcm2niix #253).
   */
  readonly angleDeg: number
  /** Mean sideways step of the slice positions per slice (along the column direction), LPS mm. */
  readonly shearPerSliceLPS: Vec3
  /** Each source slice's ImagePositionPatient in k order, LPS mm. */
  readonly sliceIPPsLPS: readonly Vec3[]
  /**
   * The source grid: sizes, spacing (slice spacing along the normal), the ImageOrientationPatient
   * axes and the first slice's position. Source voxel (i, j, k) lies at
   * `sliceIPPsLPS[k] + i·spacingMm[0]·row + j·spacingMm[1]·column` (off this grid for k > 0).
   */
  readonly sourceGeometry: VolumeGeometry
  /** Rows the orthogonal grid adds before the source's first row and after its last. */
  readonly rowsBefore: number
  readonly rowsAfter: number
}

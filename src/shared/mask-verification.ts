/**
 * What the re-read of a written mask compared, as figures rather than a flag: the service's
 * `saveMask` report, the CLI's case report and the UI's "Saved" line all carry this.
 */
import type { Vec3 } from './geometry.js'

/** The figures of one re-read: the written bytes, read back, against what was meant to be written. */
export interface MaskVerification {
  /** The reader that re-read the written file (the project's own NIfTI reader). */
  readonly reread: 'nifti'
  /** Grid size of the re-read file (voxels along i, j, k). */
  readonly sizeIJK: Vec3
  /**
   * Largest element-wise difference between the re-read index→LPS affine and the source's (mm;
   * the 3×3 part is mm per voxel step, the last column the origin).
   */
  readonly geometryMaxErrorMm: number
  /** The most it may be: NIfTI-1 stores the affine as float32. */
  readonly geometryToleranceMm: number
  /** Voxels compared, one by one (the whole grid). */
  readonly voxelsCompared: number
  /** Voxels that re-read with exactly the value written (`Object.is`, so NaN equals NaN). */
  readonly voxelsEqual: number
  /** SHA-256 (hex) of the re-read voxel bytes as stored: little-endian, i fastest. */
  readonly voxelSha256: string
}

/** Whether the figures say the file re-read as written: grid within tolerance, every voxel equal. */
export function verificationPassed(v: MaskVerification): boolean {
  return v.geometryMaxErrorMm <= v.geometryToleranceMm && v.voxelsEqual === v.voxelsCompared
}

/** `x` rounded up to one significant digit ("≤" stays true), e.g. 3.2e-6 → "4e-6"; 0 → "0". */
export function upperBound(x: number): string {
  if (!(x > 0)) return String(x)
  const exp = Math.floor(Math.log10(x))
  // The small slack keeps 3e-6 (2.9999999999999996 after the division) at 3, not 4.
  let mant = Math.ceil(x / 10 ** exp - 1e-12)
  let e = exp
  if (mant >= 10) {
    mant = 1
    e += 1
  }
  return `${mant}e${e}`
}

/** "geometry ≤ 4e-6 mm, 7,086,177 voxels equal" ("geometry exact" at 0; or what did not match). */
export function describeVerification(v: MaskVerification): string {
  const count = (n: number): string => n.toLocaleString('en-US')
  const voxels =
    v.voxelsEqual === v.voxelsCompared
      ? `${count(v.voxelsEqual)} voxels equal`
      : `${count(v.voxelsCompared - v.voxelsEqual)} of ${count(v.voxelsCompared)} voxels differ`
  const geometry =
    v.geometryMaxErrorMm === 0
      ? 'geometry exact'
      : `geometry ≤ ${upperBound(v.geometryMaxErrorMm)} mm`
  return `${geometry}, ${voxels}`
}

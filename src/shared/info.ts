import type { GantryTilt } from './gantry-tilt.js'
import type { Mat3, Mat4, Vec3 } from './geometry.js'
import type { PixelType } from './volume.js'

/** One DICOM series found in an input. */
export interface SeriesInfo {
  readonly key: string
  readonly index: number
  readonly uid: string
  readonly description: string
  readonly seriesNumber: number | null
  readonly modality: string
  readonly fileCount: number
  readonly rows: number
  readonly columns: number
  /** What the header scan tells about this series (gaps, mixed sizes, split stacks, ...). */
  readonly warnings: readonly string[]
}

/** What `volseg info` reports: plain JSON, frames and units in the names. */
export interface VolumeInfo {
  readonly input: readonly string[]
  readonly format: 'nifti' | 'nrrd' | 'meta' | 'dicom'
  readonly fileCount: number
  readonly sizeIJK: Vec3
  readonly spacingMm: Vec3
  readonly originLPS: Vec3
  /** Row-major 3×3, columns are the i, j, k axis directions in LPS. */
  readonly directionLPS: Mat3
  /** Index → RAS mm, row-major 4×4. */
  readonly affineRAS: Mat4
  /** Closest anatomical direction each axis points to, e.g. "RAS". */
  readonly orientation: string
  readonly pixelType: PixelType
  readonly intensityRange: readonly [number | null, number | null]
  readonly warnings: readonly string[]
  readonly series?: readonly SeriesInfo[]
  readonly chosenSeries?: string
  readonly skipped?: readonly { file: string; reason: string }[]
  readonly transferSyntaxes?: readonly string[]
  /** DICOM gantry tilt that was resampled onto an orthogonal grid, with the source geometry. */
  readonly gantryTilt?: GantryTilt
  readonly nifti?: {
    readonly version: 1 | 2
    readonly datatype: string
    readonly qform_code: number
    readonly sform_code: number
    readonly geometrySource: 'sform' | 'qform' | 'pixdim'
    readonly qformSformDisagreementMm: number | null
    readonly qformSformDisagreementDeg: number | null
    readonly sformSheared: boolean
    readonly scl_slope: number | null
    readonly scl_inter: number | null
    readonly scalingApplied: boolean
  }
}

/**
 * Messages between the app and the slice-fill worker (fill between slices, issue 14): the binary
 * sub-image of src/core/segmentation/slice-fill.ts goes in, the filter's output comes back. Axes
 * are the sub-image's own (x fastest, z = the fill axis); spacing is millimetres.
 */
import type { Vec3 } from '../../../src/shared/geometry.js'

export interface SliceFillRequest {
  readonly id: number
  /** Sub-image size along x, y, z (voxels). */
  readonly sizeXYZ: Vec3
  /** Sub-image spacing along x, y, z (mm). */
  readonly spacingMm: Vec3
  /** 1 inside the label, 0 elsewhere, x fastest (transferred). */
  readonly binary: Uint8Array
  /**
   * Absolute URL of the folder holding `morphological-contour-interpolation.{js,wasm.zst}`,
   * served by `volseg serve` from the renderer bundle (never a CDN).
   */
  readonly pipelinesUrl: string
}

export type SliceFillReply =
  | {
      readonly id: number
      readonly kind: 'progress'
      /** `loading`: fetching and compiling the filter (first run only); `running`: filtering. */
      readonly stage: 'loading' | 'running'
    }
  | {
      readonly id: number
      readonly kind: 'done'
      /** The filter's output on the sub-image (non-zero = inside), x fastest (transferred). */
      readonly output: Uint8Array
      /** Worker time for the request (loading included), ms. */
      readonly ms: number
    }
  | { readonly id: number; readonly kind: 'error'; readonly message: string }

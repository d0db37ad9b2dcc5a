/** Messages between the 3D view and the surface worker (marching cubes per label). */
import type { Mat3, Vec3 } from '../../../src/shared/geometry.js'

export interface SurfaceRequest {
  readonly id: number
  readonly sizeIJK: Vec3
  /** `directionLPS · diag(spacingMm)`, row-major: index → LPS offset. */
  readonly indexToLPS: Mat3
  readonly originLPS: Vec3
  /** A copy of the label map (transferred). */
  readonly labels: Uint8Array | Uint16Array
  /** Label values to extract (background excluded). */
  readonly values: readonly number[]
  /** Most voxels of a bounding box before it is sampled every 2nd (3rd…) voxel. */
  readonly maxBoxVoxels: number
}

export type SurfaceReply =
  | {
      readonly id: number
      readonly kind: 'surface'
      readonly label: number
      /** xyz triples in LPS mm. */
      readonly points: Float32Array
      /** vtk cell array: `3, a, b, c, 3, …`. */
      readonly polys: Uint32Array
      readonly stride: number
      /** Worker time for this surface (sub-image, marching cubes, smoothing), ms. */
      readonly ms: number
    }
  | {
      readonly id: number
      readonly kind: 'done'
      /** Worker time for the whole request (bounding boxes included), ms. */
      readonly ms: number
    }
  | { readonly id: number; readonly kind: 'error'; readonly message: string }

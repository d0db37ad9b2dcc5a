/** Messages between the app and the hotspot worker. */
import type { Mat3, Vec3 } from '../../../src/shared/geometry.js'

/** One "review hotspot": a connected region of high uncertainty, attributed to a label. */
export interface Hotspot {
  readonly label: number
  readonly voxels: number
  readonly meanUncertainty: number
  readonly centreLPS: Vec3
}

export interface HotspotRequest {
  readonly id: number
  readonly sizeIJK: Vec3
  readonly indexToLPS: Mat3
  readonly originLPS: Vec3
  /** Copies (transferred). */
  readonly uncertainty: Float32Array
  readonly labels: Uint8Array | Uint16Array
  /** How many regions to keep per label. */
  readonly perLabel: number
}

export type HotspotReply =
  | {
      readonly id: number
      readonly kind: 'done'
      readonly hotspots: readonly Hotspot[]
      readonly threshold: number
    }
  | { readonly id: number; readonly kind: 'error'; readonly message: string }

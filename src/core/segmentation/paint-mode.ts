/**
 * What a brush or fill does to the voxels it covers: paint a value, or erase (one label or any),
 * optionally only where an intensity volume is within [lo, hi].
 */
import type { IntensityArray } from './label-volume.js'

/** Paint `value`, or erase to 0 (`onlyLabel`: erase only that label; absent: any label). */
export type PaintAction =
  | { readonly kind: 'paint'; readonly value: number }
  | { readonly kind: 'erase'; readonly onlyLabel?: number }

/** Only voxels with lo ≤ intensity ≤ hi change (intensity in the volume's own units, e.g. HU). */
export interface IntensityGate {
  readonly intensity: IntensityArray
  readonly range: readonly [number, number]
}

/**
 * New label for a voxel of label `old` and flat index `n`, or -1 for "leave it".
 * Internal to the brush operations.
 */
export function newLabel(
  action: PaintAction,
  gate: IntensityGate | undefined,
  old: number,
  n: number,
): number {
  if (gate) {
    const v = gate.intensity[n]!
    if (!(v >= gate.range[0] && v <= gate.range[1])) return -1
  }
  if (action.kind === 'paint') return old === action.value ? -1 : action.value
  if (old === 0) return -1
  if (action.onlyLabel !== undefined && old !== action.onlyLabel) return -1
  return 0
}

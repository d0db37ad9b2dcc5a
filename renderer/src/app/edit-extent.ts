/**
 * Where each recent edit changed the labels, by `editVersion`, so that a view redraws only the
 * part of its picture an edit can have changed (a brush dab: the dab's box, not 450×430 pixels
 * of three views), and nothing at all for an edit that changed no voxel (a review status). Pure.
 */
import type { IndexBox } from '../../../src/core/segmentation/label-volume.js'

/** The voxels edit `version` changed: a box of voxel indices (max exclusive), or 'all'. */
export interface EditExtent {
  readonly version: number
  readonly box: IndexBox | 'all'
}

/** Edits remembered; a view further behind than this redraws in full. */
export const RECENT_EDITS = 32

/** No voxel changed (a review status, a label's name). */
export const NO_VOXELS: IndexBox = [0, 0, 0, 0, 0, 0]

/** The next `editVersion` and the recent edits with its extent appended (oldest dropped). */
export function nextEdit(
  st: { readonly editVersion: number; readonly recentEdits: readonly EditExtent[] },
  box: IndexBox | 'all',
): { editVersion: number; recentEdits: readonly EditExtent[] } {
  const version = st.editVersion + 1
  return {
    editVersion: version,
    recentEdits: [...st.recentEdits.slice(-(RECENT_EDITS - 1)), { version, box }],
  }
}

/**
 * The union of the boxes edits `from + 1 … to` changed: a box (empty when none changed a voxel),
 * or 'all' when one of them is unknown (too old, or its extent was not recorded).
 */
export function editedSince(
  recent: readonly EditExtent[],
  from: number,
  to: number,
): IndexBox | 'all' {
  let lo = [Infinity, Infinity, Infinity]
  let hi = [-Infinity, -Infinity, -Infinity]
  for (let v = from + 1; v <= to; v++) {
    const e = recent.find((x) => x.version === v)
    if (!e || e.box === 'all') return 'all'
    const b = e.box
    if (b[3] <= b[0] || b[4] <= b[1] || b[5] <= b[2]) continue // empty
    lo = lo.map((x, a) => Math.min(x, b[a]!))
    hi = hi.map((x, a) => Math.max(x, b[a + 3]!))
  }
  if (lo[0] === Infinity) return NO_VOXELS
  return [lo[0]!, lo[1]!, lo[2]!, hi[0]!, hi[1]!, hi[2]!]
}

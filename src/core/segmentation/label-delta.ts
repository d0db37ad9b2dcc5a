/**
 * Undoable change to a label volume: a box (voxel indices) and the old and new label values
 * inside it, i fastest within the box.
 *
 * Why a box and not run-length encoding: every edit here is spatially compact (a brush dab is its
 * bounding box, a fill or island removal its changed voxels' box), restoring is a plain copy
 * (exact bytes, no decoding), and the cost is bounded by the box, never the whole volume unless
 * the change spans it.
 */
import type { IndexBox, LabelArray, LabelVolume } from './label-volume.js'

/** One undoable step. `before`/`after` have the box's voxel count, same type as the labels. */
export interface LabelDelta {
  /** Changed region in voxel indices, [i0, j0, k0, i1, j1, k1), max exclusive. */
  readonly box: IndexBox
  /** Label values in the box before the change. */
  readonly before: LabelArray
  /** Label values in the box after the change. */
  readonly after: LabelArray
  /** Number of voxels whose value changed. */
  readonly changed: number
}

/** Bytes a delta holds (its two arrays plus a small constant). */
export function deltaBytes(d: LabelDelta): number {
  return d.before.byteLength + d.after.byteLength + 64
}

/** Copies the labels inside `box` into a new array of the labels' type. */
export function readBox(vol: LabelVolume, box: IndexBox): LabelArray {
  const [ni, nj] = vol.geometry.sizeIJK
  const [i0, j0, k0, i1, j1, k1] = box
  const w = Math.max(0, i1 - i0)
  const h = Math.max(0, j1 - j0)
  const d = Math.max(0, k1 - k0)
  const out =
    vol.labels instanceof Uint16Array ? new Uint16Array(w * h * d) : new Uint8Array(w * h * d)
  let o = 0
  for (let k = k0; k < k1; k++) {
    for (let j = j0; j < j1; j++) {
      const s = i0 + ni * (j + nj * k)
      out.set(vol.labels.subarray(s, s + w), o)
      o += w
    }
  }
  return out
}

/** Writes `values` (box voxel count, i fastest) into the labels inside `box`. */
export function writeBox(vol: LabelVolume, box: IndexBox, values: LabelArray): void {
  const [ni, nj] = vol.geometry.sizeIJK
  const [i0, j0, k0, i1, j1, k1] = box
  const w = Math.max(0, i1 - i0)
  let o = 0
  for (let k = k0; k < k1; k++) {
    for (let j = j0; j < j1; j++) {
      vol.labels.set(values.subarray(o, o + w), i0 + ni * (j + nj * k))
      o += w
    }
  }
}

/** Restores the state before `d` (undo). Exact bytes. */
export function revertDelta(vol: LabelVolume, d: LabelDelta): void {
  writeBox(vol, d.box, d.before)
}

/** Re-applies `d` (redo). Exact bytes. */
export function applyDelta(vol: LabelVolume, d: LabelDelta): void {
  writeBox(vol, d.box, d.after)
}

/** Builds a delta from the box contents before and after an in-place edit. */
export function makeDelta(box: IndexBox, before: LabelArray, after: LabelArray): LabelDelta {
  let changed = 0
  for (let x = 0; x < before.length; x++) if (before[x] !== after[x]) changed++
  return { box, before, after, changed }
}

/**
 * Per label value (background included) touched by `d`: its voxel count after minus before.
 * One pass over the box with flat counters (no Map operation per voxel): a 3-D island removal's
 * delta spans the whole grid.
 */
export function labelChanges(d: LabelDelta): ReadonlyMap<number, number> {
  const { before, after } = d
  const size = before instanceof Uint16Array ? 65536 : 256
  const net = new Float64Array(size)
  const touched = new Uint8Array(size)
  for (let x = 0; x < before.length; x++) {
    const a = before[x]!
    const b = after[x]!
    if (a === b) continue
    net[a]!--
    net[b]!++
    touched[a] = 1
    touched[b] = 1
  }
  const out = new Map<number, number>()
  for (let v = 0; v < size; v++) if (touched[v] === 1) out.set(v, net[v]!)
  return out
}

/** A delta that changes nothing (empty box). */
export const EMPTY_BOX: IndexBox = [0, 0, 0, 0, 0, 0]

/**
 * Sets the voxels at flat indices `idx[0..count)` to `value` (or `values[x]`), returning the
 * delta over their bounding box. Used by whole-volume operations (fill, islands, delete label)
 * whose changed voxels are known as a list. Linear in `count` plus the box.
 */
export function writeIndexed(
  vol: LabelVolume,
  idx: Int32Array,
  count: number,
  value: number | ((n: number) => number),
): LabelDelta {
  const [ni, nj] = vol.geometry.sizeIJK
  if (count === 0) return makeDelta(EMPTY_BOX, readBox(vol, EMPTY_BOX), readBox(vol, EMPTY_BOX))
  let i0 = Infinity,
    j0 = Infinity,
    k0 = Infinity,
    i1 = -1,
    j1 = -1,
    k1 = -1
  for (let x = 0; x < count; x++) {
    const n = idx[x]!
    const i = n % ni
    const r = (n - i) / ni
    const j = r % nj
    const k = (r - j) / nj
    if (i < i0) i0 = i
    if (i > i1) i1 = i
    if (j < j0) j0 = j
    if (j > j1) j1 = j
    if (k < k0) k0 = k
    if (k > k1) k1 = k
  }
  const box: IndexBox = [i0, j0, k0, i1 + 1, j1 + 1, k1 + 1]
  const before = readBox(vol, box)
  for (let x = 0; x < count; x++) {
    const n = idx[x]!
    vol.labels[n] = typeof value === 'number' ? value : value(n)
  }
  return makeDelta(box, before, readBox(vol, box))
}

/** Growable Int32 list (explicit stacks and index lists; no recursion, no boxed arrays). */
export class IndexList {
  data = new Int32Array(1024)
  length = 0
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2)
      d.set(this.data)
      this.data = d
    }
    this.data[this.length++] = v
  }
}

/**
 * Label table operations (pure: return a new table). Deleting a label also sets its voxels to 0
 * through {@link deleteLabelVoxels}, an undoable delta.
 */
import type { LabelVolume } from './label-volume.js'
import { IndexList, writeIndexed, type LabelDelta } from './label-delta.js'

/** One label. `colour`: sRGB 0–255. `hidden` affects display only. */
export interface LabelEntry {
  readonly value: number
  readonly name: string
  readonly colour: readonly [number, number, number]
  readonly hidden: boolean
}

/** Entries in display order; values unique and non-zero. */
export type LabelTable = readonly LabelEntry[]

/** Adds a label with the smallest free value ≥ 1 (or `value`); throws if that value is taken. */
export function addLabel(
  t: LabelTable,
  name: string,
  colour: LabelEntry['colour'],
  value?: number,
  maxValue = 255,
): LabelTable {
  let v = value ?? 1
  if (value === undefined) while (t.some((e) => e.value === v)) v++
  if (!(v >= 1 && v <= maxValue) || t.some((e) => e.value === v)) {
    throw new RangeError(`label value ${v} is not free`)
  }
  return [...t, { value: v, name, colour, hidden: false }]
}

const update = (t: LabelTable, value: number, f: (e: LabelEntry) => LabelEntry): LabelTable => {
  if (!t.some((e) => e.value === value)) throw new RangeError(`no label ${value}`)
  return t.map((e) => (e.value === value ? f(e) : e))
}

/** Renames label `value`. */
export function renameLabel(t: LabelTable, value: number, name: string): LabelTable {
  return update(t, value, (e) => ({ ...e, name }))
}

/** Recolours label `value`. */
export function recolourLabel(
  t: LabelTable,
  value: number,
  colour: LabelEntry['colour'],
): LabelTable {
  return update(t, value, (e) => ({ ...e, colour }))
}

/** Shows or hides label `value` (display only; voxels unchanged). */
export function setLabelHidden(t: LabelTable, value: number, hidden: boolean): LabelTable {
  return update(t, value, (e) => ({ ...e, hidden }))
}

/** Moves label `value` to position `to` (0-based, clamped). */
export function reorderLabel(t: LabelTable, value: number, to: number): LabelTable {
  const from = t.findIndex((e) => e.value === value)
  if (from < 0) throw new RangeError(`no label ${value}`)
  const out = [...t]
  const [e] = out.splice(from, 1)
  out.splice(Math.max(0, Math.min(out.length, to)), 0, e!)
  return out
}

/** Removes label `value` from the table (pair with {@link deleteLabelVoxels}). */
export function removeLabel(t: LabelTable, value: number): LabelTable {
  if (!t.some((e) => e.value === value)) throw new RangeError(`no label ${value}`)
  return t.filter((e) => e.value !== value)
}

/** Sets every voxel of `value` to 0 in place; returns the undo delta (its voxels' box). */
export function deleteLabelVoxels(vol: LabelVolume, value: number): LabelDelta {
  const idx = new IndexList()
  const lab = vol.labels
  for (let n = 0; n < lab.length; n++) if (lab[n] === value) idx.push(n)
  return writeIndexed(vol, idx.data, idx.length, 0)
}

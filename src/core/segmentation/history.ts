/**
 * Undo/redo of label deltas within a byte bound. When the bound is passed the oldest steps drop
 * first; `dropped` counts them so the UI can say "N oldest steps can no longer be undone".
 * A single step larger than the bound is not kept (counted as dropped).
 */
import type { LabelVolume } from './label-volume.js'
import { applyDelta, deltaBytes, revertDelta, type LabelDelta } from './label-delta.js'

/** Undo/redo stacks. Create with {@link createHistory}; mutated by the functions below. */
export interface History {
  /** Byte bound on undo + redo deltas (a setting). */
  readonly maxBytes: number
  readonly undo: LabelDelta[]
  readonly redo: LabelDelta[]
  /** Bytes held now (≤ maxBytes). */
  bytes: number
  /** Steps dropped so far because of the bound. */
  dropped: number
}

/** An empty history bounded to `maxBytes` bytes. */
export function createHistory(maxBytes: number): History {
  return { maxBytes, undo: [], redo: [], bytes: 0, dropped: 0 }
}

/** Records a step (already applied to the volume); clears redo. Empty deltas are ignored. */
export function pushStep(h: History, d: LabelDelta): void {
  if (d.changed === 0) return
  for (const r of h.redo) h.bytes -= deltaBytes(r)
  h.redo.length = 0
  const b = deltaBytes(d)
  if (b > h.maxBytes) {
    h.dropped += h.undo.length + 1
    h.undo.length = 0
    h.bytes = 0
    return
  }
  h.undo.push(d)
  h.bytes += b
  while (h.bytes > h.maxBytes) {
    h.bytes -= deltaBytes(h.undo.shift()!)
    h.dropped++
  }
}

/** Undoes the newest step; false when there is none. Restores exact bytes. */
export function undo(h: History, vol: LabelVolume): boolean {
  const d = h.undo.pop()
  if (!d) return false
  revertDelta(vol, d)
  h.redo.push(d)
  return true
}

/** Redoes the last undone step; false when there is none. */
export function redo(h: History, vol: LabelVolume): boolean {
  const d = h.redo.pop()
  if (!d) return false
  applyDelta(vol, d)
  h.undo.push(d)
  return true
}

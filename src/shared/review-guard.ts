/**
 * The guard of a {@link ReviewRecord} (the review saved beside a mask, sent with a save, an
 * export or a snapshot, kept in a backup): every label once, names and reasons bounded.
 */
import type { LabelReview, ReviewRecord } from './api.js'
import { hasKeys, isPlain, isText } from './guard-basics.js'

/** Most labels a {@link ReviewRecord} may list (uint16 label maps). */
export const MAX_REVIEW_LABELS = 65535

function isByte(x: unknown): boolean {
  return Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 255
}

function isLabelReview(x: unknown): x is LabelReview {
  if (!isPlain(x) || !hasKeys(x, ['value', 'name', 'colourRGB', 'status'], ['reason'])) return false
  const { value, name, colourRGB, status, reason } = x
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) return false
  if (!isText(name, 256) || !Array.isArray(colourRGB) || colourRGB.length !== 3) return false
  if (!colourRGB.every(isByte)) return false
  if (status === 'rejected') return isText(reason) && reason.trim().length > 0
  return reason === undefined && ['pending', 'accepted', 'edited'].includes(status as string)
}

/** True for a {@link ReviewRecord} of the declared shape (the `saveMask` guard's check). */
export function isReviewRecord(x: unknown): x is ReviewRecord {
  if (!isPlain(x) || !hasKeys(x, ['labels', 'updatedAt'])) return false
  const { labels, updatedAt } = x
  if (!isText(updatedAt, 64) || Number.isNaN(Date.parse(updatedAt))) return false
  if (!Array.isArray(labels) || labels.length > MAX_REVIEW_LABELS) return false
  const seen = new Set<number>()
  for (const l of labels) {
    if (!isLabelReview(l) || seen.has(l.value)) return false
    seen.add(l.value)
  }
  return true
}

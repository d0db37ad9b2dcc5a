/**
 * The reviewer's record of a label map (per-label status, name, colour, reason) as it crosses
 * the API and is saved beside a mask (`review-file.ts`) or kept in a backup, and its exact-shape
 * guard. Re-exported by `api.ts`.
 */
import { hasKeys, isPlain, isText } from './guard-kit.js'

/** Review status of one label, as saved with a mask and kept in a backup. */
export type LabelReviewStatus = 'pending' | 'accepted' | 'edited' | 'rejected'

/**
 * One label as the reviewer left it: its value in the label map, name, display colour (sRGB
 * 0–255) and review status; `reason` is present exactly when `status` is `rejected`.
 */
export interface LabelReview {
  readonly value: number
  readonly name: string
  readonly colourRGB: readonly [number, number, number]
  readonly status: LabelReviewStatus
  readonly reason?: string
}

/**
 * The review of a label map: every label in display order (hidden ones too), and when it was
 * last changed (ISO 8601, UTC). Saved beside a mask and carried by a backup, so that exports can
 * say what the human changed.
 */
export interface ReviewRecord {
  readonly labels: readonly LabelReview[]
  readonly updatedAt: string
}

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

/**
 * The review as it crosses the API and lands on disk ({@link ReviewRecord}): built from the label
 * table and the review reducer's state, and read back into them. Pure.
 */
import type { LabelReview, ReviewRecord } from '../../shared/api.js'
import type { LabelTable } from './label-table.js'
import type { ReviewState, ReviewStatus } from './review-state.js'

/**
 * The record of `table` (display order) with each label's status from `review` (a label the
 * review does not know is `pending`); `updatedAt` is `now` as ISO 8601 UTC.
 */
export function toReviewRecord(table: LabelTable, review: ReviewState, now: Date): ReviewRecord {
  const labels = table.map((e): LabelReview => {
    const s = review.get(e.value) ?? { kind: 'pending' }
    const base = { value: e.value, name: e.name, colourRGB: e.colour }
    return s.kind === 'rejected'
      ? { ...base, status: 'rejected', reason: s.reason }
      : { ...base, status: s.kind }
  })
  return { labels, updatedAt: now.toISOString() }
}

/** The label table and review state a record describes (labels shown, in its order). */
export function fromReviewRecord(r: ReviewRecord): { table: LabelTable; review: ReviewState } {
  const table: LabelTable = r.labels.map((l) => ({
    value: l.value,
    name: l.name,
    colour: l.colourRGB,
    hidden: false,
  }))
  const review = new Map<number, ReviewStatus>(
    r.labels.map((l) => [
      l.value,
      l.status === 'rejected' ? { kind: 'rejected', reason: l.reason ?? '' } : { kind: l.status },
    ]),
  )
  return { table, review }
}

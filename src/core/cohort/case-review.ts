/**
 * A cohort case's review state and the worklist order (`volseg cohort report`, `volseg serve
 * --cohort`). Pure: no file is read here.
 */
import type { CohortReportRow } from '../../shared/cohort-report.js'

/** A case's review state: the same four words as a label's. */
export type CaseReviewStatus = CohortReportRow['review']['status']

/**
 * The case's state from its labels' states (the review saved beside its mask): `rejected` when
 * any label is rejected, else `edited` when any label is edited, else `accepted` when every label
 * is accepted (and there is at least one), otherwise `pending` (a label still pending, or none).
 */
export function caseReviewStatus(labels: readonly string[]): CaseReviewStatus {
  if (labels.includes('rejected')) return 'rejected'
  if (labels.includes('edited')) return 'edited'
  if (labels.length > 0 && labels.every((s) => s === 'accepted')) return 'accepted'
  return 'pending'
}

/**
 * The worklist order of report rows, as a sort comparator: cases not reviewed yet first, then
 * QC score descending (worst first), then case id.
 */
export function worklistOrder(
  a: Pick<CohortReportRow, 'id' | 'qcScore' | 'review'>,
  b: Pick<CohortReportRow, 'id' | 'qcScore' | 'review'>,
): number {
  const reviewed = (r: typeof a): number => (r.review.status === 'pending' ? 0 : 1)
  return (
    reviewed(a) - reviewed(b) || b.qcScore - a.qcScore || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  )
}

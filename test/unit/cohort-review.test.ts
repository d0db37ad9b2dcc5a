// A cohort case's review state from its labels' states, the worklist order, the report's
// montage read back from its page, and the report parser's refusals.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { caseReviewStatus, worklistOrder } from '../../src/core/cohort/case-review.js'
import {
  COHORT_REPORT_SCHEMA,
  parseCohortReport,
  type CohortReport,
  type CohortReportRow,
} from '../../src/shared/cohort-report.js'
import { cohortHtml, montageOf } from '../../src/jobs/cohort-html.js'
import { isCaseReviewName } from '../../src/shared/cohort.js'

test('a case is rejected, else edited, else accepted when all labels are, else pending', () => {
  assert.equal(caseReviewStatus(['accepted', 'rejected', 'edited']), 'rejected')
  assert.equal(caseReviewStatus(['accepted', 'edited', 'pending']), 'edited')
  assert.equal(caseReviewStatus(['accepted', 'accepted']), 'accepted')
  assert.equal(caseReviewStatus(['accepted', 'pending']), 'pending')
  assert.equal(caseReviewStatus([]), 'pending', 'no label: nothing was accepted')
})

const row = (id: string, qcScore: number, status = 'pending'): CohortReportRow =>
  ({
    id,
    status: 'ok',
    input: [],
    output: `masks/${id}_seg.nii.gz`,
    volumesMl: {},
    volumeZ: {},
    centroidsLPS: {},
    qc: [],
    qcScore,
    review: { status },
  }) as CohortReportRow

test('worklist order: not reviewed first, then worst QC, then id', () => {
  const rows = [row('c', 1), row('a', 5, 'accepted'), row('b', 1), row('d', 3)]
  assert.deepEqual(
    rows.sort(worklistOrder).map((r) => r.id),
    ['d', 'b', 'c', 'a'],
  )
})

const report = (cases: CohortReportRow[]): CohortReport => ({
  schema: COHORT_REPORT_SCHEMA,
  generatedAt: '2026-01-01T00:00:00.000Z',
  model: { id: 'm', version: '1', sha256: '0'.repeat(64) },
  labels: [{ value: 1, name: 'brain' }],
  cases,
})

test('the montage reads back from the page the report wrote', () => {
  const pngs = new Map([
    ['a', 'iVBORw0KGgo='],
    ['sub-01_ses.1', 'AAAA+/=='],
  ])
  const html = cohortHtml(report([row('a', 0), row('b', 2), row('sub-01_ses.1', 1)]), pngs)
  assert.deepEqual(montageOf(html), pngs)
  assert.deepEqual(montageOf('<html></html>'), new Map())
})

test('parseCohortReport refuses what the worklist cannot read, naming the field', () => {
  const ok = report([row('a', 0)])
  assert.equal(parseCohortReport(JSON.parse(JSON.stringify(ok)), 'r.json').cases.length, 1)
  const bad: [unknown, RegExp][] = [
    [{ ...ok, schema: 'x' }, /schema must be/],
    [{ ...ok, cases: {} }, /cases must be a list/],
    [report([{ ...row('a', 0), id: '../x' }]), /cases\[0\]\.id/],
    [report([{ ...row('a', 0), qcScore: Number.NaN }]), /cases\[0\]\.qcScore/],
    [report([row('a', 0), row('b', 0, 'done')]), /cases\[1\]\.review\.status/],
  ]
  for (const [x, why] of bad) {
    assert.throws(
      () => parseCohortReport(x, 'r.json'),
      (e: Error & { code?: string; file?: string }) =>
        e.code === 'E_BAD_HEADER' && e.file === 'r.json' && why.test(e.message),
    )
  }
})

test("a case's review files: <id>_seg.review.json and <id>_seg-N.review.json only", () => {
  assert.equal(isCaseReviewName('y', 'y_seg.review.json'), true)
  assert.equal(isCaseReviewName('y', 'y_seg-12.review.json'), true)
  assert.equal(isCaseReviewName('sub.1', 'sub.1_seg-1.review.json'), true)
  for (const n of ['y_seg-x.review.json', 'xy_seg.review.json', 'y_seg.json', 'y_seg-1.nii.gz']) {
    assert.equal(isCaseReviewName('y', n), false, n)
  }
  assert.equal(isCaseReviewName('y', 'y_segA.review.json'), false)
  assert.equal(isCaseReviewName('sub.1', 'subx1_seg.review.json'), false)
})

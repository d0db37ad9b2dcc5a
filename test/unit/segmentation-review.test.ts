import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { VolumeGeometry } from '../../src/shared/geometry.js'
import { labelFocusIJK } from '../../src/core/segmentation/label-focus.js'
import {
  initialReview,
  nextToReview,
  reduceReview,
  reviewProgress,
  type ReviewEvent,
  type ReviewState,
} from '../../src/core/segmentation/review-state.js'
import {
  addLabel,
  deleteLabelVoxels,
  recolourLabel,
  removeLabel,
  renameLabel,
  reorderLabel,
  setLabelHidden,
  type LabelTable,
} from '../../src/core/segmentation/label-table.js'
import { fromReviewRecord, toReviewRecord } from '../../src/core/segmentation/review-record.js'
import { createLabelVolume } from '../../src/core/segmentation/label-volume.js'
import { revertDelta } from '../../src/core/segmentation/label-delta.js'

const step = (s: ReviewState, e: ReviewEvent): ReviewState => {
  const r = reduceReview(s, e)
  assert.ok(r.ok, r.ok ? '' : r.error)
  return r.state
}

test('transitions: accept, reject with reason, edit after accept → edited, reset', () => {
  let s = initialReview([1, 2, 3])
  s = step(s, { type: 'accept', label: 1 })
  assert.deepEqual(s.get(1), { kind: 'accepted' })
  s = step(s, { type: 'voxels-changed', label: 1 })
  assert.deepEqual(s.get(1), { kind: 'edited' })
  s = step(s, { type: 'voxels-changed', label: 2 })
  assert.deepEqual(s.get(2), { kind: 'edited' })
  s = step(s, { type: 'reject', label: 3, reason: ' wrong organ ' })
  assert.deepEqual(s.get(3), { kind: 'rejected', reason: 'wrong organ' })
  s = step(s, { type: 'voxels-changed', label: 3 })
  assert.equal(s.get(3)!.kind, 'rejected')
  s = step(s, { type: 'reset', label: 3 })
  assert.deepEqual(s.get(3), { kind: 'pending' })
})

test('reject without a reason and unknown labels are refused; state unchanged', () => {
  const s = initialReview([1])
  const r = reduceReview(s, { type: 'reject', label: 1, reason: '  ' })
  assert.equal(r.ok, false)
  assert.deepEqual(s.get(1), { kind: 'pending' })
  assert.equal(reduceReview(s, { type: 'accept', label: 9 }).ok, false)
})

test('progress text and next label needing review (wraps round)', () => {
  let s = initialReview([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  for (const l of [1, 2, 5, 6]) s = step(s, { type: 'accept', label: l })
  assert.equal(reviewProgress(s).text, '4 of 10 labels reviewed')
  assert.equal(nextToReview(s), 3)
  assert.equal(nextToReview(s, 4), 7)
  s = step(
    step(step(step(s, { type: 'accept', label: 7 }), { type: 'accept', label: 8 }), {
      type: 'accept',
      label: 9,
    }),
    { type: 'accept', label: 10 },
  )
  assert.equal(nextToReview(s, 9), 3)
  s = step(step(s, { type: 'accept', label: 3 }), { type: 'accept', label: 4 })
  assert.equal(nextToReview(s), undefined)
})

test('label table: add (free value), rename, recolour, hide, reorder, delete with undoable voxels', () => {
  let t = addLabel([], 'liver', [255, 0, 0])
  t = addLabel(t, 'spleen', [0, 255, 0])
  t = addLabel(t, 'kidney', [0, 0, 255], 5)
  assert.deepEqual(
    t.map((e) => e.value),
    [1, 2, 5],
  )
  assert.throws(() => addLabel(t, 'x', [0, 0, 0], 2), RangeError)
  t = renameLabel(t, 2, 'Spleen')
  t = recolourLabel(t, 2, [1, 2, 3])
  t = setLabelHidden(t, 1, true)
  t = reorderLabel(t, 5, 0)
  assert.deepEqual(
    t.map((e) => [e.value, e.name, e.hidden]),
    [
      [5, 'kidney', false],
      [1, 'liver', true],
      [2, 'Spleen', false],
    ],
  )
  assert.deepEqual(t[2]!.colour, [1, 2, 3])
  t = removeLabel(t, 1)
  assert.deepEqual(
    t.map((e) => e.value),
    [5, 2],
  )
  const g: VolumeGeometry = {
    sizeIJK: [4, 4, 4],
    spacingMm: [1, 1, 1],
    originLPS: [0, 0, 0],
    directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  }
  const vol = createLabelVolume(g)
  assert.equal(vol.labels.length, 64) // a new empty labelling
  vol.labels.set([1, 2, 1, 0], 20) // one row: i = 0..3, j = 1, k = 1
  const snap = vol.labels.slice()
  const d = deleteLabelVoxels(vol, 1)
  assert.equal(d.changed, 2)
  assert.equal(d.before.length, 3) // box of its voxels, not the volume
  assert.deepEqual([...vol.labels.subarray(20, 24)], [0, 2, 0, 0])
  revertDelta(vol, d)
  assert.deepEqual(vol.labels, snap)
  assert.ok(createLabelVolume(g, 1000).labels instanceof Uint16Array)
})

test('review record: table order, statuses and reasons survive a round trip', () => {
  const table: LabelTable = [
    { value: 3, name: 'left lung', colour: [10, 20, 30], hidden: true },
    { value: 1, name: 'liver', colour: [200, 0, 0], hidden: false },
    { value: 2, name: 'spleen', colour: [0, 200, 0], hidden: false },
  ]
  let review = initialReview([1, 2, 3])
  for (const e of [
    { type: 'accept', label: 1 },
    { type: 'reject', label: 3, reason: ' leaks into the heart ' },
  ] as const) {
    const r = reduceReview(review, e)
    assert.ok(r.ok)
    review = r.state
  }
  const rec = toReviewRecord(table, review, new Date(Date.UTC(2026, 11, 3, 12, 0, 0)))
  assert.equal(rec.updatedAt, '2026-12-03T12:00:00.000Z')
  assert.deepEqual(
    rec.labels.map((l) => [l.value, l.status, l.reason]),
    [
      [3, 'rejected', 'leaks into the heart'],
      [1, 'accepted', undefined],
      [2, 'pending', undefined],
    ],
  )
  assert.ok(!('reason' in rec.labels[1]!))
  const back = fromReviewRecord(JSON.parse(JSON.stringify(rec)) as typeof rec)
  assert.deepEqual(
    back.table.map((e) => [e.value, e.name, e.colour]),
    table.map((e) => [e.value, e.name, e.colour]),
  )
  assert.deepEqual(
    [...back.review.entries()],
    [
      [3, { kind: 'rejected', reason: 'leaks into the heart' }],
      [1, { kind: 'accepted' }],
      [2, { kind: 'pending' }],
    ],
  )
})

test('labelFocusIJK: a voxel of the label itself, nearest its centroid in mm (a ring, anisotropic)', () => {
  // 21×21×5 grid; label 2 is a ring of radius 8 voxels on slice k = 2, label 3 one voxel.
  const size: [number, number, number] = [21, 21, 5]
  const labels = new Uint8Array(21 * 21 * 5)
  const at = (i: number, j: number, k: number): number => i + 21 * (j + 21 * k)
  for (let j = 0; j < 21; j++) {
    for (let i = 0; i < 21; i++) {
      const r = Math.hypot(i - 10, j - 10)
      if (r >= 7.5 && r < 8.5) labels[at(i, j, 2)] = 2
    }
  }
  labels[at(3, 4, 1)] = 3
  const ring = labelFocusIJK(labels, size, [1, 1, 1], 2)!
  assert.equal(labels[at(ring[0], ring[1], ring[2])], 2, 'the centroid (10,10) is not in the ring')
  assert.equal(ring[2], 2)
  assert.ok(Math.abs(Math.hypot(ring[0] - 10, ring[1] - 10) - 8) < 0.6)
  assert.deepEqual(labelFocusIJK(labels, size, [1, 1, 1], 3), [3, 4, 1])
  assert.equal(labelFocusIJK(labels, size, [1, 1, 1], 7), undefined)
  // Centroid (10, 10, 0), voxels 3 away along i, along j and diagonally: the spacing decides.
  const three = new Uint8Array(21 * 21 * 5)
  three[at(7, 10, 0)] = 4
  three[at(10, 7, 0)] = 4
  three[at(13, 13, 0)] = 4
  assert.deepEqual(labelFocusIJK(three, size, [0.5, 3, 1], 4), [7, 10, 0])
  assert.deepEqual(labelFocusIJK(three, size, [3, 0.5, 1], 4), [10, 7, 0])
})

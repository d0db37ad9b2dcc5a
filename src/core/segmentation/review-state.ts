/**
 * Review state of each label after a model run: pending → accepted / edited / rejected.
 * `edited` is set automatically when a label's voxels change after the model result (also after
 * accept). Rejection needs a non-empty reason. A pure reducer: returns a new state or an error.
 */

/** One label's review status. */
export type ReviewStatus =
  | { readonly kind: 'pending' }
  | { readonly kind: 'accepted' }
  | { readonly kind: 'edited' }
  | { readonly kind: 'rejected'; readonly reason: string }

/** Label value → status, in label-table order. */
export type ReviewState = ReadonlyMap<number, ReviewStatus>

/** Events of the reducer. `voxels-changed` comes from any edit touching the label's voxels. */
export type ReviewEvent =
  | { readonly type: 'accept'; readonly label: number }
  | { readonly type: 'reject'; readonly label: number; readonly reason: string }
  | { readonly type: 'voxels-changed'; readonly label: number }
  | { readonly type: 'reset'; readonly label: number }

/** Result: the new state, or the reason the event was refused (state unchanged). */
export type ReviewResult =
  | { readonly ok: true; readonly state: ReviewState }
  | { readonly ok: false; readonly error: string }

/** All labels pending (a fresh model result). */
export function initialReview(labels: readonly number[]): ReviewState {
  return new Map(labels.map((l) => [l, { kind: 'pending' } as ReviewStatus]))
}

/** Applies one event. Unknown labels and empty reject reasons are refused. */
export function reduceReview(state: ReviewState, e: ReviewEvent): ReviewResult {
  const cur = state.get(e.label)
  if (!cur) return { ok: false, error: `label ${e.label} is not under review` }
  let next: ReviewStatus
  switch (e.type) {
    case 'accept':
      next = { kind: 'accepted' }
      break
    case 'reject':
      if (e.reason.trim() === '') return { ok: false, error: 'a rejection needs a reason' }
      next = { kind: 'rejected', reason: e.reason.trim() }
      break
    case 'voxels-changed':
      // A rejected label stays rejected (its reason still stands); otherwise it is edited.
      next = cur.kind === 'rejected' ? cur : { kind: 'edited' }
      break
    case 'reset':
      next = { kind: 'pending' }
      break
  }
  const m = new Map(state)
  m.set(e.label, next)
  return { ok: true, state: m }
}

/** Progress: reviewed = not pending. `text` like "4 of 10 labels reviewed". */
export function reviewProgress(state: ReviewState): {
  reviewed: number
  total: number
  text: string
} {
  let reviewed = 0
  for (const s of state.values()) if (s.kind !== 'pending') reviewed++
  return { reviewed, total: state.size, text: `${reviewed} of ${state.size} labels reviewed` }
}

/** The first pending label after `after` (wrapping round), in state order; undefined if none. */
export function nextToReview(state: ReviewState, after?: number): number | undefined {
  const keys = [...state.keys()]
  const start = after === undefined ? 0 : keys.indexOf(after) + 1
  for (let x = 0; x < keys.length; x++) {
    const l = keys[(start + x) % keys.length]!
    if (state.get(l)!.kind === 'pending') return l
  }
  return undefined
}

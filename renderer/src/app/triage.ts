/**
 * Review triage: accept or reject labels one by one (a rejection needs a reason), move to the next
 * label still pending (it becomes the active label and the views go to it), and step through the
 * review hotspots. States live in the store's `review` (the pure reducer of
 * src/core/segmentation/review-state.ts); every change bumps `editVersion`, so a reviewed mask is
 * saved again with its states and backed up like an edit.
 */
import { labelFocusIJK } from '../../../src/core/segmentation/label-focus.js'
import {
  nextToReview,
  reduceReview,
  type ReviewEvent,
} from '../../../src/core/segmentation/review-state.js'
import type { Editor } from './editor.js'
import type { Store } from './state.js'
import { gridTransform } from './view-geometry.js'
import { NO_VOXELS, nextEdit } from './edit-extent.js'

export class Triage {
  readonly #store: Store
  readonly #ed: Editor
  /** Label whose rejection reason is being typed (the panel shows the field), if any. */
  #rejecting: number | undefined
  #hotspot = -1
  readonly #listeners = new Set<() => void>()

  constructor(store: Store, ed: Editor) {
    this.#store = store
    this.#ed = ed
    // A new result starts the hotspot walk from the first one again.
    store.subscribe((s, prev) => {
      if (s.hotspots !== prev.hotspots) this.#hotspot = -1
    })
  }

  /** Called when the label awaiting a reason changes. */
  onChange(l: () => void): () => void {
    this.#listeners.add(l)
    return () => this.#listeners.delete(l)
  }

  get rejecting(): number | undefined {
    return this.#rejecting
  }

  #apply(e: ReviewEvent): string | undefined {
    const review = this.#store.state.review
    if (!review) return 'no labels under review'
    const r = reduceReview(review, e)
    if (!r.ok) return r.error
    // A status changes no voxel: the views have nothing to redraw.
    this.#store.set((s) => ({ review: r.state, ...nextEdit(s, NO_VOXELS) }))
    return undefined
  }

  /** Accepts label `value` (default: the active label). */
  accept(value = this.#ed.activeLabel): void {
    this.#rejecting = undefined
    const e = this.#apply({ type: 'accept', label: value })
    if (e) this.#store.notify('warning', `Cannot accept label ${value}: ${e}`)
    this.#changed()
  }

  /** Opens the reason field for label `value` (default: the active label). */
  askReject(value = this.#ed.activeLabel): void {
    if (!this.#store.state.review?.has(value)) return
    this.#rejecting = value
    this.#changed()
  }

  cancelReject(): void {
    this.#rejecting = undefined
    this.#changed()
  }

  /** Rejects label `value` with `reason`; an error sentence when refused (an empty reason). */
  reject(value: number, reason: string): string | undefined {
    const e = this.#apply({ type: 'reject', label: value, reason })
    if (e) return e
    this.#rejecting = undefined
    this.#changed()
    return undefined
  }

  /** Back to pending (undo a decision). */
  reset(value: number): void {
    this.#apply({ type: 'reset', label: value })
    this.#changed()
  }

  /**
   * Makes the next pending label after the active one active and moves the crosshair onto one of
   * its voxels near its centre. Says so when every label has been reviewed.
   */
  next(): void {
    const s = this.#store.state
    if (!s.review || !s.labels || !s.volume) return
    // Walk in the order the label list shows.
    const order = (s.labelTable ?? []).map((e) => e.value).filter((v) => s.review!.has(v))
    const ordered = new Map(order.map((v) => [v, s.review!.get(v)!]))
    const v = nextToReview(ordered, this.#ed.activeLabel)
    if (v === undefined) {
      this.#store.notify('info', 'Every label has been reviewed.')
      return
    }
    this.#ed.setActiveLabel(v)
    const g = s.volume.info.geometry
    const at = labelFocusIJK(s.labels.voxels, g.sizeIJK, g.spacingMm, v)
    if (at) this.#store.set({ crosshairLPS: gridTransform(g).toLPS(at) })
  }

  /** Moves to the next review hotspot (wrapping round), showing the uncertainty map. */
  nextHotspot(): void {
    const spots = this.#store.state.hotspots
    if (!spots || spots.length === 0) {
      this.#store.notify(
        'info',
        this.#store.state.uncertainty
          ? 'No review hotspots in this result.'
          : 'No hotspots: run the model with "Uncertainty map" to get them.',
      )
      return
    }
    this.#hotspot = (this.#hotspot + 1) % spots.length
    const h = spots[this.#hotspot]!
    this.#store.set({ crosshairLPS: h.centreLPS, showUncertainty: true })
    if (this.#store.state.review?.has(h.label)) this.#ed.setActiveLabel(h.label)
  }

  #changed(): void {
    for (const l of this.#listeners) l()
  }
}

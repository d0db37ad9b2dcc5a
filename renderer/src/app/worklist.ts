/**
 * The review worklist of `volseg serve --cohort` (issue 18): the cohort's cases in the report's
 * order (not reviewed first, then worst QC first), opened one by one by id with their mask as
 * labels for review, next/previous case, and the save of a case's review through
 * `saveCohortCase` (beside the case's mask in the cohort folder; the core then writes the report
 * again). Unsaved edits are asked about before another case replaces them.
 */
import {
  err,
  ok,
  type CohortWorklist,
  type Result,
  type SaveMaskRequest,
  type SaveReport,
} from '../../../src/shared/api.js'
import { mayDiscardEdits } from './backups.js'
import { describeError, type Controller } from './controller.js'
import type { Store } from './state.js'

/** The worklist as the viewer shows it. */
export interface WorklistState {
  readonly list: CohortWorklist
  /**
   * Case ids in the order shown: the report's order when the list was first read. A saved case
   * keeps its place (the report puts reviewed cases last), so next/previous walk one list.
   */
  readonly order: readonly string[]
}

/** `order` kept for the ids still listed, new ids after them in the list's order. */
function keepOrder(order: readonly string[], list: CohortWorklist): string[] {
  const ids = new Set(list.cases.map((c) => c.id))
  const kept = order.filter((id) => ids.has(id))
  const had = new Set(kept)
  return [...kept, ...list.cases.map((c) => c.id).filter((id) => !had.has(id))]
}

export class Worklist {
  readonly #store: Store
  readonly #ctl: Controller
  /** The case last asked for (opened, or refused by the core): where next/previous start. */
  #asked: string | undefined

  constructor(store: Store, ctl: Controller) {
    this.#store = store
    this.#ctl = ctl
    // A save of a case's image goes to the cohort, not to --out.
    ctl.caseSave = (req) => this.#save(req)
  }

  /** Reads the worklist when the core serves a cohort (nothing otherwise). */
  async load(): Promise<void> {
    if (!this.#store.state.hello?.cohort) return
    const r = await this.#ctl.api.cohortWorklist({})
    if (!r.ok) {
      this.#store.notify('error', `Could not read the worklist: ${describeError(r.error)}`)
      return
    }
    this.#show(r.value)
  }

  #show(list: CohortWorklist): void {
    const old = this.#store.state.worklist
    const order = old ? keepOrder(old.order, list) : list.cases.map((c) => c.id)
    this.#store.set({ worklist: { list, order } })
  }

  /** Opens case `id`: its image, then its mask as labels with its review. */
  async open(id: string): Promise<void> {
    const s = this.#store.state
    const list = s.worklist?.list
    if (!list) return
    if (s.volume?.info.caseId === id) {
      this.#asked = id
      return
    }
    if (!mayDiscardEdits(s, `Open case ${id} without saving them`)) return
    this.#asked = id
    this.#store.set({ loading: `Opening case ${id}…` })
    try {
      const r = await this.#ctl.api.openCohortCase({ caseId: id })
      if (!r.ok) {
        this.#store.set({ lastError: r.error })
        this.#store.notify('error', `Could not open case ${id}: ${describeError(r.error)}`)
        return
      }
      const mask = r.value.labels ? `${list.name}/${r.value.labels.path}` : undefined
      await this.#ctl.showCase(r.value, mask)
      for (const w of r.value.warnings) this.#store.notify('warning', w)
    } finally {
      this.#store.set({ loading: undefined })
    }
  }

  /** The next case in the list (after the one on screen or last asked for). */
  next(): Promise<void> {
    return this.#step(1)
  }

  /** The previous case in the list. */
  previous(): Promise<void> {
    return this.#step(-1)
  }

  async #step(by: 1 | -1): Promise<void> {
    const w = this.#store.state.worklist
    if (!w || w.order.length === 0) return
    const at = w.order.indexOf(this.#asked ?? this.#store.state.volume?.info.caseId ?? '')
    const to = at < 0 ? (by > 0 ? 0 : w.order.length - 1) : at + by
    const id = w.order[to]
    if (id === undefined) {
      this.#store.notify('info', by > 0 ? 'That was the last case.' : 'That was the first case.')
      return
    }
    await this.open(id)
  }

  /** The controller's save, for a case's image: to the cohort (undefined: not a case). */
  #save(req: SaveMaskRequest): Promise<Result<SaveReport>> | undefined {
    const v = this.#store.state.volume?.info
    if (v?.caseId === undefined || v.volumeId !== req.volumeId) return undefined
    const caseId = v.caseId
    return (async (): Promise<Result<SaveReport>> => {
      if (!req.review) return err('E_ARGS', `case ${caseId}: there is no review to save`)
      const r = await this.#ctl.api.saveCohortCase({
        caseId,
        volumeId: req.volumeId,
        labelsId: req.labelsId,
        review: req.review,
      })
      if (!r.ok) return r
      this.#show(r.value.worklist)
      for (const w of r.value.warnings) this.#store.notify('warning', w)
      return ok(r.value.saved)
    })()
  }
}

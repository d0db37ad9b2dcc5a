/**
 * "Fill between slices" (issue 14, key I): the active label drawn on a few slices of the active
 * view is interpolated into the slices between, along the voxel axis nearest the view's normal.
 * The UI thread cuts the label's binary sub-image (src/core/segmentation/slice-fill.ts), the
 * slice-fill worker runs morphological contour interpolation on it, and the result is merged
 * back where the voxel is unlabelled or already the label (never over another label), as one
 * undo step of the editor.
 *
 * Slice numbers in messages are 1-based, as in the view titles.
 */
import type { LabelArray } from '../../../src/core/segmentation/label-volume.js'
import {
  mergeSliceFill,
  nearestVoxelAxis,
  planSliceFill,
  type SliceFillInput,
} from '../../../src/core/segmentation/slice-fill.js'
import type { SliceFillReply, SliceFillRequest } from '../workers/slice-fill-protocol.js'
import type { Editor } from './editor.js'
import type { Store } from './state.js'
import { viewFrame, type ViewName } from './view-geometry.js'

/** A request in flight, and what the labels were when it left. */
interface Running {
  readonly id: number
  readonly input: SliceFillInput
  readonly voxels: LabelArray
  readonly editVersion: number
  readonly what: string
}

export class SliceFiller {
  readonly #store: Store
  readonly #ed: Editor
  #worker: Worker | undefined
  #request = 0
  #running: Running | undefined
  #status = ''
  readonly #listeners = new Set<() => void>()

  constructor(store: Store, ed: Editor) {
    this.#store = store
    this.#ed = ed
  }

  /** Called when `status` or `running` changes. */
  onChange(l: () => void): () => void {
    this.#listeners.add(l)
    return () => this.#listeners.delete(l)
  }

  /** The last thing said about the fill: under way, done, or why not (empty at first). */
  get status(): string {
    return this.#status
  }

  get running(): boolean {
    return this.#running !== undefined
  }

  #say(status: string): void {
    this.#status = status
    for (const l of this.#listeners) l()
  }

  /** Starts the fill for the active label along `view`'s slice axis. */
  run(view: ViewName): void {
    const notify = (level: 'info' | 'warning', text: string): void => {
      this.#say(text)
      this.#store.notify(level, text)
    }
    if (this.#running) {
      this.#store.notify('info', 'Fill between slices is already running.')
      return
    }
    const s = this.#store.state
    const vol = this.#ed.labelVolume(s)
    if (!vol) {
      notify('info', 'Fill between slices needs labels: make a new labelling or run a model.')
      return
    }
    const label = this.#ed.activeLabel
    const entry = s.labelTable?.find((e) => e.value === label)
    if (!entry) {
      notify('warning', 'Add a label first: fill between slices fills the active label.')
      return
    }
    const g = vol.geometry
    const axis = nearestVoxelAxis(
      g.directionLPS,
      viewFrame(view, s.alignment, g.directionLPS).normal,
    )
    const plan = planSliceFill(vol, { label, axis })
    const name = `“${entry.name}”`
    // 1-based, as in the view titles: "12", "12 and 18", "12, 15 and 18", "12 to 40 (9 drawn)"
    const list = (xs: readonly number[]): string => {
      const n = xs.map((x) => String(x + 1))
      if (n.length > 4) return `${n[0]} to ${n[n.length - 1]} (${n.length} drawn)`
      return n.length < 2 ? n.join('') : `${n.slice(0, -1).join(', ')} and ${n[n.length - 1]}`
    }
    if (plan.kind === 'too-few-slices') {
      const on =
        plan.slices.length === 0
          ? 'is on no slice'
          : `is on one ${view} slice only (${list(plan.slices)})`
      notify(
        'warning',
        `Fill between slices needs the label drawn on at least two ${view} slices: ${name} ${on}.`,
      )
      return
    }
    if (plan.kind === 'no-gap') {
      const a = plan.slices[0]! + 1
      const b = plan.slices[plan.slices.length - 1]! + 1
      notify(
        'info',
        `Nothing to fill: ${name} is on every ${view} slice from ${a} to ${b}, with no empty slice between.`,
      )
      return
    }
    const p = plan.input
    const what = `${name} between ${view} slices ${list(p.slices)}`
    const id = ++this.#request
    this.#running = { id, input: p, voxels: vol.labels, editVersion: s.editVersion, what }
    this.#say(`Filling ${what}…`)
    const worker = this.#ensureWorker()
    const req: SliceFillRequest = {
      id,
      sizeXYZ: p.sizeXYZ,
      spacingMm: p.spacingMm,
      // a copy is transferred: mergeSliceFill checks the output's length against the plan's
      binary: p.binary.slice(),
      pipelinesUrl: new URL('pipelines', document.baseURI).href,
    }
    worker.postMessage(req, [req.binary.buffer])
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker
    const w = new Worker(new URL('../workers/slice-fill-worker.ts', import.meta.url), {
      type: 'module',
    })
    w.onmessage = (ev: MessageEvent<SliceFillReply>) => this.#reply(ev.data)
    w.onerror = (e) => {
      e.preventDefault()
      this.#fail(`the worker failed: ${e.message || 'could not start it'}`)
      // a worker that failed to load stays broken: the next run starts a new one
      w.terminate()
      this.#worker = undefined
    }
    this.#worker = w
    return w
  }

  #fail(why: string): void {
    this.#running = undefined
    const text = `Fill between slices failed: ${why}`
    this.#say(text)
    this.#store.notify('error', text)
  }

  #reply(r: SliceFillReply): void {
    const run = this.#running
    if (!run || r.id !== run.id) return
    if (r.kind === 'progress') {
      this.#say(
        r.stage === 'loading'
          ? `Filling ${run.what}: loading the interpolation filter…`
          : `Filling ${run.what}…`,
      )
      return
    }
    if (r.kind === 'error') {
      this.#fail(r.message)
      return
    }
    this.#running = undefined
    const s = this.#store.state
    const vol = this.#ed.labelVolume(s)
    if (!vol || vol.labels !== run.voxels || s.editVersion !== run.editVersion) {
      // Merging into edits made meanwhile could bring back what was just erased.
      const text =
        'The labels changed while filling between slices: nothing was written. Press I again.'
      this.#say(text)
      this.#store.notify('warning', text)
      return
    }
    let merged
    try {
      merged = mergeSliceFill(vol, run.input, r.output)
    } catch (e) {
      this.#fail(e instanceof Error ? e.message : String(e))
      return
    }
    const n = merged.delta.changed
    if (n === 0) {
      const text = `Fill between slices: nothing to add to ${run.what}.`
      this.#say(text)
      this.#store.notify('info', text)
      return
    }
    this.#ed.commit(merged.delta)
    const kept =
      merged.keptOther > 0
        ? ` ${merged.keptOther} voxels of other labels were left as they are.`
        : ''
    const text = `Filled ${n} voxels of ${run.what} (${(r.ms / 1000).toFixed(1)} s).${kept}`
    this.#say(text)
    this.#store.notify('info', text)
  }
}

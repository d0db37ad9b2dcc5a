/**
 * The viewer's editing engine: brush, eraser, threshold paint, fill, islands and label-table
 * operations over the shown labels, with bounded undo/redo. All voxel work is done by the pure
 * core in src/core/segmentation; this class wires it to the store: `labels.voxels` is edited in
 * place (never copied), every edit bumps `editVersion`, and the review reducer hears
 * `voxels-changed` for every label whose voxels changed (painted-over labels too).
 *
 * Frames: brush centres are LPS mm, brush sizes are radii in mm, intensity ranges are in the
 * volume's own units (HU for CT).
 */
import type { Vec3 } from '../../../src/shared/geometry.js'
import { paletteColour } from '../../../src/shared/palette.js'
import type { LabelsHeader, LabelsId } from '../../../src/shared/api.js'
import type { IndexBox, LabelVolume } from '../../../src/core/segmentation/label-volume.js'
import { voxelVolumeMm3 } from '../../../src/core/segmentation/label-volume.js'
import {
  applyDelta,
  labelChanges,
  makeDelta,
  readBox,
  revertDelta,
  type LabelDelta,
} from '../../../src/core/segmentation/label-delta.js'
import { brushDisc } from '../../../src/core/segmentation/brush-disc.js'
import { brushSphere, lpsToIndex } from '../../../src/core/segmentation/brush-sphere.js'
import type { IntensityGate, PaintAction } from '../../../src/core/segmentation/paint-mode.js'
import { floodFill } from '../../../src/core/segmentation/flood-fill.js'
import { nearestVoxelAxis } from '../../../src/core/segmentation/slice-fill.js'
import { keepLargestIsland, removeSmallIslands } from '../../../src/core/segmentation/islands.js'
import {
  addLabel,
  deleteLabelVoxels,
  recolourLabel,
  removeLabel,
  renameLabel,
  reorderLabel,
  setLabelHidden,
  type LabelTable,
} from '../../../src/core/segmentation/label-table.js'
import {
  createHistory,
  pushStep,
  redo,
  undo,
  type History,
} from '../../../src/core/segmentation/history.js'
import { initialReview, reduceReview } from '../../../src/core/segmentation/review-state.js'
import type { AppState, Store } from './state.js'
import { nextEdit } from './edit-extent.js'

/** The tool the left mouse button drives in the slice views; `none`: crosshair and W/L. */
export type Tool = 'none' | 'brush' | 'eraser' | 'fill'

/** Tool options, shown and changed by the edit panel. */
export interface ToolOptions {
  readonly tool: Tool
  /** Brush radius in mm. */
  readonly radiusMm: number
  /** 3-D sphere instead of a disc on the view's plane. */
  readonly sphere: boolean
  /** Eraser: erase only the active label (else any label). */
  readonly eraseActiveOnly: boolean
  /** Threshold paint: the brush only touches voxels with intensity in `range`. */
  readonly threshold: boolean
  /** Intensity range (volume units) of threshold paint and fill. */
  readonly range: readonly [number, number]
  /** Fill in 3-D (else in the clicked view's slice). */
  readonly fill3d: boolean
  /** Island removal: components smaller than this (mm³) go. */
  readonly islandMinMm3: number
}

/** Default undo history bound: 256 MiB. */
export const DEFAULT_HISTORY_BYTES = 256 * 1024 * 1024

/** Extra data of a step that also changed the label table (a delete). */
interface TableStep {
  readonly before: LabelTable
  readonly after: LabelTable
}

export class Editor {
  readonly #store: Store
  #history: History
  #tableSteps = new WeakMap<LabelDelta, TableStep>()
  #changeCache = new WeakMap<LabelDelta, ReadonlyMap<number, number>>()
  /** Voxel count per label value, kept exact by every delta. */
  #counts = new Map<number, number>()
  #countedVoxels: unknown
  /** Dabs of the stroke in progress, merged into one undo step when it ends. */
  #stroke: LabelDelta[] | undefined
  #options: ToolOptions
  #active = 1
  #listeners = new Set<() => void>()
  #surfaceTimer: ReturnType<typeof setTimeout> | undefined
  #newCount = 0

  constructor(store: Store, maxBytes = DEFAULT_HISTORY_BYTES) {
    this.#store = store
    this.#history = createHistory(maxBytes)
    this.#options = {
      tool: 'none',
      radiusMm: 5,
      sphere: false,
      eraseActiveOnly: false,
      threshold: false,
      range: [0, 1],
      fill3d: false,
      islandMinMm3: 100,
    }
    // A new label map (model run, new labelling, closed volume) starts a new history.
    let shown: unknown
    store.subscribe((s) => {
      if (s.labels?.voxels === shown) return
      shown = s.labels?.voxels
      this.#history = createHistory(this.#history.maxBytes)
      this.#stroke = undefined
      const first = s.labelTable?.[0]?.value
      if (first !== undefined && !s.labelTable!.some((e) => e.value === this.#active)) {
        this.#active = first
      }
      this.#changed()
    })
  }

  /** Called after any change of tool, options, active label or history. */
  onChange(l: () => void): () => void {
    this.#listeners.add(l)
    return () => this.#listeners.delete(l)
  }

  #changed(): void {
    for (const l of this.#listeners) l()
  }

  get options(): ToolOptions {
    return this.#options
  }

  setOptions(p: Partial<ToolOptions>): void {
    this.#options = { ...this.#options, ...p }
    this.#changed()
  }

  /** Sets the tool; a painting tool without a range yet takes one from the current W/L. */
  setTool(tool: Tool): void {
    this.setOptions({ tool })
  }

  /** The threshold/fill range from the current window: [level − width/2, level + width/2]. */
  rangeFromWindow(): void {
    const w = this.#store.state.window
    this.setOptions({ range: [w.level - w.width / 2, w.level + w.width / 2] })
  }

  get activeLabel(): number {
    return this.#active
  }

  setActiveLabel(v: number): void {
    this.#active = v
    this.#changed()
  }

  get undoSteps(): number {
    return this.#history.undo.length
  }

  get redoSteps(): number {
    return this.#history.redo.length
  }

  /** Voxels of label `v` now (exact). */
  count(v: number): number {
    this.#ensureCounts()
    return this.#counts.get(v) ?? 0
  }

  /** Every label's voxel count now (value → voxels). */
  counts(): ReadonlyMap<number, number> {
    this.#ensureCounts()
    return this.#counts
  }

  #ensureCounts(): void {
    const lab = this.#store.state.labels?.voxels
    if (lab === this.#countedVoxels) return
    this.#countedVoxels = lab
    this.#counts = new Map()
    if (!lab) return
    const c = new Float64Array(lab instanceof Uint16Array ? 65536 : 256)
    for (let n = 0; n < lab.length; n++) c[lab[n]!]!++
    for (let v = 1; v < c.length; v++) if (c[v]! > 0) this.#counts.set(v, c[v]!)
  }

  /** Keeps the counts exact after `d` was applied (`sign` 1) or reverted (`sign` −1). */
  #count(d: LabelDelta, sign: 1 | -1): void {
    this.#ensureCounts()
    for (const [v, n] of this.#changes(d)) {
      if (v !== 0) this.#counts.set(v, (this.#counts.get(v) ?? 0) + sign * n)
    }
  }

  /** A delta's per-label changes, computed once: undo and redo of a big step then scan nothing. */
  #changes(d: LabelDelta): ReadonlyMap<number, number> {
    let c = this.#changeCache.get(d)
    if (!c) this.#changeCache.set(d, (c = labelChanges(d)))
    return c
  }

  /** Labels (non-zero) whose voxels differ between a delta's before and after. */
  #changedLabels(d: LabelDelta): Set<number> {
    return new Set([...this.#changes(d).keys()].filter((v) => v !== 0))
  }

  /** The shown labels as a core LabelVolume (same voxel array), or undefined. */
  labelVolume(s: AppState = this.#store.state): LabelVolume | undefined {
    if (!s.labels || !s.volume) return undefined
    return { geometry: s.volume.info.geometry, labels: s.labels.voxels }
  }

  /**
   * A new empty labelling on the open volume's grid: all zero, uint8, one label "label 1".
   * No model run needed.
   */
  newLabelling(): void {
    const s = this.#store.state
    if (!s.volume) {
      this.#store.notify('error', 'Open an image first: a new labelling is made on its grid.')
      return
    }
    const g = s.volume.info.geometry
    const n = g.sizeIJK[0] * g.sizeIJK[1] * g.sizeIJK[2]
    const voxels = new Uint8Array(n)
    const table: LabelTable = [
      { value: 1, name: 'label 1', colour: paletteColour(1), hidden: false },
    ]
    this.#newCount++
    const header: LabelsHeader = {
      labelsId: `lbl_new${this.#newCount}` as LabelsId,
      volumeId: s.volume.info.volumeId,
      dataType: 'uint8',
      sizeIJK: g.sizeIJK,
      byteLength: n,
      labels: [{ value: 1, name: 'label 1', voxels: 0, volumeMl: 0, color: paletteColour(1) }],
      warnings: [],
    }
    this.#active = 1
    this.#store.set((st) => ({
      labels: { header, voxels },
      labelTable: table,
      review: initialReview([1]),
      editVersion: st.editVersion + 1,
      uncertainty: undefined,
      hotspots: undefined,
      overlay: { ...st.overlay, visible: true, hidden: new Set() },
    }))
    if (this.#options.tool === 'none') this.setTool('brush')
  }

  // ---- painting ----

  #action(): PaintAction {
    if (this.#options.tool === 'eraser') {
      return this.#options.eraseActiveOnly
        ? { kind: 'erase', onlyLabel: this.#active }
        : { kind: 'erase' }
    }
    return { kind: 'paint', value: this.#active }
  }

  /** Intensity tools read every slice: while slices still stream in, they wait (and say so). */
  #stillLoading(s: AppState, what: string): boolean {
    const l = s.voxelsLoading
    if (!l) return false
    this.#store.notify(
      'info',
      `${what} waits for the image: ${l.doneK} of ${l.totalK} slices read.`,
    )
    return true
  }

  #gate(s: AppState): IntensityGate | undefined {
    if (!this.#options.threshold || !s.volume) return undefined
    return { intensity: s.volume.voxels, range: this.#options.range }
  }

  /** Starts a stroke: the dabs until {@link endStroke} are one undo step. */
  beginStroke(): void {
    this.#stroke = []
  }

  /**
   * One dab of the brush or eraser at `centreLPS` (LPS mm) on the plane with normal `normalLPS`
   * (the active view's; ignored for the sphere). Edits in place; returns the voxels changed.
   */
  dab(centreLPS: Vec3, normalLPS: Vec3): number {
    const s = this.#store.state
    const vol = this.labelVolume(s)
    if (!vol) return 0
    if (this.#options.tool === 'brush' && !s.labelTable?.some((e) => e.value === this.#active)) {
      this.#store.notify('warning', 'Add a label first: the brush paints the active label.')
      return 0
    }
    if (this.#options.threshold && this.#stillLoading(s, 'Threshold paint')) return 0
    const o = {
      centreLPS,
      radiusMm: this.#options.radiusMm,
      action: this.#action(),
      gate: this.#gate(s),
    }
    const d = this.#options.sphere ? brushSphere(vol, o) : brushDisc(vol, { ...o, normalLPS })
    if (d.changed === 0) return 0
    this.#count(d, 1)
    if (this.#stroke) this.#stroke.push(d)
    else this.#record(vol, d)
    this.#edited(this.#changedLabels(d), undefined, d.box)
    return d.changed
  }

  /** Ends the stroke: its dabs become one undo step (exact bytes over their joint box). */
  endStroke(): void {
    const dabs = this.#stroke
    this.#stroke = undefined
    const vol = this.labelVolume()
    if (!dabs || dabs.length === 0 || !vol) return
    if (dabs.length === 1) {
      this.#record(vol, dabs[0]!)
      return
    }
    const b = dabs.reduce<number[]>(
      (m, d) =>
        d.box[3] > d.box[0]
          ? [0, 1, 2, 3, 4, 5].map((a) => (a < 3 ? Math.min : Math.max)(m[a]!, d.box[a]!))
          : m,
      [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity],
    )
    const box = b as unknown as LabelDelta['box']
    const after = readBox(vol, box)
    // Walk back through the dabs to the state before the stroke, read it, then restore `after`.
    for (let x = dabs.length - 1; x >= 0; x--) revertDelta(vol, dabs[x]!)
    const before = readBox(vol, box)
    const merged = makeDelta(box, before, after)
    applyDelta(vol, merged)
    this.#record(vol, merged)
  }

  /**
   * Flood fill from the voxel at `lps` over intensities in the range: in 3-D, or in the slice of
   * the voxel axis closest to `normalLPS` (2-D). Writes the active label.
   */
  fill(lps: Vec3, normalLPS: Vec3): number {
    const s = this.#store.state
    const vol = this.labelVolume(s)
    if (!vol || !s.volume || this.#stillLoading(s, 'Flood fill')) return 0
    const c = lpsToIndex(vol, lps).map((x) => Math.round(x)) as unknown as Vec3
    const sz = vol.geometry.sizeIJK
    if (c.some((x, a) => x < 0 || x >= sz[a]!)) return 0
    const axis = nearestVoxelAxis(vol.geometry.directionLPS, normalLPS)
    const t0 = performance.now()
    const r = floodFill(vol, {
      seedIJK: c,
      intensity: s.volume.voxels,
      range: this.#options.range,
      value: this.#active,
      ...(this.#options.fill3d ? {} : { sliceAxis: axis }),
    })
    this.#apply(vol, r.delta, performance.now() - t0, 'Fill')
    return r.delta.changed
  }

  /** Removes components smaller than `minMm3` (mm³) of `label` (absent: every label). */
  removeIslands(minMm3 = this.#options.islandMinMm3, label?: number): number {
    const vol = this.labelVolume()
    if (!vol) return 0
    const t0 = performance.now()
    const r = removeSmallIslands(vol, minMm3, label === undefined ? {} : { label })
    this.#apply(vol, r.delta, performance.now() - t0, 'Island removal')
    this.#store.notify(
      'info',
      `Removed ${r.componentsChanged} island(s) under ${minMm3} mm³ (${r.delta.changed} voxels, ${((r.delta.changed * voxelVolumeMm3(vol.geometry)) / 1000).toFixed(2)} mL).`,
    )
    return r.delta.changed
  }

  /** Keeps only the largest component of `label` (absent: of every label). */
  keepLargest(label?: number): number {
    const vol = this.labelVolume()
    if (!vol) return 0
    const t0 = performance.now()
    const r = keepLargestIsland(vol, label === undefined ? {} : { label })
    this.#apply(vol, r.delta, performance.now() - t0, 'Keep largest')
    return r.delta.changed
  }

  /**
   * Records `d`, already applied in place by an operation that ran outside the editor (fill
   * between slices, app/slice-fill.ts): exact counts, one undo step, review and 3-D surfaces,
   * as for every other edit.
   */
  commit(d: LabelDelta): void {
    const vol = this.labelVolume()
    if (vol) this.#apply(vol, d, 0, '')
  }

  #apply(vol: LabelVolume, d: LabelDelta, ms: number, what: string): void {
    if (d.changed === 0) return
    this.#count(d, 1)
    this.#record(vol, d)
    this.#edited(this.#changedLabels(d), undefined, d.box)
    // Measured, so a slow machine says so rather than looking frozen.
    if (ms > 1000) this.#store.notify('info', `${what} took ${(ms / 1000).toFixed(1)} s.`)
  }

  #record(_vol: LabelVolume, d: LabelDelta): void {
    const dropped = this.#history.dropped
    pushStep(this.#history, d)
    const lost = this.#history.dropped - dropped
    if (lost > 0) {
      this.#store.notify(
        'warning',
        `Undo history full: the oldest ${lost} step${lost === 1 ? ' was' : 's were'} dropped.`,
      )
    }
    this.#changed()
  }

  /** Bumps editVersion, marks the labels edited in the review, schedules 3-D surfaces. */
  #edited(labels: ReadonlySet<number>, table?: LabelTable, box?: IndexBox): void {
    this.#store.set((st) => {
      let review = st.review
      if (review) {
        for (const l of labels) {
          const r = reduceReview(review, { type: 'voxels-changed', label: l })
          if (r.ok) review = r.state
        }
      }
      return {
        // a new label table recolours everything; otherwise the views redraw only `box`
        ...nextEdit(st, box && !table ? box : 'all'),
        review,
        ...(table ? { labelTable: table } : {}),
      }
    })
    this.#scheduleSurfaces()
  }

  /**
   * 500 ms after the last edit the label map is re-published (same voxels, a new header with the
   * current counts and colours), which makes the 3-D view recompute its surfaces in its worker.
   */
  #scheduleSurfaces(): void {
    if (this.#surfaceTimer !== undefined) clearTimeout(this.#surfaceTimer)
    this.#surfaceTimer = setTimeout(() => {
      this.#surfaceTimer = undefined
      if (this.#stroke) {
        this.#scheduleSurfaces()
        return
      }
      this.#republish()
    }, 500)
  }

  #republish(): void {
    const s = this.#store.state
    if (!s.labels || !s.volume) return
    const mm3 = voxelVolumeMm3(s.volume.info.geometry)
    const labels = (s.labelTable ?? []).map((e) => ({
      value: e.value,
      name: e.name,
      voxels: this.count(e.value),
      volumeMl: (this.count(e.value) * mm3) / 1000,
      color: e.colour,
    }))
    this.#store.set({ labels: { header: { ...s.labels.header, labels }, voxels: s.labels.voxels } })
  }

  // ---- undo / redo ----

  /** Undoes the newest step (exact bytes); false when there is none. */
  undo(): boolean {
    const vol = this.labelVolume()
    const d = this.#history.undo[this.#history.undo.length - 1]
    if (!vol || !d || !undo(this.#history, vol)) return false
    this.#count(d, -1)
    this.#edited(this.#changedLabels(d), this.#tableSteps.get(d)?.before, d.box)
    this.#changed()
    return true
  }

  /** Redoes the last undone step; false when there is none. */
  redo(): boolean {
    const vol = this.labelVolume()
    const d = this.#history.redo[this.#history.redo.length - 1]
    if (!vol || !d || !redo(this.#history, vol)) return false
    this.#count(d, 1)
    this.#edited(this.#changedLabels(d), this.#tableSteps.get(d)?.after, d.box)
    this.#changed()
    return true
  }

  // ---- label table ----

  #table(): LabelTable {
    return this.#store.state.labelTable ?? []
  }

  #setTable(t: LabelTable): void {
    this.#store.set((st) => ({ labelTable: t, editVersion: st.editVersion + 1 }))
    this.#scheduleSurfaces()
    this.#changed()
  }

  /** Adds a label (next free value, a palette colour) and makes it active. */
  addLabel(name?: string): number {
    const t = this.#table()
    const max = this.#store.state.labels?.voxels instanceof Uint16Array ? 65535 : 255
    let v = 1
    while (t.some((e) => e.value === v)) v++
    const next = addLabel(t, name ?? `label ${v}`, paletteColour(v), v, max)
    this.#store.set((st) => {
      const review = st.review ? new Map(st.review) : undefined
      review?.set(v, { kind: 'edited' })
      return { review }
    })
    this.#active = v
    this.#setTable(next)
    return v
  }

  rename(v: number, name: string): void {
    this.#setTable(renameLabel(this.#table(), v, name))
  }

  recolour(v: number, colour: readonly [number, number, number]): void {
    this.#setTable(recolourLabel(this.#table(), v, colour))
  }

  /** Moves label `v` up (−1) or down (+1) in the list. */
  move(v: number, by: number): void {
    const t = this.#table()
    this.#setTable(reorderLabel(t, v, t.findIndex((e) => e.value === v) + by))
  }

  /**
   * Hides or shows label `v` (display only). Both `labelTable.hidden` and `overlay.hidden` are set:
   * the slice and 3-D views draw from `overlay.hidden`.
   */
  setHidden(v: number, hidden: boolean): void {
    const t = setLabelHidden(this.#table(), v, hidden)
    this.#store.set((st) => {
      const h = new Set(st.overlay.hidden)
      if (hidden) h.add(v)
      else h.delete(v)
      return { labelTable: t, overlay: { ...st.overlay, hidden: h } }
    })
    this.#changed()
  }

  /** Deletes label `v`: its voxels go to 0 and its entry leaves the table; one undo step. */
  deleteLabel(v: number): void {
    const vol = this.labelVolume()
    if (!vol) return
    const before = this.#table()
    const after = removeLabel(before, v)
    const d = deleteLabelVoxels(vol, v)
    if (d.changed === 0) {
      // Nothing to undo in the voxels: the table change alone.
      this.#setTable(after)
      return
    }
    this.#tableSteps.set(d, { before, after })
    this.#count(d, 1)
    this.#record(vol, d)
    this.#edited(new Set([v]), after)
  }
}

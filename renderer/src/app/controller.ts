/**
 * What the viewer does with the core: every call goes through the typed {@link VolsegApi} and
 * every failure becomes a notice in words (never a blank view or an unhandled rejection).
 */
import {
  API_VERSION,
  MAX_UPLOAD_BYTES,
  type ApiError,
  type ApiEvent,
  type HeldItems,
  type JobId,
  type LabelsHeader,
  type LabelsId,
  type LabelsSelector,
  type ModelId,
  type OpenedCohortCase,
  type OpenedVolume,
  type Result,
  type ReviewRecord,
  type SaveMaskRequest,
  type SaveReport,
  type SourceRef,
  type SourceRoot,
} from '../../../src/shared/api.js'
import type { LabelTable } from '../../../src/core/segmentation/label-table.js'
import { fromReviewRecord, toReviewRecord } from '../../../src/core/segmentation/review-record.js'
import { initialReview } from '../../../src/core/segmentation/review-state.js'
import { asTypedArray } from '../../../src/shared/wire.js'
import type { ApiClient } from '../api/connect.js'
import { Backups, mayDiscardEdits } from './backups.js'
import { HotspotRunner } from './hotspot-runner.js'
import {
  autoWindow,
  initialWindow,
  hasUnsavedEdits,
  WINDOW_PRESETS,
  type LoadedVolume,
  type Store,
} from './state.js'
import { readFirstSlab, streamSlabs } from './voxel-stream.js'
import { dropRefusal } from './drop-refusal.js'
import { labelsInCore, type ExportContext } from './export-labels.js'
import { maskFileName, saveFolderName, savedLine } from './save-names.js'
import { readSessionKey, writeSessionKey } from './session-key.js'
import { centreLPS, gridTransform } from './view-geometry.js'

/** The label table of a label map from the core: its labels (not the background) in value order. */
export function labelTableOf(header: LabelsHeader): LabelTable {
  return header.labels
    .filter((l) => l.value !== 0)
    .map((l) => ({ value: l.value, name: l.name, colour: l.color, hidden: false }))
}

/** A sentence for an API error, with its code and file. */
export function describeError(e: ApiError): string {
  return `${e.message}${e.file ? ` (${e.file})` : ''} [${e.code}]`
}

/** Waits between reconnection attempts, ms; the last one repeats. */
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000]
/** Failed attempts (about 7 s) after which the page says how to get going again. */
const GIVE_HINT_AFTER = 3

export class Controller {
  #client: ApiClient
  readonly #store: Store
  readonly #reconnect: (() => Promise<ApiClient>) | undefined
  readonly #hotspots: HotspotRunner
  /** The label map the core holds for what is shown, and the edit version it matches. */
  #coreCopy: { labelsId: LabelsId; version: number } | undefined
  /** Backups of the unsaved edits, and the offer of one found on opening. */
  readonly backups: Backups
  /**
   * Saves the labels of a cohort case's image where the cohort keeps them (the worklist sets it);
   * undefined for any other image, which is saved into `--out`.
   */
  caseSave?: (req: SaveMaskRequest) => Promise<Result<SaveReport>> | undefined

  /** `reconnect` opens a new connection after this one is lost (none: say so and stop). */
  constructor(client: ApiClient, store: Store, reconnect?: () => Promise<ApiClient>) {
    this.#client = client
    this.#store = store
    this.#reconnect = reconnect
    this.#hotspots = new HotspotRunner(store)
    this.#attach(client)
    this.backups = new Backups(store, {
      api: () => this.api,
      show: (o) => this.#showLabels({ labelsId: o.labels.labelsId }, 'none', o.review),
      describe: describeError,
    })
  }

  #attach(client: ApiClient): void {
    client.onEvent((e) => this.#onEvent(e))
    client.onClose((why) => {
      this.#store.set({ connected: false })
      if (!this.#reconnect) {
        this.#store.notify('error', why)
        return
      }
      this.#store.notify('warning', `Lost the connection to VolSeg (${why}); reconnecting…`)
      void this.#reconnectLoop()
    })
  }

  /** Connects again (with back-off) and takes back what the lost connection held. */
  async #reconnectLoop(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const wait = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)]!
      await new Promise((r) => setTimeout(r, wait))
      let client: ApiClient
      try {
        client = await this.#reconnect!()
      } catch {
        // A restarted server has a new access token, which this page cannot know: say so once.
        if (attempt === GIVE_HINT_AFTER) {
          this.#store.notify(
            'error',
            'VolSeg does not answer at this address. If it stopped, start it again and open the address it prints (a restart makes a new access token); this page keeps trying.',
          )
        }
        continue
      }
      this.#client = client
      this.#attach(client)
      // The "lost" and "does not answer" notices are history now.
      this.#store.set((st) => ({
        notices: st.notices.filter(
          (n) => !/^(Lost the connection to VolSeg|VolSeg does not answer)/.test(n.text),
        ),
      }))
      await this.#resume()
      return
    }
  }

  /**
   * After a reconnect: resumes the old session (the server keeps a closed connection's work for
   * its grace period); when that is gone (a restart, a long outage) the image is opened again and
   * the mask this page still shows is handed back, so nothing on screen is lost.
   */
  async #resume(): Promise<void> {
    const s = this.#store.state
    const oldKey = s.hello?.session?.key
    const hello = await this.api.hello({})
    if (!hello.ok) return
    this.#store.set({ connected: true, hello: hello.value })
    if (hello.value.session) writeSessionKey(hello.value.session.key)
    const r = oldKey ? await this.api.resumeSession({ key: oldKey }) : undefined
    const volume = s.volume
    if (r?.ok) {
      const held = r.value.volumes.some((v) => v.volume.volumeId === volume?.info.volumeId)
      if (held || !volume) {
        this.#store.notify('info', 'Reconnected to VolSeg; nothing was lost.')
        return
      }
    }
    if (!volume) return
    this.#store.set({ job: undefined })
    if (volume.info.source.startsWith('upload:')) {
      this.#store.notify(
        'error',
        `Reconnected, but the server no longer holds ${volume.info.name} (it restarted, or the connection was lost for longer than it waits): drop the file again.`,
      )
      return
    }
    const labels = s.labels
    const again = await this.api.openSource({ source: volume.info.source })
    if (!again.ok || again.value.kind !== 'volume') {
      this.#store.notify(
        'error',
        `Reconnected, but ${volume.info.name} could not be opened again: ${again.ok ? 'it asks for a series' : describeError(again.error)}`,
      )
      return
    }
    await this.#load(again.value)
    if (!labels) {
      this.#store.notify(
        'info',
        `Reconnected; the server had restarted, ${volume.info.name} is open again.`,
      )
      return
    }
    const up = await this.api.uploadLabels({
      volumeId: again.value.volumeId,
      dataType: labels.header.dataType,
      sizeIJK: labels.header.sizeIJK,
      bytes: new Uint8Array(
        labels.voxels.buffer,
        labels.voxels.byteOffset,
        labels.voxels.byteLength,
      ),
    })
    if (!up.ok) {
      this.#store.notify(
        'error',
        `Reconnected, but the mask could not be handed back: ${describeError(up.error)}`,
      )
      return
    }
    this.#coreCopy = { labelsId: up.value.labelsId, version: this.#store.state.editVersion }
    this.#store.set({
      labels: { header: up.value, voxels: labels.voxels },
      lastRun: s.lastRun,
      overlay: { ...this.#store.state.overlay, visible: true },
    })
    this.#store.notify(
      'info',
      `Reconnected; the server had restarted: ${volume.info.name} is open again with the mask this page showed (not saved yet).`,
    )
  }

  get api(): ApiClient['api'] {
    return this.#client.api
  }

  /** Unwraps a result, or shows its error and returns undefined. */
  #value<T>(r: Result<T>, what: string): T | undefined {
    if (r.ok) return r.value
    this.#store.set({ lastError: r.error })
    this.#store.notify('error', `${what}: ${describeError(r.error)}`)
    return undefined
  }

  /** `first`: a source to open instead of the sample (`npm start -- FILE`, a desktop grant). */
  async start(first?: SourceRef | null): Promise<void> {
    const hello = this.#value(await this.api.hello({}), 'Could not greet the VolSeg core')
    if (!hello) return
    if (hello.apiVersion !== API_VERSION) {
      this.#store.notify(
        'error',
        `The core speaks API ${hello.apiVersion}, this viewer ${API_VERSION}; reload the page after updating.`,
      )
      return
    }
    this.#store.set({ connected: true, hello })
    const models = this.#value(await this.api.listModels({}), 'Could not list the models') ?? []
    const preferred = models.find((m) => m.id === hello.defaultModelId) ?? models[0]
    this.#store.set({ models, modelId: preferred?.id })
    await this.browse(undefined)
    // A reload: take back what this tab's previous connection held, instead of opening again.
    const previous = readSessionKey()
    if (hello.session) writeSessionKey(hello.session.key)
    if (previous !== undefined && previous !== hello.session?.key) {
      const r = await this.api.resumeSession({ key: previous })
      if (r.ok && (await this.#restore(r.value))) return
    }
    if ((first ??= hello.sampleSource)) await this.open(first)
  }

  /**
   * Shows the newest volume of a resumed session with its newest label map, and follows a job
   * still running on it; closes the older ones (this viewer shows one volume). False when the
   * session held no volume.
   */
  async #restore(items: HeldItems): Promise<boolean> {
    const last = items.volumes.at(-1)
    if (!last) return false
    for (const v of items.volumes.slice(0, -1)) {
      void this.api.closeVolume({ volumeId: v.volume.volumeId })
    }
    await this.#load(last.volume)
    await this.backups.check(last.volume.volumeId)
    const labels = last.labels.at(-1)
    const job = items.jobs.find(
      (j) => j.volumeId === last.volume.volumeId && (j.state === 'running' || j.state === 'queued'),
    )
    if (job) {
      this.#store.set({
        job: {
          jobId: job.jobId,
          modelId: this.#store.state.modelId ?? '',
          stage: job.state === 'queued' ? 'queued' : 'starting',
          done: 0,
          total: job.state === 'queued' ? 0 : 1,
          startedAt: performance.now(),
        },
      })
    } else if (labels) {
      await this.#showLabels({ labelsId: labels.labelsId }, labels.run?.uncertainty)
    }
    this.#store.notify('info', `Reconnected: ${last.volume.name} is open as before.`)
    return true
  }

  /** Lists a folder of `root` (default: the root shown now) in the file browser. */
  async browse(under: SourceRef | undefined, root?: SourceRoot): Promise<void> {
    const from = root ?? this.#store.state.listingRoot
    const r = await this.api.listSources({
      ...(under === undefined ? {} : { under }),
      ...(from === 'out' ? { root: from } : {}),
    })
    const listing = this.#value(r, 'Could not list the folder')
    if (listing) this.#store.set({ listing, listingRoot: from })
  }

  /**
   * Opens a mask file (a saved one under `--out`, or one under `--data`) as the labels of the
   * open image, with the review saved beside it; unsaved edits are replaced only when the user
   * says so.
   */
  async openMask(root: SourceRoot, source: SourceRef): Promise<void> {
    const s = this.#store.state
    if (!s.volume) {
      this.#store.notify('info', 'Open the image first, then its mask.')
      return
    }
    const shown = `${root === 'out' ? (s.hello?.outDirName ?? 'out') : (s.hello?.dataRootName ?? 'data')}/${source}`
    if (
      hasUnsavedEdits(s) &&
      !window.confirm(`Replace the unsaved edits with the mask ${shown}?`)
    ) {
      return
    }
    this.#store.set({ loading: `Opening the mask ${shown}…` })
    try {
      const r = await this.api.openLabels({ volumeId: s.volume.info.volumeId, root, source })
      const opened = this.#value(r, 'Could not open the mask')
      if (!opened) return
      await this.#showLabels({ labelsId: opened.labels.labelsId }, 'none', opened.review)
      this.#store.set({ openedMask: shown, saved: undefined, saveFailed: undefined })
      const reviewed = opened.reviewPath ? ` with its review (${opened.reviewPath})` : ''
      this.#store.notify('info', `Opened the mask ${shown}${reviewed}.`)
    } finally {
      this.#store.set({ loading: undefined })
    }
  }

  async open(source: SourceRef, seriesKey?: string): Promise<void> {
    // A series is picked after the folder was opened, which asked already.
    if (
      seriesKey === undefined &&
      !mayDiscardEdits(this.#store.state, 'Open another image without saving them')
    ) {
      return
    }
    this.#store.set({ loading: 'Opening…', seriesChoice: undefined })
    try {
      const r = await this.api.openSource(
        seriesKey === undefined ? { source } : { source, seriesKey },
      )
      const opened = this.#value(r, 'Could not open the image')
      if (!opened) return
      if (opened.kind === 'series-choice') {
        this.#store.set({ seriesChoice: { source: opened.source, series: opened.series } })
        return
      }
      await this.#load(opened)
      await this.backups.check(opened.volumeId)
    } finally {
      this.#store.set({ loading: undefined })
    }
  }

  /**
   * Opens files dropped onto the window: the first one that can be dropped is read and sent with
   * `openUpload`; the others are named in a notice. Refusals are notices in words.
   */
  async openDropped(files: readonly File[]): Promise<void> {
    if (files.length === 0) return
    if (!this.#store.state.connected) {
      this.#store.notify(
        'error',
        'Not connected to the VolSeg core: reload the page, then drop again.',
      )
      return
    }
    const max = this.#store.state.hello?.maxUploadBytes ?? MAX_UPLOAD_BYTES
    const refusals = files.map((f) => dropRefusal(f, max))
    const k = refusals.findIndex((r) => r === undefined)
    const file = files[k]
    if (file === undefined) {
      for (const r of refusals.slice(0, 3)) if (r) this.#store.notify('error', r)
      return
    }
    if (!mayDiscardEdits(this.#store.state, `Open ${file.name} without saving them`)) return
    if (files.length > 1) {
      const others = files.filter((_, n) => n !== k).map((f) => f.name)
      this.#store.notify(
        'info',
        `${files.length} files dropped: opening ${file.name} only (one at a time); not opened: ${others.join(', ')}`,
      )
    }
    this.#store.set({ loading: `Reading ${file.name}…`, seriesChoice: undefined })
    try {
      let bytes: Uint8Array
      try {
        bytes = new Uint8Array(await file.arrayBuffer())
      } catch (e) {
        this.#store.notify(
          'error',
          `${file.name}: the browser could not read the file (${e instanceof Error ? e.message : String(e)})`,
        )
        return
      }
      this.#store.set({ loading: `Opening ${file.name}…` })
      const r = await this.api.openUpload({ name: file.name, bytes })
      if (!r.ok) {
        // The core's sentence already starts with the file name.
        this.#store.set({ lastError: r.error })
        this.#store.notify('error', `${r.error.message} [${r.error.code}]`)
        return
      }
      await this.#load(r.value)
      await this.backups.check(r.value.volumeId) // a re-drop finds its backup by the bytes
    } finally {
      this.#store.set({ loading: undefined })
    }
  }

  async #load(info: OpenedVolume): Promise<void> {
    this.#store.set({ loading: `Reading ${info.name}…` })
    // The slab holding the middle slice first: the views draw after one slab's round trip.
    const start = this.#value(await readFirstSlab(this.api, info), 'Could not read the voxels')
    if (!start) return
    const previous = this.#store.state.volume
    const volume: LoadedVolume = { info, voxels: start.voxels, grid: gridTransform(info.geometry) }
    // The rest streams in behind the drawn views (the header counts the slices read); its first
    // request leaves now, so it crosses the socket while the views draw the first slab.
    const rest = streamSlabs(this.api, this.#store, volume, start)
    this.#store.set({
      // The previous file's warnings are about that file: they go with it.
      notices: this.#store.state.notices.filter((n) => n.level !== 'warning'),
      volume,
      voxelsLoading: start.loading,
      crosshairLPS: centreLPS(info.geometry),
      cameras: {},
      ...initialWindow(info),
      labels: undefined,
      labelTable: undefined,
      review: undefined,
      uncertainty: undefined,
      hotspots: undefined,
      showUncertainty: false,
      saved: undefined,
      saveFailed: undefined,
      openedMask: undefined,
      lastRun: undefined,
      backupOffer: undefined,
      lastBackup: undefined,
    })
    for (const w of info.warnings) this.#store.notify('warning', `${info.name}: ${w}`)
    if (previous && previous.info.volumeId !== info.volumeId) {
      void this.api.closeVolume({ volumeId: previous.info.volumeId })
    }
    void rest.then(async (r) => {
      if (r) {
        this.#value(r, `Could not read all of ${info.name}'s slices`)
        return
      }
      if (info.partial) await this.#takeWhole(volume)
    })
  }

  /**
   * A volume answered while its file was still being read (`partial`): once it is whole, its
   * figures over every voxel replace the early ones, an untouched initial window is picked again,
   * and warnings about the rest of the file are shown.
   */
  async #takeWhole(volume: LoadedVolume): Promise<void> {
    const r = await this.api.awaitWhole({ volumeId: volume.info.volumeId })
    if (this.#store.state.volume !== volume) return
    const info = this.#value(r, `Could not read all of ${volume.info.name}`)
    if (!info) return
    const shown = new Set(volume.info.warnings)
    // The window was picked from the early figures: still untouched, it is picked again.
    const s = this.#store.state
    const early = initialWindow(volume.info)
    const untouched =
      s.presetName === early.presetName &&
      s.window.width === early.window.width &&
      s.window.level === early.window.level
    this.#store.set({
      volume: { ...volume, info },
      ...(untouched ? initialWindow(info) : {}),
    })
    for (const w of info.warnings) {
      if (!shown.has(w)) this.#store.notify('warning', `${info.name}: ${w}`)
    }
  }

  /** Applies a window preset by name (`auto`: the percentiles). */
  setPreset(name: string): void {
    const v = this.#store.state.volume
    if (name === 'auto') {
      if (v) this.#store.set({ window: autoWindow(v.info), presetName: 'auto' })
      return
    }
    const p = WINDOW_PRESETS.find((x) => x.name === name)
    if (p) this.#store.set({ window: { width: p.width, level: p.level }, presetName: p.name })
  }

  /** The next preset in the list (key W). */
  cyclePreset(): void {
    const names = ['auto', ...WINDOW_PRESETS.map((p) => p.name)]
    const n = names.indexOf(this.#store.state.presetName)
    this.setPreset(names[(n + 1) % names.length]!)
  }

  async segment(): Promise<void> {
    const s = this.#store.state
    if (!s.volume || !s.modelId || s.job) return
    const r = await this.api.startSegmentation({
      volumeId: s.volume.info.volumeId,
      modelId: s.modelId as ModelId,
      provider: s.provider,
      tta: s.tta,
      uncertainty: s.wantUncertainty,
    })
    const started = this.#value(r, 'Could not start the segmentation')
    if (!started) return
    this.#store.set({
      job: {
        jobId: started.jobId,
        modelId: s.modelId,
        stage: 'starting',
        done: 0,
        total: 1,
        startedAt: performance.now(),
      },
      saved: undefined,
      saveFailed: undefined,
    })
  }

  async cancel(): Promise<void> {
    const job = this.#store.state.job
    if (!job) return
    this.#value(await this.api.cancelJob({ jobId: job.jobId }), 'Could not cancel')
  }

  #onEvent(e: ApiEvent): void {
    const job = this.#store.state.job
    if (!job || e.jobId !== job.jobId) return
    switch (e.type) {
      case 'job:plan':
        break
      case 'job:queued':
        // `total` carries the jobs ahead while queued (the panel says so in words).
        this.#store.set({ job: { ...job, stage: 'queued', done: 0, total: e.ahead } })
        break
      case 'job:progress':
        this.#store.set({
          job: { ...job, stage: e.stage, done: e.done, total: e.total, etaSeconds: e.etaSeconds },
        })
        break
      case 'job:done':
        this.#store.set({ job: undefined })
        void this.#loadResult(e.jobId)
        break
      case 'job:failed':
        this.#store.set({ job: undefined, lastError: e.error })
        this.#store.notify('error', `Segmentation failed: ${describeError(e.error)}`)
        break
      case 'job:cancelled':
        this.#store.set({ job: undefined })
        this.#store.notify('info', 'Segmentation cancelled.')
        break
    }
  }

  async #loadResult(jobId: JobId): Promise<void> {
    await this.#showLabels({ jobId }, undefined)
  }

  /** Shows a label map (and its uncertainty map when it has one) over the open volume. */
  async #showLabels(
    sel: LabelsSelector,
    uncertainty: 'entropy' | 'tta-variance' | 'none' | undefined,
    saved?: ReviewRecord,
  ): Promise<void> {
    const block = this.#value(await this.api.readLabels(sel), 'Could not read the result')
    if (!block) return
    const v = asTypedArray(block.bytes, block.dataType)
    if (!(v instanceof Uint8Array || v instanceof Uint16Array)) return
    const { bytes, ...header } = block
    void bytes // the header without its voxels
    // A saved review brings back names, colours, order and decisions; else all start pending.
    const { table, review } = saved
      ? fromReviewRecord(saved)
      : (() => {
          const t = labelTableOf(header)
          return { table: t, review: initialReview(t.map((e) => e.value)) }
        })()
    this.#coreCopy = { labelsId: header.labelsId, version: this.#store.state.editVersion + 1 }
    this.#store.set((st) => ({
      labels: { header, voxels: v },
      labelTable: table,
      review,
      openedMask: undefined,
      // Fresh from the core: nothing to save or back up until the next edit.
      editVersion: st.editVersion + 1,
      savedVersion: st.editVersion + 1,
      lastRun: header.run,
      uncertainty: undefined,
      hotspots: undefined,
      overlay: { ...st.overlay, visible: true },
    }))
    for (const w of header.warnings) this.#store.notify('warning', w)
    const kind = uncertainty ?? header.run?.uncertainty
    if (kind !== undefined && kind !== 'none') await this.#loadUncertainty(sel)
  }

  async #loadUncertainty(sel: LabelsSelector): Promise<void> {
    const block = this.#value(
      await this.api.readUncertainty(sel),
      'Could not read the uncertainty map',
    )
    if (!block) return
    const u = asTypedArray(block.bytes, 'float32') as Float32Array
    const { bytes, ...header } = block
    void bytes // the header without its voxels
    this.#store.set({ uncertainty: { header, voxels: u } })
    this.#hotspots.run()
  }

  async save(): Promise<void> {
    const s = this.#store.state
    if (!s.volume || !s.labels) {
      this.#store.notify('info', 'Nothing to save yet: run a model first.')
      return
    }
    const outDir = saveFolderName(s)
    if (s.openedMask && !s.saved && s.savedVersion === s.editVersion) {
      this.#store.notify('info', `No changes since the mask was opened: ${s.openedMask}`)
      return
    }
    if (s.saved && s.savedVersion === s.editVersion) {
      // Nothing changed since: a second identical file would only be a copy to tell apart.
      this.#store.notify(
        'info',
        `Already saved, no changes since: ${outDir ? `${outDir}/` : ''}${s.saved.path}`,
      )
      return
    }
    // What is on screen now is what gets saved: edits made since the core's copy go up first.
    const version = s.editVersion
    const volumeId = s.volume.info.volumeId
    const labelsId = await labelsInCore(this.exportContext())
    if (labelsId === undefined) return
    const review =
      s.labelTable && s.review ? toReviewRecord(s.labelTable, s.review, new Date()) : undefined
    const req = {
      volumeId,
      labelsId,
      name: maskFileName(s.volume.info.name),
      ...(review ? { review } : {}),
    }
    const r = (await this.caseSave?.(req)) ?? (await this.api.saveMask(req))
    const report = this.#value(r, 'Could not save the mask')
    if (report) {
      this.#store.set({
        saved: report,
        savedLabelsId: labelsId,
        savedVersion: version,
        saveFailed: undefined,
      })
      this.#store.notify('info', savedLine(report, outDir))
    } else if (!r.ok) {
      // A failed save (a re-read that did not match: E_VERIFY) leaves the labels unsaved.
      this.#store.set({ saved: undefined, saveFailed: r.error })
    }
  }

  /** Shows an opened cohort case: its image, then its mask (`maskShown`) as labels with its review. */
  async showCase(c: OpenedCohortCase, maskShown: string | undefined): Promise<void> {
    await this.#load(c.volume)
    if (c.labels) {
      await this.#showLabels({ labelsId: c.labels.labels.labelsId }, 'none', c.labels.review)
      this.#store.set({ openedMask: maskShown })
    }
    await this.backups.check(c.volume.volumeId)
  }

  /** What the export, the snapshot and the save need from here (see export-labels.ts). */
  exportContext(): ExportContext {
    const value = <T>(r: Result<T>, what: string): T | undefined => this.#value(r, what)
    return { api: this.api, store: this.#store, coreCopy: this.#coreCopy, value }
  }
}

/**
 * Code the viewer bench runs inside the page (`page.evaluate`). Each exported function is
 * self-contained: Playwright sends its source text, so it may use only its arguments and the
 * page's globals. tsx wraps nested functions in `__name(...)`; the bench defines a no-op
 * `__name` in the page first ({@link NAME_SHIM}).
 *
 * The page is the built viewer opened with `?bench`, which puts `window.volsegBench` (store,
 * controller, slice views; renderer/src/main.ts) in reach. The root tsconfig has no DOM lib, so
 * the few browser shapes used here are declared below.
 */

/** Defines the `__name` helper that tsx-compiled page functions call. */
export const NAME_SHIM = 'globalThis.__name ??= (f) => f'

interface Listener {
  (s: PageState, prev: PageState): void
}
interface PageState {
  readonly loading?: string
  readonly voxelsLoading?: unknown
  readonly volume?: { readonly info: { readonly name: string; readonly volumeId: string } }
  readonly overlay: Record<string, unknown>
  readonly labels?: unknown
}
interface PageStore {
  readonly state: PageState
  set(patch: Record<string, unknown>): void
  subscribe(l: Listener): () => void
}
interface LabelStatLike {
  readonly value: number
  readonly voxels: number
}
interface PageResult<T> {
  readonly ok: boolean
  readonly value: T
  readonly error: { readonly message: string }
}
interface PageBench {
  readonly store: PageStore
  readonly controller: {
    readonly api: {
      uploadLabels(req: {
        volumeId: string
        dataType: 'uint8'
        sizeIJK: readonly number[]
        bytes: Uint8Array
      }): Promise<PageResult<{ readonly labels: readonly LabelStatLike[] }>>
      readVoxels(req: { volumeId: string }): Promise<PageResult<unknown>>
    }
  }
  readonly views: ReadonlyMap<string, { render(s: PageState, force?: boolean): void }>
}
interface PageElement {
  readonly textContent: string | null
  readonly clientWidth: number
  readonly clientHeight: number
  click(): void
  dispatchEvent(e: unknown): boolean
  append(e: PageElement): void
}
interface Ctx2d {
  createImageData(w: number, h: number): { readonly data: Uint8ClampedArray }
  putImageData(img: unknown, x: number, y: number): void
}
interface PageCanvas extends PageElement {
  width: number
  height: number
  getContext(kind: '2d', opts?: unknown): Ctx2d | null
}
interface WorkerLike {
  addEventListener(type: 'message', l: (ev: { readonly data: unknown }) => void): void
  postMessage(message: unknown, transfer?: unknown): void
}
type WorkerCtor = new (url: unknown, options?: unknown) => WorkerLike

/** One message to or from a probed worker, stamped on the page's clock. */
export interface WorkerEvent {
  readonly worker: string
  readonly t: number
  readonly kind: string
  readonly label?: number
  readonly ms?: number
  readonly points?: number
  readonly triangles?: number
}

interface PageGlobals {
  readonly volsegBench: PageBench
  readonly document: {
    querySelector(s: string): PageElement | null
    querySelectorAll(s: string): ArrayLike<PageCanvas>
    readonly body: PageElement
  }
  requestAnimationFrame(cb: (t: number) => void): number
  readonly WheelEvent: new (type: string, init: Record<string, unknown>) => unknown
  Worker: WorkerCtor
  vbWorkerLog?: WorkerEvent[]
  vbMask?: unknown
}

/** Wraps `Worker` so that every message to and from a worker is logged with its time. */
export function installProbes(): void {
  const g = globalThis as unknown as PageGlobals
  if (g.vbWorkerLog) return
  const log: WorkerEvent[] = []
  g.vbWorkerLog = log
  const Base = g.Worker
  class Probed extends Base {
    readonly #name: string
    constructor(url: unknown, options?: unknown) {
      super(url, options)
      const name = String(url)
      this.#name = name
      this.addEventListener('message', (ev) => {
        const d = ev.data as {
          kind?: string
          label?: number
          ms?: number
          points?: { length: number }
          polys?: { length: number }
        }
        log.push({
          worker: name,
          t: performance.now(),
          kind: d.kind ?? '?',
          ...(d.label !== undefined ? { label: d.label } : {}),
          ...(d.ms !== undefined ? { ms: d.ms } : {}),
          ...(d.points ? { points: d.points.length / 3 } : {}),
          ...(d.polys ? { triangles: d.polys.length / 4 } : {}),
        })
      })
    }
    override postMessage(message: unknown, transfer?: unknown): void {
      log.push({ worker: this.#name, t: performance.now(), kind: 'request' })
      super.postMessage(message, transfer)
    }
  }
  g.Worker = Probed
}

export interface OpenTiming {
  /** Click → `openSource` answered (the viewer shows "Reading …"). */
  readonly openMs: number
  /** Click → the store update that carries the volume has run: the slice views are drawn. */
  readonly firstImageMs: number
  /** Click → the animation frame after that (the drawn canvases presented). */
  readonly nextFrameMs: number
  /** Click → the last slab of voxels is in (the same as `firstImageMs` for a one-slab volume). */
  readonly fullyLoadedMs: number
}

/** Clicks a file of the file list and times it until its first slices are drawn. */
export async function openTimed(name: string): Promise<OpenTiming> {
  const g = globalThis as unknown as PageGlobals
  const store = g.volsegBench.store
  const button = g.document.querySelector(`.file-list button[data-name="${name}"]`)
  if (!button) throw new Error(`no file-list entry ${name}`)
  // By id: a volume answered early is replaced by its whole self later, with the same id.
  const before = store.state.volume?.info.volumeId
  let tOpened = NaN
  let tDrawn = NaN
  let tNext = NaN
  let tLoaded = NaN
  let stop = (): void => undefined
  const loaded = new Promise<void>((resolve) => {
    stop = store.subscribe((s) => {
      if (Number.isNaN(tOpened) && s.loading?.startsWith('Reading')) tOpened = performance.now()
      if (!s.volume || s.volume.info.volumeId === before || s.volume.info.name !== name) return
      if (Number.isNaN(tDrawn)) {
        tDrawn = performance.now()
        g.requestAnimationFrame(() => (tNext = performance.now()))
      }
      if (!s.voxelsLoading) {
        tLoaded = performance.now()
        resolve()
      }
    })
  })
  const t0 = performance.now()
  button.click()
  await loaded
  stop()
  await new Promise((r) => g.requestAnimationFrame(r))
  return {
    openMs: tOpened - t0,
    firstImageMs: tDrawn - t0,
    nextFrameMs: tNext - t0,
    fullyLoadedMs: tLoaded - t0,
  }
}

export interface LabelsTiming {
  readonly uploadMs: number
  readonly values: readonly number[]
  /** Page clock when the labels went into the store. */
  readonly setAt: number
}

/** Uploads the mask held in `window.vbMask` (`uploadLabels`) and shows it, as a model result. */
export async function showLabels(): Promise<LabelsTiming> {
  const g = globalThis as unknown as PageGlobals
  const { store, controller } = g.volsegBench
  const mask = g.vbMask as { size: [number, number, number]; labels: Uint8Array }
  const volume = store.state.volume
  if (!volume) throw new Error('no volume open')
  const t0 = performance.now()
  const r = await controller.api.uploadLabels({
    volumeId: volume.info.volumeId,
    dataType: 'uint8',
    sizeIJK: mask.size,
    bytes: mask.labels,
  })
  if (!r.ok) throw new Error(`uploadLabels: ${r.error.message}`)
  const uploadMs = performance.now() - t0
  const setAt = performance.now()
  store.set({
    labels: { header: r.value, voxels: mask.labels },
    overlay: { ...store.state.overlay, visible: true },
  })
  const values = r.value.labels.filter((l) => l.value !== 0 && l.voxels > 0).map((l) => l.value)
  return { uploadMs, values, setAt }
}

export interface SurfacesTiming {
  readonly events: readonly WorkerEvent[]
  /** Labels in the store → the 3D view's "computing surfaces…" gone, one frame later. */
  readonly shownMs: number
}

/** Waits for the surface worker's `done` after `since` and for the 3D view to show the result. */
export async function surfacesDone({
  since,
  timeoutMs,
}: {
  since: number
  timeoutMs: number
}): Promise<SurfacesTiming> {
  const g = globalThis as unknown as PageGlobals
  const log = g.vbWorkerLog ?? []
  const mine = (): WorkerEvent[] =>
    log.filter((e) => e.t >= since && e.worker.includes('surface-worker'))
  const status = g.document.querySelector('[data-view="3d"] .view-status')
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const done = mine().some((e) => e.kind === 'done' || e.kind === 'error')
    if (done && (status?.textContent ?? '') === '') break
    if (performance.now() > deadline) break
    await new Promise((r) => setTimeout(r, 20))
  }
  await new Promise((r) => g.requestAnimationFrame(r))
  return { events: mine(), shownMs: performance.now() - since }
}

export interface ScrollTiming {
  /** Per step: the store update's work in its frame (all views drawn), ms. */
  readonly workMs: readonly number[]
  /** Intervals between the frames of consecutive steps, ms. */
  readonly intervalMs: readonly number[]
}

/**
 * Scrolls the axial view `steps` times by wheel events, one per frame, timing each frame's store
 * update: a frame callback registered before the event's update and one after it bracket it.
 */
export async function scrollTimed(steps: number): Promise<ScrollTiming> {
  const g = globalThis as unknown as PageGlobals
  const raf = (cb: () => void): void => void g.requestAnimationFrame(cb)
  const view = g.document.querySelector('[data-view="axial"]')
  if (!view) throw new Error('no axial view')
  const workMs: number[] = []
  const starts: number[] = []
  for (let n = 0; n < steps; n++) {
    await new Promise<void>((resolve) => {
      let tA = 0
      raf(() => {
        tA = performance.now()
        starts.push(tA)
      })
      view.dispatchEvent(
        new g.WheelEvent('wheel', { deltaY: 100, bubbles: true, cancelable: true }),
      )
      raf(() => {
        workMs.push(performance.now() - tA)
        resolve()
      })
    })
  }
  return { workMs, intervalMs: starts.slice(1).map((t, n) => t - starts[n]!) }
}

/**
 * Baseline for {@link scrollTimed}: the same frames, each doing nothing but `putImageData` of a
 * ready image onto each slice view's canvas (so the page composites the same canvases).
 */
export async function putImageDataTimed(steps: number): Promise<ScrollTiming> {
  const g = globalThis as unknown as PageGlobals
  const raf = (cb: () => void): void => void g.requestAnimationFrame(cb)
  const targets = Array.from(g.document.querySelectorAll('.slice-view canvas')).map((c) => {
    const ctx = c.getContext('2d')!
    const img = ctx.createImageData(c.width, c.height)
    img.data.fill(128)
    return { ctx, img }
  })
  const workMs: number[] = []
  const starts: number[] = []
  for (let n = 0; n < steps; n++) {
    await new Promise<void>((resolve) => {
      let tA = 0
      raf(() => {
        tA = performance.now()
        starts.push(tA)
      })
      raf(() => {
        for (const t of targets) t.ctx.putImageData(t.img, 0, 0)
      })
      raf(() => {
        workMs.push(performance.now() - tA)
        resolve()
      })
    })
  }
  return { workMs, intervalMs: starts.slice(1).map((t, n) => t - starts[n]!) }
}

/** Time of one more `readVoxels` of the open volume (the transfer alone, no drawing), ms. */
export async function readVoxelsTimed(): Promise<number> {
  const g = globalThis as unknown as PageGlobals
  const { store, controller } = g.volsegBench
  const volume = store.state.volume
  if (!volume) throw new Error('no volume open')
  const t0 = performance.now()
  const r = await controller.api.readVoxels({ volumeId: volume.info.volumeId })
  if (!r.ok) throw new Error(`readVoxels: ${r.error.message}`)
  return performance.now() - t0
}

/** Draw time of each slice view alone (forced re-render of the current state), ms per draw. */
export function drawEachView(reps: number): Record<string, number[]> {
  const g = globalThis as unknown as PageGlobals
  const { store, views } = g.volsegBench
  const out: Record<string, number[]> = {}
  for (const [name, v] of views) {
    const ts: number[] = []
    for (let n = 0; n < reps; n++) {
      const t0 = performance.now()
      v.render(store.state, true)
      ts.push(performance.now() - t0)
    }
    out[name] = ts
  }
  return out
}

/** Canvas sizes of the slice views (device pixels). */
export function canvasSizes(): string[] {
  const g = globalThis as unknown as PageGlobals
  return Array.from(g.document.querySelectorAll('.slice-view canvas')).map(
    (c) => `${c.width}×${c.height}`,
  )
}

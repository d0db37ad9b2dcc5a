/**
 * The viewer's state: one plain object, replaced (never mutated) by {@link Store.set}; listeners
 * run once per animation frame with every change coalesced. Voxel arrays are held by reference
 * and never copied (no `Array.from` of a volume, VolView #852).
 */
import type {
  ApiError,
  BackupInfo,
  HelloInfo,
  JobId,
  JobStage,
  LabelsHeader,
  LabelsId,
  ModelSummary,
  OpenedVolume,
  ProviderChoice,
  SaveReport,
  SeriesChoice,
  SourceListing,
  SourceRoot,
  SourceRef,
  UncertaintyHeader,
  VolumeId,
} from '../../../src/shared/api.js'
import type { LabelTable } from '../../../src/core/segmentation/label-table.js'
import type { ReviewState } from '../../../src/core/segmentation/review-state.js'
import type { Vec3 } from '../../../src/shared/geometry.js'
import type { VoxelArray } from '../../../src/shared/volume.js'
import type { Alignment, GridTransform, ViewName } from './view-geometry.js'
import type { Hotspot } from '../workers/hotspot-protocol.js'
import type { VoxelsLoading } from './voxel-stream.js'
import type { EditExtent } from './edit-extent.js'
import type { WorklistState } from './worklist.js'
import { looksLikeCT } from '../../../src/core/volume/check-input-fit.js'

export type { Hotspot } from '../workers/hotspot-protocol.js'

export interface LoadedVolume {
  readonly info: OpenedVolume
  readonly voxels: VoxelArray
  readonly grid: GridTransform
}

export interface LoadedLabels {
  readonly header: LabelsHeader
  readonly voxels: Uint8Array | Uint16Array
}

export interface LoadedUncertainty {
  readonly header: UncertaintyHeader
  readonly voxels: Float32Array
}

export interface ViewCamera {
  /** Millimetres per screen (CSS) pixel. */
  readonly mmPerPx: number
  /** The point shown at the view centre (projected onto the current slice). */
  readonly centreLPS: Vec3
}

export interface JobState {
  readonly jobId: JobId
  readonly modelId: string
  readonly stage: JobStage | 'starting' | 'queued'
  readonly done: number
  readonly total: number
  readonly etaSeconds?: number
  readonly startedAt: number
}

/** A message for the user: errors in words, never a blank view. */
export interface Notice {
  readonly level: 'info' | 'warning' | 'error'
  readonly text: string
}

export interface AppState {
  readonly connected: boolean
  readonly hello?: HelloInfo
  readonly listing?: SourceListing
  /** Which root `listing` shows: the images (`data`) or the saved masks (`out`). */
  readonly listingRoot: SourceRoot
  readonly seriesChoice?: { readonly source: SourceRef; readonly series: readonly SeriesChoice[] }
  readonly loading?: string
  readonly volume?: LoadedVolume
  /**
   * While `volume.voxels` streams in slabs of k slices: which slices have arrived (1 = here) and
   * how many of how many. Absent once every slice is in. A new object per slab (views redraw).
   */
  readonly voxelsLoading?: VoxelsLoading
  readonly crosshairLPS: Vec3
  readonly cameras: Readonly<Partial<Record<ViewName, ViewCamera>>>
  readonly alignment: Alignment
  readonly window: { readonly width: number; readonly level: number }
  readonly presetName: string
  readonly labels?: LoadedLabels
  /**
   * Bumped by every edit: of `labels.voxels` (edited in place, never copied), of the label table
   * or of a review status. Views redraw and backups are scheduled from it.
   */
  readonly editVersion: number
  /** Where the latest edits changed voxels, by version (see edit-extent.ts). */
  readonly recentEdits: readonly EditExtent[]
  /** `editVersion` when the labels were last saved or loaded: unsaved edits when they differ. */
  readonly savedVersion: number
  /** The labels' names, colours and display order (from the model card, or made by the user). */
  readonly labelTable?: LabelTable
  /** Per-label review status of `labels` (absent until labels are shown). */
  readonly review?: ReviewState
  readonly overlay: {
    readonly visible: boolean
    readonly opacity: number
    readonly outline: boolean
    readonly hidden: ReadonlySet<number>
  }
  readonly uncertainty?: LoadedUncertainty
  readonly showUncertainty: boolean
  readonly hotspots?: readonly Hotspot[]
  readonly models: readonly ModelSummary[]
  readonly modelId?: string
  readonly provider: ProviderChoice
  readonly tta: boolean
  readonly wantUncertainty: boolean
  readonly job?: JobState
  readonly lastRun?: LabelsHeader['run']
  readonly saved?: SaveReport
  /** Display path (`out/…` or `data/…`) of the mask file the labels were opened from. */
  readonly openedMask?: string
  /** The label map `saved` holds: saving it again is refused as a copy. */
  readonly savedLabelsId?: LabelsId
  /** The last save that failed (E_VERIFY, E_WRITE, ...): the labels stay unsaved. */
  readonly saveFailed?: ApiError
  /** Seconds between an unsaved edit and its backup (a setting, kept in `localStorage`). */
  readonly backupIntervalS: number
  /** The last backup of the edits on screen (`editVersion` it holds, when it was written). */
  readonly lastBackup?: { readonly version: number; readonly savedAt: string }
  /** A backup of the open volume's source found on opening it: restore or discard it. */
  readonly backupOffer?: { readonly volumeId: VolumeId; readonly info: BackupInfo }
  readonly notices: readonly Notice[]
  readonly lastError?: ApiError
  readonly show3d: { readonly surfaces: boolean; readonly volume: boolean }
  readonly help: boolean
  /** The view under the mouse, for keyboard slice stepping. */
  readonly activeView: ViewName
  readonly cursor?: { readonly view: ViewName; readonly lps: Vec3 }
  /** The cohort's review worklist (`volseg serve --cohort`), once read. */
  readonly worklist?: WorklistState
}

export const INITIAL_STATE: AppState = {
  connected: false,
  listingRoot: 'data',
  crosshairLPS: [0, 0, 0],
  cameras: {},
  alignment: 'patient',
  window: { width: 1, level: 0.5 },
  presetName: 'auto',
  editVersion: 0,
  recentEdits: [],
  savedVersion: 0,
  backupIntervalS: 5,
  overlay: { visible: true, opacity: 0.5, outline: false, hidden: new Set() },
  showUncertainty: false,
  models: [],
  provider: 'auto',
  tta: false,
  wantUncertainty: true,
  notices: [],
  show3d: { surfaces: true, volume: false },
  help: false,
  activeView: 'axial',
}

/** True when labels are shown with edits not saved since they were loaded (the dirty flag). */
export function hasUnsavedEdits(s: AppState): boolean {
  return s.labels !== undefined && s.editVersion !== s.savedVersion
}

export type Listener = (s: AppState, prev: AppState) => void

export class Store {
  #state: AppState
  #drawn: AppState
  #listeners = new Set<Listener>()
  #scheduled = false

  constructor(initial: AppState) {
    this.#state = initial
    this.#drawn = initial
  }

  get state(): AppState {
    return this.#state
  }

  set(patch: Partial<AppState> | ((s: AppState) => Partial<AppState>)): void {
    const p = typeof patch === 'function' ? patch(this.#state) : patch
    this.#state = { ...this.#state, ...p }
    if (this.#scheduled) return
    this.#scheduled = true
    requestAnimationFrame(() => this.#flush())
  }

  subscribe(l: Listener): () => void {
    this.#listeners.add(l)
    l(this.#state, INITIAL_STATE)
    return () => this.#listeners.delete(l)
  }

  #flush(): void {
    this.#scheduled = false
    const prev = this.#drawn
    this.#drawn = this.#state
    for (const l of this.#listeners) {
      try {
        l(this.#state, prev)
      } catch (e) {
        console.error('volseg: view update failed', e)
      }
    }
  }

  notify(level: Notice['level'], text: string): void {
    this.set((s) => ({ notices: [...s.notices.slice(-4), { level, text }] }))
  }
}

/** Window presets (width, level) in the image's units; CT in HU. `auto` uses the percentiles. */
export const WINDOW_PRESETS: readonly { name: string; width: number; level: number }[] = [
  { name: 'CT brain', width: 80, level: 40 },
  { name: 'CT bone', width: 2000, level: 500 },
  { name: 'CT lung', width: 1500, level: -600 },
  { name: 'CT abdomen', width: 400, level: 40 },
]

/**
 * The window a volume opens in: CT (its DICOM Modality, else the core's CT rule on the reader's
 * figures) in the abdomen preset, anything else in the auto window.
 */
export function initialWindow(v: OpenedVolume): {
  window: { width: number; level: number }
  presetName: string
} {
  const isCT = v.modality === 'CT' || looksLikeCT(v.signature)
  const ct = WINDOW_PRESETS.find((p) => p.name === 'CT abdomen')
  return isCT && ct
    ? { window: { width: ct.width, level: ct.level }, presetName: ct.name }
    : { window: autoWindow(v), presetName: 'auto' }
}

/** The default (MR) window: from the 0.5th to the 99.5th percentile. */
export function autoWindow(v: OpenedVolume): { width: number; level: number } {
  let lo = v.percentiles.p0_5
  let hi = v.percentiles.p99_5
  if (!(hi > lo)) [lo, hi] = v.intensityRange
  const width = Math.max(hi - lo, 1e-6)
  return { width, level: lo + width / 2 }
}

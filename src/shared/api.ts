/**
 * The one typed contract for every call between the UI (renderer, in a browser) and the core
 * (`volseg serve` over HTTP + WebSocket now, Electron IPC later); see architecture.md §3.
 *
 * Rules (VS Code `IChannel`):
 * - every method takes one plain-object argument and resolves to one {@link Result}; failures are
 *   values (`{ ok: false, error }`), never rejections;
 * - every argument is checked by {@link requestGuards} at the gate before any handler runs;
 * - large voxel data travels out of band as a `bytes: Uint8Array` field (a binary frame on the
 *   WebSocket, see `wire.ts`; a transferable on IPC), never inside JSON.
 *
 * Geometry is in the LPS patient frame in millimetres and volumes in millilitres; frames and units
 * are in the field names (`originLPS`, `spacingMm`, `volumeMl`), see `geometry.ts`. Voxel bytes are
 * little-endian with i fastest, then j, then k (`index = i + sizeI * (j + sizeJ * k)`).
 */
import { toAppError, type ErrorCode } from './errors.js'
import type { Vec3, VolumeGeometry } from './geometry.js'
import type { IntensitySignature } from './input-fit.js'
import {
  EXPORT_FORMAT_NAMES,
  MAX_SNAPSHOT_BYTES,
  MAX_SNAPSHOT_SIDE,
  SNAPSHOT_VIEW_NAMES,
  type ExportLabelsRequest,
  type ExportSummary,
  type SaveSnapshotRequest,
  type SnapshotReport,
} from './export.js'
import type { MaskVerification } from './mask-verification.js'
import type { LabelVolume, ProviderName, SegmentEvent } from './segment-report.js'
import { BYTES_PER_PIXEL, type PixelType } from './volume.js'
import { hasKeys, isBool, isPlain, isText, opt } from './guard-kit.js'
import { MAX_REVIEW_LABELS, isReviewRecord, type ReviewRecord } from './label-review.js'
import { CASE_ID_RE } from './cohort.js'
import { isSaveSnapshot } from './snapshot-guard.js'
import {
  MAX_FILE_NAME,
  MAX_UPLOAD_BYTES,
  MAX_VOXELS,
  isJobId,
  isLabelsId,
  isModelId,
  isSessionKey,
  isSourceRef,
  isVolumeId,
  type JobId,
  type LabelsId,
  type ModelId,
  type SessionKey,
  type SourceRef,
  type VolumeId,
} from './api-ids.js'
import type {
  CohortCaseRequest,
  CohortWorklist,
  OpenedCohortCase,
  SaveCohortCaseRequest,
  SavedCohortCase,
} from './cohort-api.js'

export { MAX_STRING } from './guard-kit.js'
export {
  MAX_REVIEW_LABELS,
  isReviewRecord,
  type LabelReview,
  type LabelReviewStatus,
  type ReviewRecord,
} from './label-review.js'
export type * from './cohort-api.js'
export * from './api-ids.js'

/** Version of this contract; `hello` reports it and a client refuses a different one. */
export const API_VERSION = 9

// ---- Results and errors ----

/** An error as it crosses the boundary: an {@link ErrorCode}, a sentence for humans, the file. */
export interface ApiError {
  readonly code: ErrorCode
  readonly message: string
  /** The file concerned, as a display path (relative to `--data` or `--out`), when known. */
  readonly file?: string
}

/** What every method resolves to: a value, or an {@link ApiError}. Never a rejected promise. */
export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ApiError }

/** A successful {@link Result}. */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value }
}

/** A failed {@link Result}; `file` is omitted from the object when not given. */
export function err(code: ErrorCode, message: string, file?: string): Result<never> {
  return { ok: false, error: file === undefined ? { code, message } : { code, message, file } }
}

/**
 * Anything thrown, as a failed {@link Result}: an `AppError` keeps its code, message and file
 * (its `details` and stack stay behind); anything else becomes `fallback` (default `E_INTERNAL`).
 */
export function errorResult(x: unknown, fallback: ErrorCode = 'E_INTERNAL'): Result<never> {
  const e = toAppError(x, fallback)
  return err(e.code, e.message, e.file)
}

// ---- Ids and references: api-ids.ts ----

// ---- Requests and values ----

/** The argument of methods that need none: an empty object. */
export type EmptyRequest = Record<string, never>

/** Whether an execution provider can run here, and why not. */
export interface ProviderStatus {
  readonly id: ProviderName
  readonly available: boolean
  readonly reason?: string
}

/** What `hello` answers: enough for the UI's first screen. */
export interface HelloInfo {
  /** {@link API_VERSION} of the core. */
  readonly apiVersion: number
  /** VolSeg version (semver). */
  readonly appVersion: string
  /** Display name of the `--data` root (its base name), never an absolute path. */
  readonly dataRootName: string
  /** Display name of the `--out` folder (its base name), never an absolute path. */
  readonly outDirName: string
  readonly providers: readonly ProviderStatus[]
  /** Model pre-selected in the UI, or `null` when none is installed. */
  readonly defaultModelId: ModelId | null
  /** Source to open on first start (a bundled sample), or `null`. */
  readonly sampleSource: SourceRef | null
  /**
   * Largest file `openUpload` takes over this connection (≤ {@link MAX_UPLOAD_BYTES}); the UI
   * refuses bigger dropped files before reading them. Absent: {@link MAX_UPLOAD_BYTES}.
   */
  readonly maxUploadBytes?: number
  /**
   * This connection's session: what it opens is closed `graceSeconds` after the connection
   * ends, unless a new connection presents `key` with `resumeSession` first (a page reload).
   */
  readonly session?: { readonly key: SessionKey; readonly graceSeconds: number }
  /**
   * Present when the core serves a cohort's review worklist (`volseg serve --cohort`): the
   * cohort folder's name and its number of cases (`cohortWorklist` lists them).
   */
  readonly cohort?: { readonly name: string; readonly cases: number }
}

/** Argument of `resumeSession`: the key an earlier connection's `hello` gave. */
export interface ResumeSessionRequest {
  readonly key: SessionKey
}

/** State of a job in {@link HeldItems}. */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled'

/** What one connection holds: its volumes (as opened) with their label maps, and its jobs. */
export interface HeldItems {
  /** In the order they were opened. */
  readonly volumes: readonly {
    readonly volume: OpenedVolume
    /** Label maps on its grid, oldest first. */
    readonly labels: readonly LabelsHeader[]
  }[]
  readonly jobs: readonly {
    readonly jobId: JobId
    readonly volumeId: VolumeId
    readonly state: JobState
  }[]
}

/** What a listed entry is; `dicom-folder` is a folder the core found DICOM files in. */
export type SourceKind = 'dir' | 'file' | 'dicom-folder' | 'other'

/** One entry of a folder listing. */
export interface SourceEntry {
  readonly ref: SourceRef
  /** Base name, for display. */
  readonly name: string
  readonly kind: SourceKind
  /** File size in bytes (files only). */
  readonly bytes?: number
}

/** Argument of `listSources`; no `under` lists the root. */
export interface ListSourcesRequest {
  readonly under?: SourceRef
  /** Which root to list: `data` (`--data`, the default) or `out` (`--out`, the saved masks). */
  readonly root?: SourceRoot
}

/** The two folders the UI may browse: `--data` (images, read) and `--out` (saved masks). */
export type SourceRoot = 'data' | 'out'

/**
 * Argument of `openLabels`: a mask file (under `--out` or `--data`) to show over an open volume
 * as its label map, for review. The core refuses a mask on another voxel grid.
 */
export interface OpenLabelsRequest {
  readonly volumeId: VolumeId
  readonly root: SourceRoot
  readonly source: SourceRef
}

/** What `openLabels` answers: the label map, and the review saved beside the mask, if any. */
export interface OpenedLabels {
  readonly labels: LabelsHeader
  /** Display path of the mask, relative to its root (POSIX separators). */
  readonly path: string
  /** The review read from `<stem>.review.json` beside the mask, when it is there and fits. */
  readonly review?: ReviewRecord
  /** Display path of that review file. */
  readonly reviewPath?: string
}

/** A folder listing, with breadcrumbs (the UI cannot split opaque refs itself). */
export interface SourceListing {
  /** From the root (no `ref`) down to the listed folder. */
  readonly crumbs: readonly { readonly ref?: SourceRef; readonly name: string }[]
  /** Sorted: folders first, then by name. */
  readonly entries: readonly SourceEntry[]
  /** True when the core stopped listing at its entry limit. */
  readonly truncated: boolean
}

/** Argument of `openSource`: a file or folder, and for a multi-series DICOM folder the series. */
export interface OpenSourceRequest {
  readonly source: SourceRef
  /** A `key` from a previous `series-choice` answer. */
  readonly seriesKey?: string
}

/**
 * Argument of `openUpload`: one image file the user dropped onto the window (the browser has only
 * its bytes, no path). Single-file formats only: NIfTI (`.nii`, `.nii.gz`), NRRD with its data
 * inside (`.nrrd`) and MetaImage with its data inside (`.mha`); the core refuses other names (a
 * DICOM series, a detached `.nhdr`/`.mhd` header) with a sentence saying what to do instead.
 * The guard checks `name` is a plain file name (1–{@link MAX_FILE_NAME} characters, no `/`, `\`,
 * control characters or leading `.`) and `bytes` holds 1–{@link MAX_UPLOAD_BYTES} bytes.
 */
export interface OpenUploadRequest {
  /** The dropped file's name, e.g. `scan.nii.gz`; its extension picks the format. */
  readonly name: string
  /** The whole file (out of band, like voxels). */
  readonly bytes: Uint8Array
}

/** One series of a DICOM folder, for the user to pick from. */
export interface SeriesChoice {
  /** Pass back as `seriesKey`. */
  readonly key: string
  readonly description: string
  /** DICOM Modality, e.g. `MR`, `CT`. */
  readonly modality: string
  /** Columns, rows and number of slices. */
  readonly sizeIJK: Vec3
  /** Number of files. */
  readonly count: number
  readonly warnings: readonly string[]
  /** DICOM SeriesNumber (0020,0011), when the files have one: shown instead of the key (a UID). */
  readonly seriesNumber?: number
}

/** A volume the core has read and holds under `volumeId`. */
export interface OpenedVolume {
  readonly kind: 'volume'
  readonly volumeId: VolumeId
  /** What was opened; for a dropped file (`openUpload`) `upload:<name>`, naming no file in --data. */
  readonly source: SourceRef
  /** Display name (file or series). */
  readonly name: string
  /** Grid in the LPS frame, millimetres; `directionLPS` row-major, columns = i, j, k axes. */
  readonly geometry: VolumeGeometry
  readonly dataType: PixelType
  /** Smallest and largest voxel value (real-world units, e.g. HU). */
  readonly intensityRange: readonly [number, number]
  /** 0.5th and 99.5th percentiles of the voxel values: the default MR window. */
  readonly percentiles: { readonly p0_5: number; readonly p99_5: number }
  /**
   * The intensity figures the core checks an input against a model card with
   * (`src/core/volume/check-input-fit.ts`), computed by the reader: the viewer picks a CT window
   * and warns about an unfit model from them without a pass over the voxels of its own.
   */
  readonly signature: IntensitySignature
  readonly warnings: readonly string[]
  /** DICOM Modality when known (DICOM input). */
  readonly modality?: string
  /** Patient, study and series of a DICOM input (absent for NIfTI, NRRD, MetaImage). */
  readonly study?: StudyInfo
  /** The cohort case this is the image of, when `openCohortCase` opened it. */
  readonly caseId?: string
  /**
   * Answered while the file is still being read (a big NIfTI): the voxels of the first `slicesK`
   * k slices are in and the figures are over those (the warnings are the header's); `readVoxels`
   * waits for slices not yet read, and `awaitWhole` answers the volume with figures over all.
   */
  readonly partial?: { readonly slicesK: number }
}

/**
 * Who and what a DICOM series is, for the viewer's header. Values are display-ready: the patient
 * name from its PN form (`DOE^JOHN` → `DOE, JOHN`), the study date ISO (`YYYY-MM-DD`). Never a UID.
 */
export interface StudyInfo {
  readonly patientName?: string
  readonly patientId?: string
  readonly studyDate?: string
  readonly studyDescription?: string
  readonly seriesNumber?: number
  readonly seriesDescription?: string
  readonly modality?: string
}

/**
 * What `openSource` answers. A folder with several DICOM series answers `series-choice` and the
 * UI must ask the user; the core never picks one silently (itk-wasm takes `seriesUIDs[0]`).
 */
export type OpenedSource =
  | {
      readonly kind: 'series-choice'
      readonly source: SourceRef
      readonly series: readonly SeriesChoice[]
    }
  | OpenedVolume

/** Argument naming one open volume. */
export interface VolumeRequest {
  readonly volumeId: VolumeId
}

/** A header plus its bytes, which travel out of band (binary frame / transferable). */
export type WithBytes<H> = H & { readonly bytes: Uint8Array }

/**
 * Argument of `readVoxels`: the whole volume, or a slab of whole k slices (`firstK` to
 * `firstK + countK - 1`), so that a viewer can draw the slices on screen before the rest arrives.
 */
export interface ReadVoxelsRequest {
  readonly volumeId: VolumeId
  readonly slab?: { readonly firstK: number; readonly countK: number }
}

/**
 * Header of a volume's voxels (or of one slab of k slices):
 * `byteLength = sizeI·sizeJ·countK·bytesPerPixel`; `sizeIJK` is the whole volume's.
 */
export interface VoxelHeader {
  readonly volumeId: VolumeId
  readonly dataType: PixelType
  readonly sizeIJK: Vec3
  readonly byteLength: number
  /** First k slice and number of slices sent (the whole volume: 0 and sizeK). */
  readonly firstK: number
  readonly countK: number
}

/** Voxels of an open volume: real-world values, little-endian, i fastest. */
export type VoxelBlock = WithBytes<VoxelHeader>

/** A label of a model, from its card. */
export interface ModelLabel {
  /** Value in the mask; 0 is the background. */
  readonly value: number
  readonly name: string
  /** Display colour, 0–255 each. */
  readonly color: readonly [number, number, number]
}

/** An installed model pack as the UI shows it (from its validated card). */
export interface ModelSummary {
  readonly id: ModelId
  readonly name: string
  readonly version: string
  /** DICOM Modality the model expects, e.g. `MR`. */
  readonly modality: string
  readonly description: string
  readonly intendedUse: string
  readonly licence: string
  readonly labels: readonly ModelLabel[]
  /** Tile size in voxels, in the card's tensor order `[D, H, W]` (not i, j, k). */
  readonly patchSize: readonly [number, number, number]
  /** Target voxel size in mm, tensor order `[D, H, W]`; `null` keeps the source spacing. */
  readonly spacingMm: readonly [number, number, number] | null
}

/** An execution provider, or `auto` (the core tries the best available and falls back). */
export type ProviderChoice = ProviderName | 'auto'

/** Argument of `startSegmentation`. */
export interface StartSegmentationRequest {
  readonly volumeId: VolumeId
  readonly modelId: ModelId
  /** Default `auto`. */
  readonly provider?: ProviderChoice
  /** Test-time mirroring; default false. */
  readonly tta?: boolean
  /** Also compute a per-voxel uncertainty map; default false. */
  readonly uncertainty?: boolean
}

/** Argument naming one job. */
export interface JobRequest {
  readonly jobId: JobId
}

/** Names a label map: the result of a finished job, or a label map by id. */
export type LabelsSelector = { readonly jobId: JobId } | { readonly labelsId: LabelsId }

/** Voxel count and volume of one label. */
export interface LabelStat extends LabelVolume {
  /** Display colour, 0–255 each. */
  readonly color: readonly [number, number, number]
}

/** How a model result was computed. */
export interface RunInfo {
  readonly jobId: JobId
  readonly modelId: ModelId
  /** Provider actually used (after `auto` and any fallback). */
  readonly provider: ProviderName
  /** Device description, e.g. the GPU name or `CPU`. */
  readonly device: string
  /** Stage timings in milliseconds (`read`, `inference`, ..., `total`). */
  readonly timingsMs: Readonly<Record<string, number>>
  readonly uncertainty: 'entropy' | 'tta-variance' | 'none'
}

/** Header of a label map, on the grid of `volumeId` (same `sizeIJK`, same LPS geometry). */
export interface LabelsHeader {
  readonly labelsId: LabelsId
  readonly volumeId: VolumeId
  readonly dataType: 'uint8' | 'uint16'
  readonly sizeIJK: Vec3
  readonly byteLength: number
  /** Per label present (background included): voxels and volume in mL. */
  readonly labels: readonly LabelStat[]
  /** Present for model results, absent for uploads. */
  readonly run?: RunInfo
  readonly warnings: readonly string[]
}

/** A label map with its voxels (little-endian, i fastest). */
export type LabelsBlock = WithBytes<LabelsHeader>

/** Header of an uncertainty map: float32 per voxel on the grid of the labels. */
export interface UncertaintyHeader {
  readonly labelsId: LabelsId
  readonly dataType: 'float32'
  readonly sizeIJK: Vec3
  readonly byteLength: number
  /** Normalised entropy of the softmax, or variance over the TTA mirrors. */
  readonly kind: 'entropy' | 'tta-variance'
  /** Smallest and largest value, for the colour scale. */
  readonly range: readonly [number, number]
}

/** An uncertainty map with its voxels (little-endian float32, i fastest). */
export type UncertaintyBlock = WithBytes<UncertaintyHeader>

/**
 * Argument of `uploadLabels`: a label map edited in the UI, on the grid of `volumeId`.
 * `bytes.byteLength` must equal `sizeI·sizeJ·sizeK·(1 or 2)`.
 */
export interface UploadLabelsRequest {
  readonly volumeId: VolumeId
  readonly dataType: 'uint8' | 'uint16'
  readonly sizeIJK: Vec3
  readonly bytes: Uint8Array
  /**
   * The core's label map these labels were edited from (a model result, an opened mask), so an
   * export of them can record the model's output against them (the AI-vs-final delta).
   */
  readonly derivedFrom?: LabelsId
}

/** Argument of `saveMask`. */
export interface SaveMaskRequest {
  readonly volumeId: VolumeId
  readonly labelsId: LabelsId
  /** File name under `--out`, e.g. `brain_seg.nii.gz`: no `/`, `\` or NUL, ≤ 255 characters. */
  readonly name: string
  /** The review to save beside the mask (`<name>.review.json`), when the viewer has one. */
  readonly review?: ReviewRecord
}

/**
 * What a save did: written atomically, re-read and compared by the core (architecture.md §7). A re-read
 * that does not match is not a report but an `E_VERIFY` error, and nothing is left on disk.
 */
export interface SaveReport {
  /** Display path relative to `--out`, POSIX separators. */
  readonly path: string
  /** Size of the written file. */
  readonly bytes: number
  /** What the re-read compared: geometry error, voxels compared and equal, checksum. */
  readonly verification: MaskVerification
  /** Display path of the review file saved beside the mask (`<stem>.review.json`), if any. */
  readonly reviewPath?: string
}

/**
 * Argument of `backupLabels`: the label map on screen (same shape and binary framing as
 * {@link UploadLabelsRequest}) and its review, kept in the recovery folder until saved or
 * discarded. Never written to `--data` or `--out`.
 */
export interface BackupLabelsRequest extends Omit<UploadLabelsRequest, 'derivedFrom'> {
  /** The review of the labels (names, colours, decisions), restored with them. */
  readonly review?: ReviewRecord
}

export type { ExportSummary } from './export.js'
export type {
  ExportFormatName,
  ExportLabelsRequest,
  SaveSnapshotRequest,
  SnapshotReport,
  SnapshotView,
  SnapshotViewName,
} from './export.js'
export { EXPORT_FORMAT_NAMES, MAX_SNAPSHOT_BYTES, MAX_SNAPSHOT_SIDE, SNAPSHOT_VIEW_NAMES }

/** A backup of unsaved edits kept for an open volume's source file (`backupLabels`). */
export interface BackupInfo {
  /** When the backup was written, ISO 8601 UTC. */
  readonly savedAt: string
  /** Non-zero label values in the backed-up map. */
  readonly labelCount: number
  /** Voxels of those labels together. */
  readonly labelVoxels: number
  /**
   * True when the VolSeg run that wrote it ended without closing cleanly (killed, crashed,
   * power loss); false when it is still running or closed cleanly (the page was closed).
   */
  readonly crashed: boolean
}

/**
 * Every call from the UI to the core. One argument, one {@link Result}; failures are values.
 */
export interface VolsegApi {
  /** Versions, display names of the roots, providers, default model and a sample to open. */
  hello(req: EmptyRequest): Promise<Result<HelloInfo>>
  /** Lists one folder of the data root (the root when `under` is absent). */
  listSources(req: ListSourcesRequest): Promise<Result<SourceListing>>
  /** Reads an image, or asks which series of a multi-series DICOM folder to read. */
  openSource(req: OpenSourceRequest): Promise<Result<OpenedSource>>
  /**
   * Reads one dropped image file (bytes out of band) as `openSource` reads a file under --data;
   * the core keeps its copy in a private temporary folder (never under --data) until the volume
   * is closed. Masks of it are saved under --out like any other.
   */
  openUpload(req: OpenUploadRequest): Promise<Result<OpenedVolume>>
  /** The voxels of an open volume, or of a slab of its k slices (bytes out of band). */
  readVoxels(req: ReadVoxelsRequest): Promise<Result<VoxelBlock>>
  /**
   * Answers once every voxel of the volume is read (at once unless `partial`), with the figures
   * and warnings over all of them; fails with the reader's error when the rest could not be read.
   */
  awaitWhole(req: VolumeRequest): Promise<Result<OpenedVolume>>
  /** Forgets an open volume and the label maps on its grid; cancels its jobs. */
  closeVolume(req: VolumeRequest): Promise<Result<null>>
  /** What this connection holds (volumes, label maps, jobs), so a page can show or close it. */
  listHeld(req: EmptyRequest): Promise<Result<HeldItems>>
  /**
   * Takes over what an earlier connection of this page held (a reload), while that connection's
   * grace period runs; answers what this connection now holds.
   */
  resumeSession(req: ResumeSessionRequest): Promise<Result<HeldItems>>
  /** Installed model packs whose cards validated. */
  listModels(req: EmptyRequest): Promise<Result<readonly ModelSummary[]>>
  /** Starts segmenting an open volume; progress arrives as `job:*` {@link ApiEvent}s. */
  startSegmentation(req: StartSegmentationRequest): Promise<Result<{ readonly jobId: JobId }>>
  /** Asks a job to stop; it then ends with `job:cancelled` (or `job:done` if it won the race). */
  cancelJob(req: JobRequest): Promise<Result<null>>
  /** A label map with its statistics (bytes out of band). */
  readLabels(req: LabelsSelector): Promise<Result<LabelsBlock>>
  /** The uncertainty map of a result computed with `uncertainty: true` (bytes out of band). */
  readUncertainty(req: LabelsSelector): Promise<Result<UncertaintyBlock>>
  /** Hands an edited label map to the core (bytes out of band) so it can be saved. */
  uploadLabels(req: UploadLabelsRequest): Promise<Result<LabelsHeader>>
  /** Writes a label map as NIfTI under `--out`: atomic, verified, never over a source. */
  saveMask(req: SaveMaskRequest): Promise<Result<SaveReport>>
  /**
   * Reads a mask file as the label map of an open volume (same voxel grid), with the review
   * saved beside it; read it afterwards with `readLabels`.
   */
  openLabels(req: OpenLabelsRequest): Promise<Result<OpenedLabels>>
  /**
   * Keeps the labels on screen (bytes out of band) as the backup of the volume's source file, in
   * the recovery folder (atomic; replaces that source's previous backup); dropped by a save.
   */
  backupLabels(req: BackupLabelsRequest): Promise<Result<BackupInfo>>
  /**
   * The backup kept for this volume's source file (same path, size and modification time), or
   * `null` when there is none.
   */
  findBackup(req: VolumeRequest): Promise<Result<BackupInfo | null>>
  /** Reads that backup as a label map of the volume, with its review (like `openLabels`). */
  restoreBackup(req: VolumeRequest): Promise<Result<OpenedLabels>>
  /** Deletes the backup kept for this volume's source file (none: nothing to do). */
  discardBackup(req: VolumeRequest): Promise<Result<null>>
  /**
   * Exports a held label map (NIfTI + sidecar, DICOM SEG for DICOM sources, STL/OBJ, statistics)
   * into `--out`, in a job worker; never over a file (a taken name is refused).
   */
  exportLabels(req: ExportLabelsRequest): Promise<Result<ExportSummary>>
  /**
   * The cohort's cases in the report's order (not reviewed first, then worst QC first) with
   * their QC flags and review states (`volseg serve --cohort`; refused otherwise).
   */
  cohortWorklist(req: EmptyRequest): Promise<Result<CohortWorklist>>
  /**
   * Opens a case by id: its image (as `openSource`), and its mask as the label map with the
   * review saved beside it (the newest reviewed mask, else the model's).
   */
  openCohortCase(req: CohortCaseRequest): Promise<Result<OpenedCohortCase>>
  /**
   * Saves a case's labels and review as a new `masks/<id>_seg-N.nii.gz` with
   * `<id>_seg-N.review.json` beside it in the cohort folder (atomic, verified; never over the
   * model's mask or any file), then writes the cohort report again with the case's state.
   */
  saveCohortCase(req: SaveCohortCaseRequest): Promise<Result<SavedCohortCase>>
  /**
   * Saves a PNG of the views (bytes out of band) and its provenance sidecar into `--out`, in a
   * job worker: checked as a whole PNG, written atomically, re-read and decoded; never over a file.
   */
  saveSnapshot(req: SaveSnapshotRequest): Promise<Result<SnapshotReport>>
}

/** Name of a {@link VolsegApi} method. */
export type ApiMethod = keyof VolsegApi
/** The argument type of method `M`. */
export type ApiRequest<M extends ApiMethod> = Parameters<VolsegApi[M]>[0]
/** The success value type of method `M`. */
export type ApiValue<M extends ApiMethod> =
  Awaited<ReturnType<VolsegApi[M]>> extends Result<infer T> ? T : never

/** Every method name, once: preload, gates and clients derive from it (missing/extra fail tsc). */
export const API_METHODS = {
  hello: 1,
  listSources: 1,
  openSource: 1,
  openUpload: 1,
  readVoxels: 1,
  awaitWhole: 1,
  closeVolume: 1,
  listHeld: 1,
  resumeSession: 1,
  listModels: 1,
  startSegmentation: 1,
  cancelJob: 1,
  readLabels: 1,
  readUncertainty: 1,
  uploadLabels: 1,
  saveMask: 1,
  openLabels: 1,
  backupLabels: 1,
  findBackup: 1,
  restoreBackup: 1,
  discardBackup: 1,
  exportLabels: 1,
  cohortWorklist: 1,
  openCohortCase: 1,
  saveCohortCase: 1,
  saveSnapshot: 1,
} as const satisfies Record<ApiMethod, 1>

/** True when `x` names a {@link VolsegApi} method (own key of {@link API_METHODS}). */
export function isApiMethod(x: unknown): x is ApiMethod {
  return typeof x === 'string' && Object.hasOwn(API_METHODS, x)
}

// ---- Events (core → UI) ----

/** Stage of a running job, as the segment worker reports it. */
export type JobStage = Extract<SegmentEvent, { kind: 'progress' }>['stage']

/** Pushed by the core while a job runs; every job ends with exactly one of done/failed/cancelled. */
export type ApiEvent =
  | {
      readonly type: 'job:plan'
      readonly jobId: JobId
      /** Number of tiles and of network runs (batches of tiles, × mirrors with TTA). */
      readonly tiles: number
      readonly networkRuns: number
      /** Model input shape `[N, C, D, H, W]` of one run. */
      readonly patch: readonly number[]
      /** Memory the engine planned for, in bytes. */
      readonly plannedMemoryBytes: number
    }
  | {
      readonly type: 'job:progress'
      readonly jobId: JobId
      readonly stage: JobStage
      readonly done: number
      readonly total: number
      /** Estimated seconds left for the whole job, once known. */
      readonly etaSeconds?: number
    }
  | {
      /** The job waits for a free worker (the service's limits); `ahead` jobs wait before it. */
      readonly type: 'job:queued'
      readonly jobId: JobId
      readonly ahead: number
    }
  | { readonly type: 'job:done'; readonly jobId: JobId; readonly labels: LabelsHeader }
  | { readonly type: 'job:failed'; readonly jobId: JobId; readonly error: ApiError }
  | { readonly type: 'job:cancelled'; readonly jobId: JobId }

/** Name of an {@link ApiEvent}. */
export type ApiEventType = ApiEvent['type']

/** Every event name, once (missing/extra fail tsc). */
export const API_EVENTS = {
  'job:plan': 1,
  'job:progress': 1,
  'job:queued': 1,
  'job:done': 1,
  'job:failed': 1,
  'job:cancelled': 1,
} as const satisfies Record<ApiEventType, 1>

// ---- Request guards: hand-written, exact (extra keys refused), no libraries (guard-kit.ts). ----

type ProviderSet = Readonly<Record<ProviderChoice, 1>>
const PROVIDER_CHOICES: ProviderSet = { auto: 1, cpu: 1, webgpu: 1, cuda: 1, dml: 1, coreml: 1 }

function isProviderChoice(x: unknown): x is ProviderChoice {
  return typeof x === 'string' && Object.hasOwn(PROVIDER_CHOICES, x)
}

/** Three positive integers whose product is at most {@link MAX_VOXELS}. */
function isSize(x: unknown): x is Vec3 {
  if (!Array.isArray(x) || x.length !== 3) return false
  if (!x.every((n) => Number.isSafeInteger(n) && (n as number) >= 1)) return false
  return (x as number[]).reduce((a, b) => a * b, 1) <= MAX_VOXELS
}

function isEmpty(x: unknown): x is EmptyRequest {
  return isPlain(x) && hasKeys(x, [])
}

function isSourceRoot(x: unknown): x is SourceRoot {
  return x === 'data' || x === 'out'
}

function isListSources(x: unknown): x is ListSourcesRequest {
  return (
    isPlain(x) &&
    hasKeys(x, [], ['under', 'root']) &&
    opt(x.under, isSourceRef) &&
    opt(x.root, isSourceRoot)
  )
}

function isOpenLabels(x: unknown): x is OpenLabelsRequest {
  return (
    isPlain(x) &&
    hasKeys(x, ['volumeId', 'root', 'source']) &&
    isVolumeId(x.volumeId) &&
    isSourceRoot(x.root) &&
    isSourceRef(x.source)
  )
}

function isOpenSource(x: unknown): x is OpenSourceRequest {
  return (
    isPlain(x) &&
    hasKeys(x, ['source'], ['seriesKey']) &&
    isSourceRef(x.source) &&
    opt(x.seriesKey, (k) => isText(k) && (k as string).length > 0)
  )
}

function isOpenUpload(x: unknown): x is OpenUploadRequest {
  return (
    isPlain(x) &&
    hasKeys(x, ['name', 'bytes']) &&
    isText(x.name, MAX_FILE_NAME) &&
    x.name.length > 0 &&
    !x.name.startsWith('.') &&
    // eslint-disable-next-line no-control-regex -- control characters are what it refuses
    !/[/\\\u0000-\u001f\u007f]/.test(x.name) &&
    x.bytes instanceof Uint8Array &&
    x.bytes.byteLength > 0 &&
    x.bytes.byteLength <= MAX_UPLOAD_BYTES
  )
}

function isVolumeRequest(x: unknown): x is VolumeRequest {
  return isPlain(x) && hasKeys(x, ['volumeId']) && isVolumeId(x.volumeId)
}

const isCount = (x: unknown, min: number): boolean =>
  Number.isSafeInteger(x) && (x as number) >= min && (x as number) <= 0x7fffffff

function isReadVoxels(x: unknown): x is ReadVoxelsRequest {
  if (!isPlain(x) || !hasKeys(x, ['volumeId'], ['slab']) || !isVolumeId(x.volumeId)) return false
  if (x.slab === undefined) return true
  const slab = x.slab
  return (
    isPlain(slab) &&
    hasKeys(slab, ['firstK', 'countK']) &&
    isCount(slab.firstK, 0) &&
    isCount(slab.countK, 1)
  )
}

function isStart(x: unknown): x is StartSegmentationRequest {
  return (
    isPlain(x) &&
    hasKeys(x, ['volumeId', 'modelId'], ['provider', 'tta', 'uncertainty']) &&
    isVolumeId(x.volumeId) &&
    isModelId(x.modelId) &&
    opt(x.provider, isProviderChoice) &&
    opt(x.tta, isBool) &&
    opt(x.uncertainty, isBool)
  )
}

function isResume(x: unknown): x is ResumeSessionRequest {
  return isPlain(x) && hasKeys(x, ['key']) && isSessionKey(x.key)
}

function isJobRequest(x: unknown): x is JobRequest {
  return isPlain(x) && hasKeys(x, ['jobId']) && isJobId(x.jobId)
}

function isLabelsSelector(x: unknown): x is LabelsSelector {
  if (!isPlain(x)) return false
  if (hasKeys(x, ['jobId'])) return isJobId(x.jobId)
  return hasKeys(x, ['labelsId']) && isLabelsId(x.labelsId)
}

function isUpload(x: unknown): x is UploadLabelsRequest {
  if (!isPlain(x) || !hasKeys(x, ['volumeId', 'dataType', 'sizeIJK', 'bytes'], ['derivedFrom'])) {
    return false
  }
  const { volumeId, dataType, sizeIJK, bytes } = x
  if (!isVolumeId(volumeId) || !opt(x.derivedFrom, isLabelsId)) return false
  if (dataType !== 'uint8' && dataType !== 'uint16') return false
  if (!isSize(sizeIJK) || !(bytes instanceof Uint8Array)) return false
  return bytes.byteLength === sizeIJK[0] * sizeIJK[1] * sizeIJK[2] * BYTES_PER_PIXEL[dataType]
}

function isBackupLabels(x: unknown): x is BackupLabelsRequest {
  if (!isPlain(x) || !hasKeys(x, ['volumeId', 'dataType', 'sizeIJK', 'bytes'], ['review'])) {
    return false
  }
  const { review, ...upload } = x
  return isUpload(upload) && (review === undefined || isReviewRecord(review))
}

function isSaveMask(x: unknown): x is SaveMaskRequest {
  return (
    isPlain(x) &&
    hasKeys(x, ['volumeId', 'labelsId', 'name'], ['review']) &&
    isVolumeId(x.volumeId) &&
    isLabelsId(x.labelsId) &&
    isText(x.name, MAX_FILE_NAME) &&
    x.name.length > 0 &&
    !/[/\\]/.test(x.name) &&
    (x.review === undefined || isReviewRecord(x.review))
  )
}

function isExportLabels(x: unknown): x is ExportLabelsRequest {
  return (
    isPlain(x) &&
    hasKeys(x, ['volumeId', 'labelsId', 'name', 'formats'], ['labels', 'ras', 'review']) &&
    isVolumeId(x.volumeId) &&
    isLabelsId(x.labelsId) &&
    isText(x.name, MAX_FILE_NAME) &&
    x.name.length > 0 &&
    !/[/\\]/.test(x.name) &&
    !x.name.startsWith('.') &&
    Array.isArray(x.formats) &&
    x.formats.length > 0 &&
    x.formats.length <= EXPORT_FORMAT_NAMES.length &&
    x.formats.every((f) => (EXPORT_FORMAT_NAMES as readonly unknown[]).includes(f)) &&
    (x.labels === undefined ||
      (Array.isArray(x.labels) &&
        x.labels.length <= MAX_REVIEW_LABELS &&
        x.labels.every(
          (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535,
        ))) &&
    (x.ras === undefined || typeof x.ras === 'boolean') &&
    (x.review === undefined || isReviewRecord(x.review))
  )
}

const isCaseId = (x: unknown): x is string => typeof x === 'string' && CASE_ID_RE.test(x)

function isCohortCase(x: unknown): x is CohortCaseRequest {
  return isPlain(x) && hasKeys(x, ['caseId']) && isCaseId(x.caseId)
}

function isSaveCohortCase(x: unknown): x is SaveCohortCaseRequest {
  return (
    isPlain(x) &&
    hasKeys(x, ['caseId', 'volumeId', 'labelsId', 'review']) &&
    isCaseId(x.caseId) &&
    isVolumeId(x.volumeId) &&
    isLabelsId(x.labelsId) &&
    isReviewRecord(x.review)
  )
}

/**
 * One validator per method: true only for an argument of exactly the declared shape (no extra
 * keys, right types, strings ≤ {@link MAX_STRING} without NUL, ids matching {@link ID_PATTERNS}).
 * Syntax only: whether a ref stays inside its root, or an id exists, is the core's check.
 */
export const requestGuards: {
  readonly [M in ApiMethod]: (x: unknown) => x is ApiRequest<M>
} = {
  hello: isEmpty,
  listSources: isListSources,
  openSource: isOpenSource,
  openUpload: isOpenUpload,
  readVoxels: isReadVoxels,
  awaitWhole: isVolumeRequest,
  closeVolume: isVolumeRequest,
  listHeld: isEmpty,
  resumeSession: isResume,
  listModels: isEmpty,
  startSegmentation: isStart,
  cancelJob: isJobRequest,
  readLabels: isLabelsSelector,
  readUncertainty: isLabelsSelector,
  uploadLabels: isUpload,
  saveMask: isSaveMask,
  openLabels: isOpenLabels,
  backupLabels: isBackupLabels,
  findBackup: isVolumeRequest,
  restoreBackup: isVolumeRequest,
  discardBackup: isVolumeRequest,
  exportLabels: isExportLabels,
  cohortWorklist: isEmpty,
  openCohortCase: isCohortCase,
  saveCohortCase: isSaveCohortCase,
  saveSnapshot: isSaveSnapshot,
}

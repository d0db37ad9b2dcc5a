/**
 * The job-worker requests a service (`createService`, in `volseg serve` or Electron main) sends,
 * and what they answer. Shared because the service may not import `src/jobs` (architecture.md §2) and the
 * worker implements them. Plain structured-clone data: voxels travel as `Uint8Array` (a byte view
 * of the typed array, little-endian, i fastest), copied as binary over the worker's
 * `advanced`-serialization IPC channel, never as JSON arrays. Paths are absolute: the service
 * resolves and confines every path before a request leaves it.
 */
import type { ReviewRecord, SeriesChoice, StudyInfo } from './api.js'
import type { CohortReport } from './cohort-report.js'
import type { ErrorCode } from './errors.js'
import type { GantryTilt } from './gantry-tilt.js'
import type { VolumeGeometry } from './geometry.js'
import type { InputCheck, IntensitySignature } from './input-fit.js'
import type { MaskVerification } from './mask-verification.js'
import type { ModelCard } from './model-card.js'
import type { ModelReport, ProviderName } from './segment-report.js'
import type { PixelType } from './volume.js'
import type { ReviewFile } from './review-file.js'
import type { ExportJobSpec, ExportReport, SnapshotJobSpec, SnapshotJobValue } from './export.js'

/** What a worker answers: a value, or an error with code, sentence and file. */
export type WorkerReply<T = unknown> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false
      readonly error: { code: ErrorCode; message: string; file?: string; details?: unknown }
    }

/** One installed pack as the CLI and UI show it. */
export interface ModelListEntry {
  readonly id: string
  /** Absolute pack folder. */
  readonly dir: string
  readonly onnxBytes: number
  readonly card: ModelCard
}

/** Installed packs, packs that failed validation, folders searched, providers. */
export interface ModelList {
  readonly packs: readonly ModelListEntry[]
  /** Folders that look like packs but failed validation, with the reason. */
  readonly problems: readonly { dir: string; message: string }[]
  readonly searched: readonly string[]
  readonly providers: readonly { id: string; available: boolean; reason?: string }[]
}

/** A volume as it crosses the worker boundary: geometry, pixel type and the voxel bytes. */
export interface VolumePayload {
  readonly geometry: VolumeGeometry
  readonly dataType: PixelType
  /** `sizeI·sizeJ·sizeK·bytesPerPixel` bytes, little-endian, i fastest. */
  readonly voxels: Uint8Array
}

/** `open`: read one image (file, DICOM folder) and hand back its voxels and geometry. */
export interface OpenJobRequest {
  readonly kind: 'open'
  /** Absolute paths (one file or folder, or several DICOM files). */
  readonly input: readonly string[]
  readonly seriesKey?: string
  /** Cap on decoded voxel bytes. */
  readonly maxVoxelBytes?: number
  /**
   * Real path of the folder detached data files (NRRD `data file`, MetaImage `ElementDataFile`)
   * must stay under: the service's `--data` root. A header pointing elsewhere is refused with the
   * same words whether that file exists or not.
   */
  readonly confineTo?: string
  /**
   * Read a mask as a label map: the voxels come back as `uint8` (values ≤ 255) or `uint16`, and a
   * file whose values are not whole numbers from 0 to 65535 is refused (`E_UNSUPPORTED`).
   */
  readonly asLabels?: boolean
  /**
   * Answer early (`RunOptions.onOpenEarly`) when the reader decodes slice after slice (NIfTI) and
   * the voxels are at least {@link EARLY_OPEN_MIN_BYTES}: once an eighth of the k slices are in,
   * with figures over those; the voxels keep arriving (`onOpenBytes`) until the reply.
   */
  readonly early?: boolean
}

/**
 * Volumes smaller than this (32 slices of a 512×512 int16 CT) are answered whole: the viewer
 * reads them in one or two slabs anyway.
 */
export const EARLY_OPEN_MIN_BYTES = 16 << 20

/**
 * An early `open` answer (see `OpenJobRequest.early`): its voxels are the whole grid's bytes,
 * of which the first `readBytes` are in; the figures cover `partial.slicesK` slices.
 */
export interface OpenEarly {
  readonly value: Extract<OpenJobValue, { kind: 'volume' }>
  readonly readBytes: number
}

/** What `open` answers: the volume, or the series to choose from (never a silent pick). */
export type OpenJobValue =
  | {
      readonly kind: 'volume'
      readonly format: 'nifti' | 'nrrd' | 'meta' | 'dicom'
      /** Files read (absolute), in k order for DICOM. */
      readonly files: readonly string[]
      readonly volume: VolumePayload
      readonly intensityRange: readonly [number, number]
      readonly percentiles: { readonly p0_5: number; readonly p99_5: number }
      /** The input-fit figures of the voxels (`OpenedVolume.signature`). */
      readonly signature: IntensitySignature
      readonly warnings: readonly string[]
      /** Chosen DICOM series description, when DICOM. */
      readonly seriesDescription?: string
      readonly modality?: string
      /** Patient, study and series of a DICOM input, display-ready. */
      readonly study?: StudyInfo
      /** NIfTI xform codes of the source, to copy into masks. */
      readonly xformCodes?: { readonly qform_code: number; readonly sform_code: number }
      /** DICOM gantry tilt that was resampled away (the source's sheared geometry). */
      readonly gantryTilt?: GantryTilt
      /**
       * An early answer: the figures (range, percentiles, signature) are over the first
       * `slicesK` k slices, and the warnings those of the header; the reply has them all.
       */
      readonly partial?: { readonly slicesK: number }
    }
  | { readonly kind: 'series-choice'; readonly series: readonly SeriesChoice[] }

/** `segment-volume`: segment an already-opened volume; events stream as `SegmentEvent`s. */
export interface SegmentVolumeJobRequest {
  readonly kind: 'segment-volume'
  readonly volume: VolumePayload
  /** Absolute pack folder (never an id: a folder of that name in the cwd would win). */
  readonly modelDir: string
  readonly ep: ProviderName | 'auto'
  readonly tta: boolean
  readonly uncertainty: boolean
  /** Memory the engine may plan for, bytes (default 60 % of RAM). */
  readonly maxBytes?: number
  /** DICOM Modality of the source, when DICOM: checked against the card's. */
  readonly modality?: string
}

/** What `segment-volume` answers: labels (and uncertainty) on the source grid. */
export interface SegmentVolumeJobValue {
  readonly labelsType: 'uint8' | 'uint16'
  /** Label voxels, little-endian, i fastest. */
  readonly labels: Uint8Array
  /** Voxel count per card label (same order as `card.labels`). */
  readonly labelVoxels: readonly number[]
  readonly uncertaintyKind: 'entropy' | 'tta-variance' | 'none'
  /** float32 bytes and value range, when asked for. */
  readonly uncertainty?: { readonly bytes: Uint8Array; readonly range: readonly [number, number] }
  readonly model: ModelReport
  readonly timingsMs: Readonly<Record<string, number>>
  /** The input checked against the card (never refused here: the viewer shows the warning). */
  readonly inputCheck: InputCheck
  /** For the user, with the labels: unfit input, fallbacks, empty mask (see run-warnings.ts). */
  readonly warnings: readonly string[]
}

/**
 * `save-mask`: write labels as `.nii.gz` atomically, re-read and verify against `geometry`. Never
 * replaces an existing file: when `path` is taken at the moment of publishing, the next free
 * `<stem>-<n>.nii.gz` after `nextFree.from` in the same folder is used (without `nextFree`, it
 * fails); the answer's `path` is the one written.
 */
export interface SaveMaskJobRequest {
  readonly kind: 'save-mask'
  /** Absolute target path, already confined by the service. */
  readonly path: string
  /** The stem and number `path` was made of (`numberedMaskName(stem, from)`). */
  readonly nextFree?: { readonly stem: string; readonly from: number }
  readonly geometry: VolumeGeometry
  readonly dataType: 'uint8' | 'uint16'
  readonly labels: Uint8Array
  /** Input files of the source: never overwritten. */
  readonly sourceFiles: readonly string[]
  readonly descrip: string
  readonly xformCodes?: { readonly qform_code: number; readonly sform_code: number }
  /**
   * The review file to write beside the mask once it is published, all but its `mask` field
   * (the final name is known only then): `<final stem>.review.json`, never over a file.
   */
  readonly review?: Omit<ReviewFile, 'mask'>
}

/** What `save-mask` answers. */
export interface SaveMaskJobValue {
  /** Absolute path written (`path`, or the next free name when it was taken). */
  readonly path: string
  readonly bytes: number
  readonly labelVoxels: number
  /** What the re-read of the written file compared (a mismatch is an E_VERIFY error instead). */
  readonly verification: MaskVerification
  /** Absolute path of the review file written beside the mask, when one was asked for. */
  readonly reviewPath?: string
}

/**
 * What a backup's sidecar (`<key>.json` in the recovery folder) holds besides the mask's file
 * name: written last, so it names a mask that is complete.
 */
export interface BackupMeta {
  readonly format: 'volseg-backup'
  readonly version: 1
  /** The source as the UI named it (a `--data` ref) and its display name. */
  readonly source: string
  readonly sourceName: string
  /** Grid of the source and the mask (LPS mm). */
  readonly geometry: VolumeGeometry
  /** The run of VolSeg that wrote it (its unclean-exit marker's id). */
  readonly runId: string
  /** When the backup was made, ISO 8601 UTC. */
  readonly savedAt: string
  readonly labelCount: number
  readonly labelVoxels: number
  readonly review?: ReviewRecord
}

/** What the sidecar holds: {@link BackupMeta} plus the mask file next to it. */
export interface BackupFile extends BackupMeta {
  /** File name (no folder) of the backed-up mask, `<key>-<version>.nii.gz`. */
  readonly mask: string
}

/**
 * `write-backup`: writes labels as `<dir>/<key>-<version>.nii.gz` (atomic, verified), then the
 * sidecar `<dir>/<key>.json` naming it (atomic, replacing the previous one), then removes the
 * older `<key>-*.nii.gz` of that key. A crash at any point leaves the previous backup usable.
 */
export interface BackupJobRequest {
  readonly kind: 'write-backup'
  /** The recovery folder (absolute, outside `--data` and `--out`). */
  readonly dir: string
  /** Hex digest naming this source's backup. */
  readonly key: string
  readonly dataType: 'uint8' | 'uint16'
  readonly labels: Uint8Array
  /** Input files of the source: never overwritten. */
  readonly sourceFiles: readonly string[]
  readonly xformCodes?: { readonly qform_code: number; readonly sform_code: number }
  readonly meta: BackupMeta
}

/** What `write-backup` answers. */
export interface BackupJobValue {
  /** Absolute path of the mask written. */
  readonly path: string
  readonly bytes: number
}

/** The requests a service sends, including the existing `models` listing. */
/** Export a label map (`volseg export`, the viewer's `exportLabels`). */
export interface ExportJobRequest {
  readonly kind: 'export'
  readonly spec: ExportJobSpec
}

/**
 * `cohort-reviews` (`volseg serve --cohort`): read every case's review in the cohort folder `dir`
 * (absolute) again and write the cohort report (`report.csv`, `.json`, `.html`) with them, the
 * QC figures and montage kept; answers the report written.
 */
export interface CohortReviewsJobRequest {
  readonly kind: 'cohort-reviews'
  readonly dir: string
}

/** Save a snapshot PNG of the viewer's views and its sidecar (the viewer's `saveSnapshot`). */
export interface SnapshotJobRequest {
  readonly kind: 'snapshot'
  readonly spec: SnapshotJobSpec
}

export type ServiceJobRequest =
  | OpenJobRequest
  | CohortReviewsJobRequest
  | SegmentVolumeJobRequest
  | SaveMaskJobRequest
  | BackupJobRequest
  | ExportJobRequest
  | SnapshotJobRequest
  | { readonly kind: 'models' }

/** What each service request kind answers. */
export interface ServiceJobValue {
  open: OpenJobValue
  'segment-volume': SegmentVolumeJobValue
  'save-mask': SaveMaskJobValue
  'write-backup': BackupJobValue
  export: ExportReport
  snapshot: SnapshotJobValue
  models: ModelList
  'cohort-reviews': CohortReport
}

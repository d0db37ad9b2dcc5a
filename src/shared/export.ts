/**
 * Exports through the API (`exportLabels`, `saveSnapshot`: requests and answers), what an export
 * or snapshot job is asked to do and what it reports (CLI `volseg export`; plain JSON, it
 * crosses the worker boundary). Every file named in a report was written atomically, re-read and
 * checked before the report was made.
 */
import type { LabelReview, LabelsId, ReviewRecord, VolumeId } from './api.js'
import type { ReviewFile } from './review-file.js'
import type { Vec3, VolumeGeometry } from './geometry.js'
import type { MaskVerification } from './mask-verification.js'

/** A format of `exportLabels` (as `volseg export --format`). */
export type ExportFormatName = 'nifti' | 'seg' | 'stl' | 'obj' | 'stats'

/** Every {@link ExportFormatName}, in the order files are written. */
export const EXPORT_FORMAT_NAMES: readonly ExportFormatName[] = [
  'nifti',
  'seg',
  'stl',
  'obj',
  'stats',
]

/** Argument of `exportLabels`: a held label map of an open volume, exported into `--out`. */
export interface ExportLabelsRequest {
  readonly volumeId: VolumeId
  readonly labelsId: LabelsId
  /** Stem of the files (`<name>.seg.dcm`, ...): no `/`, `\\`, NUL or leading `.`. */
  readonly name: string
  readonly formats: readonly ExportFormatName[]
  /** Label values to export (default: every non-zero value present). */
  readonly labels?: readonly number[]
  /** Meshes in RAS instead of LPS. */
  readonly ras?: boolean
  /** The viewer's review of the labels (names, colours, states), recorded in the provenance. */
  readonly review?: ReviewRecord
}

/** A view of the viewer that a snapshot shows. */
export type SnapshotViewName = 'axial' | 'coronal' | 'sagittal' | '3d'

/** Every {@link SnapshotViewName}. */
export const SNAPSHOT_VIEW_NAMES: readonly SnapshotViewName[] = [
  'axial',
  'coronal',
  'sagittal',
  '3d',
]

/** Largest PNG `saveSnapshot` accepts: 32 MiB (a 4-view 4K screen is a few MiB). */
export const MAX_SNAPSHOT_BYTES = 32 * 2 ** 20

/** Largest width or height of a snapshot, pixels. */
export const MAX_SNAPSHOT_SIDE = 16384

/** One view in a snapshot: which, what its title said, and where it lies in the PNG (pixels). */
export interface SnapshotView {
  readonly view: SnapshotViewName
  /** The view's title as shown (slice position and index, or the 3-D camera's side). */
  readonly title: string
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/**
 * Argument of `saveSnapshot`: a PNG of the viewer's views (bytes out of band), saved under
 * `--out` as `<name>.png` with the sidecar `<name>.snapshot.json` (source, model, review, views).
 */
export interface SaveSnapshotRequest {
  readonly volumeId: VolumeId
  /** The label map shown over the views (the core's copy it was loaded from), if any. */
  readonly labelsId?: LabelsId
  /** Stem of the two files: no `/`, `\\`, NUL or leading `.`. */
  readonly name: string
  /** The views in the picture, 1–8 of them. */
  readonly views: readonly SnapshotView[]
  /** The review of the labels shown (names, colours, states), recorded in the sidecar. */
  readonly review?: ReviewRecord
  /** The PNG: 1–{@link MAX_SNAPSHOT_BYTES} bytes. */
  readonly bytes: Uint8Array
}

/** What `saveSnapshot` wrote: the PNG (re-read and decoded) and its sidecar. */
export interface SnapshotReport {
  /** Display path of the PNG relative to `--out`, POSIX separators. */
  readonly path: string
  /** Display path of the sidecar. */
  readonly sidecarPath: string
  readonly bytes: number
  readonly width: number
  readonly height: number
  /** The re-read check it passed, in words. */
  readonly check: string
}

export type ExportFormat = ExportFormatName

export const EXPORT_FORMATS: readonly ExportFormat[] = EXPORT_FORMAT_NAMES

/** Argument of the `export` job. Paths are absolute or relative to the worker's cwd. */
export interface ExportJobSpec {
  /** The label map to export (NIfTI, on the reference's grid); or `held`. */
  readonly mask?: string
  /**
   * A label map held in memory (the service's), on the reference's grid, i fastest; `name` is
   * the stem of the files. Used instead of `mask`.
   */
  readonly held?: {
    readonly name: string
    readonly dataType: 'uint8' | 'uint16'
    readonly bytes: Uint8Array
    /** The review file the viewer would save beside it (model run, review states). */
    readonly review?: Omit<ReviewFile, 'mask'>
    /** The model's labels as produced (same grid), for the AI-vs-final delta; `name` says whose. */
    readonly ai?: {
      readonly name: string
      readonly dataType: 'uint8' | 'uint16'
      readonly bytes: Uint8Array
    }
    /** Why there is no `ai` (recorded in the provenance instead of a delta). */
    readonly aiAbsent?: string
  }
  /** The source image: a NIfTI/NRRD/MHA file, or DICOM folder/files. */
  readonly reference: readonly string[]
  readonly seriesKey?: string
  readonly formats: readonly ExportFormat[]
  /** Existing folder every file is written into (never outside it). */
  readonly outDir: string
  /** Label values to export (default: every non-zero value present). */
  readonly labels?: readonly number[]
  /** Meshes in RAS instead of LPS. */
  readonly ras?: boolean
  /** Meshes as marching cubes only, without the view's smoothing. */
  readonly rawSurface?: boolean
  /** The review file (default `<mask stem>.review.json` beside the mask, when present). */
  readonly review?: string
  /** The model's own output, for the AI-vs-final delta. */
  readonly aiMask?: string
  /** A `volseg segment` batch report (volseg-report.json) naming the run that made the mask. */
  readonly runReport?: string
  /** Model pack id or folder, when neither the review nor the run report names it. */
  readonly model?: string
  /** Replace existing outputs (never a source file); default: refuse a taken name. */
  readonly overwrite?: boolean
}

/** The model run behind the exported map, as far as the saved records tell. */
export interface ExportModelProvenance {
  readonly id: string
  readonly version?: string
  readonly sha256?: string
  readonly provider?: string
  readonly device?: string
  readonly tta?: boolean
  /** The card's preprocessing settings (orientation, spacing, normalisation, tiling). */
  readonly preprocessing?: Readonly<Record<string, unknown>>
  /** Where these figures came from (review file, run report, installed model card). */
  readonly from: readonly string[]
}

/** One source file with its checksum. */
export interface SourceFileRecord {
  readonly name: string
  readonly sha256: string
  readonly bytes: number
}

/** AI-vs-final change of one label value (voxel counts on the source grid). */
export interface LabelChangeRecord {
  readonly value: number
  readonly aiVoxels: number
  readonly finalVoxels: number
  /** Voxels with this value in the final map and not in the model's. */
  readonly added: number
  /** Voxels with this value in the model's map and not in the final one. */
  readonly removed: number
  /** 2|A∩F| / (|A| + |F|); 1 when both are empty. */
  readonly dice: number
}

/** One exported label: its table entry and review state. */
export interface ExportLabel {
  readonly value: number
  readonly name: string
  readonly colourRGB: readonly [number, number, number]
  readonly status: LabelReview['status'] | 'unreviewed'
  readonly reason?: string
}

/** The study, series and frame of reference of a DICOM source. */
export interface DicomSeriesUIDs {
  readonly studyInstanceUID: string
  readonly seriesInstanceUID: string
  readonly frameOfReferenceUID?: string
}

/** The provenance written into every export's sidecar (and, for SEG, its own attributes). */
export interface ExportProvenance {
  readonly format: 'volseg-export'
  readonly version: 1
  readonly volseg: { readonly version: string }
  /** ISO 8601 UTC. */
  readonly exportedAt: string
  readonly source: {
    readonly kind: 'nifti' | 'nrrd' | 'meta' | 'dicom'
    readonly geometry: VolumeGeometry
    /** Non-DICOM sources: the file(s) with sha256. */
    readonly files?: readonly SourceFileRecord[]
    readonly dicom?: DicomSeriesUIDs & {
      /** SOP Instance UIDs in k order (voxel index k = position in this list). */
      readonly sopInstanceUIDs: readonly string[]
    }
  }
  readonly mask: SourceFileRecord
  readonly labels: readonly ExportLabel[]
  readonly model?: ExportModelProvenance
  readonly review?: ReviewRecord & { readonly file: string }
  /**
   * Present when the model's own output was given (`aiMask`, or the model result of the viewer's
   * session the exported labels were edited from).
   */
  readonly aiDelta?: {
    readonly aiMask: SourceFileRecord
    readonly labels: readonly LabelChangeRecord[]
  }
  /** Present instead of `aiDelta`: why the model's output was not compared. */
  readonly aiDeltaAbsent?: { readonly reason: string }
  /** Whether a human changed the model's result: by the delta, else by the review states. */
  readonly humanEdited: boolean | 'unknown'
}

/** One file an export wrote. */
export interface ExportedFile {
  readonly format: ExportFormat | 'sidecar'
  readonly path: string
  readonly bytes: number
  readonly sha256: string
  /** What the re-read checked, in words (e.g. "re-read by dcmjs: 37 frames, 1,234 voxels equal"). */
  readonly check: string
  readonly label?: number
}

/** Per-label figures, as in the statistics CSV/JSON. */
export interface ExportLabelStats {
  readonly value: number
  readonly name: string
  readonly voxels: number
  readonly volumeMl: number
  readonly intensityMean: number
  readonly intensityStd: number
  readonly intensityMin: number
  readonly intensityMedian: number
  readonly intensityMax: number
  readonly bboxMinLPS: Vec3
  readonly bboxMaxLPS: Vec3
  readonly centroidLPS: Vec3
  /** Area of the marching-cubes surface (unsmoothed), mm². */
  readonly surfaceAreaMm2: number
}

/** A mesh written for one label. */
export interface ExportedMesh {
  readonly label: number
  readonly format: 'stl' | 'obj'
  readonly path: string
  readonly frame: 'LPS' | 'RAS'
  readonly vertices: number
  readonly triangles: number
  /** Bounds of the points in the file's frame, mm. */
  readonly boundsMin: Vec3
  readonly boundsMax: Vec3
  readonly smoothed: boolean
}

/** What the `export` job answers. */
export interface ExportReport {
  readonly files: readonly ExportedFile[]
  readonly labels: readonly ExportLabel[]
  readonly stats?: readonly ExportLabelStats[]
  readonly meshes?: readonly ExportedMesh[]
  readonly seg?: {
    readonly path: string
    readonly frames: number
    readonly segments: number
    readonly algorithmType: 'AUTOMATIC' | 'SEMIAUTOMATIC' | 'MANUAL'
  }
  readonly nifti?: { readonly path: string; readonly verification: MaskVerification }
  readonly provenance: ExportProvenance
  readonly warnings: readonly string[]
}

/** What `exportLabels` wrote: each file written atomically, re-read and checked. */
export interface ExportSummary {
  readonly files: readonly {
    readonly format: ExportFormatName | 'sidecar'
    /** Display path relative to `--out`, POSIX separators. */
    readonly path: string
    readonly bytes: number
    /** The re-read check it passed, in words. */
    readonly check: string
  }[]
  readonly seg?: {
    readonly frames: number
    readonly segments: number
    readonly algorithmType: string
  }
  /** The AI-vs-final delta per exported label, as in the sidecar. */
  readonly aiDelta?: readonly LabelChangeRecord[]
  /** Why there is no delta (the labels were not edited from a model result of this session). */
  readonly aiDeltaAbsent?: string
  readonly warnings: readonly string[]
}

/** The model run behind the labels a snapshot shows (from the service's record of the run). */
export interface SnapshotModelRecord {
  readonly id: string
  readonly provider: string
  readonly device: string
}

/** Argument of the `snapshot` job: a PNG of the viewer's views and what it shows. */
export interface SnapshotJobSpec {
  /** Existing folder the two files are written into (never outside it). */
  readonly outDir: string
  /** Stem: `<name>.png` and `<name>.snapshot.json`. */
  readonly name: string
  readonly png: Uint8Array
  /** Display name of the source image and its input files (absolute; never written). */
  readonly sourceName: string
  readonly sourceFiles: readonly string[]
  /** True for a DICOM source: its UIDs are recorded instead of file checksums. */
  readonly dicom: boolean
  readonly geometry: VolumeGeometry
  /** Whether a label map was shown over the views. */
  readonly labelsShown: boolean
  readonly model?: SnapshotModelRecord
  readonly review?: ReviewRecord
  readonly views: readonly SnapshotView[]
}

/** The sidecar `<name>.snapshot.json` beside a snapshot PNG. */
export interface SnapshotSidecar {
  readonly format: 'volseg-snapshot'
  readonly version: 1
  readonly volseg: { readonly version: string }
  /** When it was saved, ISO 8601 UTC. */
  readonly savedAt: string
  readonly image: {
    readonly file: string
    readonly width: number
    readonly height: number
    readonly bytes: number
    readonly sha256: string
  }
  readonly source: {
    readonly name: string
    readonly geometry: VolumeGeometry
    /** Non-DICOM sources: the file(s) with sha256. */
    readonly files?: readonly SourceFileRecord[]
    readonly dicom?: DicomSeriesUIDs & { readonly instances: number }
  }
  readonly labelsShown: boolean
  readonly model?: SnapshotModelRecord
  readonly review?: ReviewRecord
  readonly views: readonly SnapshotView[]
}

/** What the `snapshot` job answers: a {@link SnapshotReport} with absolute paths. */
export type SnapshotJobValue = SnapshotReport

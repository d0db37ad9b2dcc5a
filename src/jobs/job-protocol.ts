import type { OpenOptions } from '../io/open-volume.js'
import type { VolumeInfo } from '../shared/info.js'
import type {
  BackupJobRequest,
  CohortReviewsJobRequest,
  ExportJobRequest,
  BackupJobValue,
  ModelList,
  ModelListEntry,
  OpenJobRequest,
  OpenJobValue,
  SaveMaskJobRequest,
  SaveMaskJobValue,
  SegmentVolumeJobRequest,
  SegmentVolumeJobValue,
  SnapshotJobRequest,
  WorkerReply,
} from '../shared/jobs.js'
import type { VoxelHandoff } from './voxel-handoff.js'
import type { CohortStatsRequest, CohortStatsValue } from './cohort-case-stats.js'
import type { BatchReport, SegmentEvent, SegmentJobSpec } from '../shared/segment-report.js'
import type { ExportReport, SnapshotJobValue } from '../shared/export.js'
import type { CohortReport } from '../shared/cohort-report.js'

/** A request to a forked worker: parse (`info`) or segment a batch (`segment`). */
export type JobRequest =
  | {
      readonly kind: 'info'
      readonly input: readonly string[]
      readonly options: OpenOptions
    }
  | { readonly kind: 'segment'; readonly spec: SegmentJobSpec }
  /** List installed model packs (cards validated). */
  | { readonly kind: 'models' }
  /** Validate the pack folder `dir` and install it into the user's model folder. */
  | { readonly kind: 'add-model'; readonly dir: string }
  /** Export a label map (NIfTI, DICOM SEG, STL/OBJ, statistics) with provenance. */
  | ExportJobRequest
  /** Service jobs (serve, Electron main): see `src/shared/jobs.ts`. */
  | OpenJobRequest
  | SegmentVolumeJobRequest
  | SaveMaskJobRequest
  | BackupJobRequest
  | SnapshotJobRequest
  /** Cohort report: re-read finished cases for QC figures and montage slices. */
  | CohortStatsRequest
  /** Cohort report: the review states read again and written into it (`volseg serve --cohort`). */
  | CohortReviewsJobRequest

/** What each request kind answers with. */
export interface JobValue {
  info: VolumeInfo
  segment: BatchReport
  models: ModelList
  'add-model': ModelListEntry
  export: ExportReport
  open: OpenJobValue
  'segment-volume': SegmentVolumeJobValue
  'save-mask': SaveMaskJobValue
  'write-backup': BackupJobValue
  'cohort-stats': CohortStatsValue
  'cohort-reviews': CohortReport
  snapshot: SnapshotJobValue
}

export type { ModelList, ModelListEntry }

export type JobReply<T = unknown> = WorkerReply<T>

/**
 * Parent → worker: the job. `handoffPath` is where an `open` worker leaves the voxels
 * (voxel-handoff.ts); it travels with the job because a spare worker was started before it.
 */
export type JobMessage = JobRequest & { readonly handoffPath?: string }

/** Parent → worker control message. */
export type JobControlMessage = { readonly kind: 'cancel' }

/** Worker → parent: streamed events, then exactly one reply. */
export type WorkerMessage =
  | { readonly type: 'event'; readonly event: SegmentEvent }
  /** An early `open` answer (voxels empty); the handoff file holds its first `bytes`. */
  | { readonly type: 'open-early'; readonly value: OpenJobValue; readonly bytes: number }
  /** The `open` worker's handoff file holds the first `bytes` of the voxels. */
  | { readonly type: 'open-bytes'; readonly bytes: number }
  | {
      readonly type: 'reply'
      readonly reply: JobReply
      /** Set when an `open` reply's voxels were left in the handoff file (see voxel-handoff.ts). */
      readonly handoff?: VoxelHandoff
    }

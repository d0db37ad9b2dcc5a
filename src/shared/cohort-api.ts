/**
 * What the review worklist of `volseg serve --cohort <folder>` exchanges over the one contract
 * (`api.ts`: `cohortWorklist`, `openCohortCase`, `saveCohortCase`). A case is addressed by its
 * id only: the core looks the id up in the cohort's manifest, so no path ever comes from the UI,
 * and none is sent to it.
 */
import type { LabelsId, OpenedLabels, OpenedVolume, SaveReport, VolumeId } from './api.js'
import type { CohortQcFlag, CohortReportRow } from './cohort-report.js'
import type { ReviewRecord } from './label-review.js'

/** One case as the worklist shows it: a row of the cohort report without paths or figures. */
export interface WorklistCase {
  readonly id: string
  /** Whether the model ran: `ok`, `failed`, or `pending` (no shard has written a result yet). */
  readonly status: CohortReportRow['status']
  /** QC flags, worst first as the report gives them; messages name files as errors do. */
  readonly qc: readonly CohortQcFlag[]
  /** Sum of the flags' weights (the report's order: highest first). */
  readonly qcScore: number
  /**
   * The case's review state, from the newest review saved beside its mask: `rejected` when any
   * label is, else `edited` when any label is, `accepted` when all are, otherwise `pending`.
   */
  readonly review: {
    readonly status: CohortReportRow['review']['status']
    /** When that review was saved, ISO 8601 UTC. */
    readonly savedAt?: string
    /** Reasons given for rejected labels. */
    readonly reasons?: readonly string[]
  }
  /** Why the case failed, when it did. */
  readonly error?: string
}

/** What `cohortWorklist` answers: the cohort report's cases, in its order. */
export interface CohortWorklist {
  /** The cohort folder's name (never its path). */
  readonly name: string
  readonly model: { readonly id: string; readonly version: string }
  /** When the report's QC figures were computed (`volseg cohort report`), ISO 8601 UTC. */
  readonly generatedAt: string
  /** Cases not reviewed yet first, then worst QC first, then by id (the report's order). */
  readonly cases: readonly WorklistCase[]
  /** How many of `cases` have a review state other than `pending`. */
  readonly reviewed: number
}

/** Argument of `openCohortCase`: a case id of the cohort (`CASE_ID_RE`). */
export interface CohortCaseRequest {
  readonly caseId: string
}

/**
 * What `openCohortCase` answers: the case's image (held like any opened volume; its `caseId` is
 * set) and, when the case has a mask, that mask as its label map with its review: the mask of the
 * newest saved review, else the model's own. No mask (a failed case): `labels` absent and a
 * warning says why.
 */
export interface OpenedCohortCase {
  readonly caseId: string
  readonly volume: OpenedVolume
  readonly labels?: OpenedLabels
  readonly warnings: readonly string[]
}

/**
 * Argument of `saveCohortCase`: the labels on screen (a held label map of the case's volume) and
 * their review, which must name every label present.
 */
export interface SaveCohortCaseRequest {
  readonly caseId: string
  readonly volumeId: VolumeId
  readonly labelsId: LabelsId
  readonly review: ReviewRecord
}

/**
 * What `saveCohortCase` answers: the save (paths relative to the cohort folder:
 * `masks/<id>_seg-N.nii.gz` and its `.review.json`, verified as `saveMask` verifies), and the
 * worklist as the report now has it.
 */
export interface SavedCohortCase {
  readonly saved: SaveReport
  readonly worklist: CohortWorklist
  /** E.g. the review was saved but the report could not be written again. */
  readonly warnings: readonly string[]
}

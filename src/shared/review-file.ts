/**
 * The review file saved beside a mask (`<mask stem>.review.json`): the reviewer's record plus
 * where it came from, so that a later export can say what the human checked and changed.
 */
import type { ReviewRecord } from './api.js'
import { MASK_EXT } from './file-names.js'
import type { VolumeGeometry } from './geometry.js'

/** Voxels of one label value in the saved map; `volumeMl` from the source spacing. */
export interface ReviewLabelCount {
  readonly value: number
  readonly voxels: number
  readonly volumeMl: number
}

/** The model run a reviewed map came from (absent for a map made without a model). */
export interface ReviewModelRun {
  readonly modelId: string
  readonly provider: string
  readonly device: string
}

/** What `<stem>.review.json` holds (JSON, UTF-8). */
export interface ReviewFile {
  readonly format: 'volseg-review'
  readonly version: 1
  /** File name (no folder) of the mask this review belongs to, in the same folder. */
  readonly mask: string
  /** Display name of the source image. */
  readonly source: string
  /** Grid of the source and the mask (LPS mm). */
  readonly geometry: VolumeGeometry
  /** Every non-zero label value present in the saved map, ascending. */
  readonly labelVoxels: readonly ReviewLabelCount[]
  readonly modelRun?: ReviewModelRun
  /** When the save was made, ISO 8601 UTC. */
  readonly savedAt: string
  readonly review: ReviewRecord
}

/** The review file's name for a mask file name: `ch2_seg-2.nii.gz` → `ch2_seg-2.review.json`. */
export function reviewFileName(maskName: string): string {
  const stem = maskName.endsWith(MASK_EXT) ? maskName.slice(0, -MASK_EXT.length) : maskName
  return `${stem}.review.json`
}

/**
 * Why `record` does not cover the map's labels (a sentence fragment naming the missing values), or
 * undefined when it lists every non-zero value in `present`.
 */
export function reviewCoverageProblem(
  record: ReviewRecord,
  present: readonly number[],
): string | undefined {
  const listed = new Set(record.labels.map((l) => l.value))
  const missing = present.filter((v) => v !== 0 && !listed.has(v))
  if (missing.length === 0) return undefined
  return `the review does not list label value${missing.length > 1 ? 's' : ''} ${missing.join(', ')} present in the label map`
}

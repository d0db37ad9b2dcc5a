/**
 * What `saveMask` and `exportLabels` both start from: a held label map of a held volume of this
 * session, and the review file the viewer's review becomes (`<mask>.review.json` for a save, the
 * provenance's review record for an export), checked to name every label present.
 */
import {
  err,
  ok,
  type LabelsId,
  type Result,
  type ReviewRecord,
  type VolumeId,
} from '../shared/api.js'
import { reviewCoverageProblem, type ReviewFile } from '../shared/review-file.js'
import { modelRunOf, type HeldLabels, type HeldVolume, type Holdings } from './holdings.js'
import type { SessionState } from './sessions.js'

/** The request fields both writers share. */
export interface HeldWriteRequest {
  readonly volumeId: VolumeId
  readonly labelsId: LabelsId
  readonly name: string
  readonly review?: ReviewRecord
}

/** The held volume and labels of `req`, and the review file of its review (if any). */
export interface HeldForWrite {
  readonly v: HeldVolume
  readonly l: HeldLabels
  readonly review: Omit<ReviewFile, 'mask'> | undefined
}

/**
 * Looks up `req`'s volume and labels for session `s` and builds the review file; `verb` names the
 * refused action ("save", "export") in the error when the labels are on another grid or the review
 * misses a label present.
 */
export function heldForWrite(
  holdings: Holdings,
  s: SessionState,
  req: HeldWriteRequest,
  verb: string,
): Result<HeldForWrite> {
  const v = holdings.volume(req.volumeId, s.key)
  const l = holdings.labels(req.labelsId, s.key)
  if (l.header.volumeId !== v.id) {
    return err('E_ARGS', `no label map ${req.labelsId} on volume ${v.id}`)
  }
  const present = l.header.labels.filter((x) => x.value !== 0)
  if (!req.review) return ok({ v, l, review: undefined })
  const problem = reviewCoverageProblem(
    req.review,
    present.map((x) => x.value),
  )
  if (problem) return err('E_ARGS', `refused to ${verb} ${req.name}: ${problem}`)
  const modelRun = modelRunOf(l)
  return ok({
    v,
    l,
    review: {
      format: 'volseg-review',
      version: 1,
      source: v.name,
      geometry: v.geometry,
      labelVoxels: present.map((x) => ({ value: x.value, voxels: x.voxels, volumeMl: x.volumeMl })),
      ...(modelRun
        ? {
            modelRun: {
              modelId: modelRun.modelId,
              provider: modelRun.provider,
              device: modelRun.device,
            },
          }
        : {}),
      savedAt: new Date().toISOString(),
      review: req.review,
    },
  })
}

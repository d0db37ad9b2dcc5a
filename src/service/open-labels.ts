/**
 * `openLabels`: a saved mask (under `--out`, or one made elsewhere under `--data`) read back as
 * the label map of an open volume, so that a review can go on where it stopped. The mask is read
 * in a job worker like any image (`asLabels`: whole numbers 0–65535 only), must lie on the
 * volume's voxel grid, and brings the review saved beside it (`<stem>.review.json`) when that
 * file belongs to it.
 */
import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import {
  err,
  isReviewRecord,
  ok,
  type LabelsHeader,
  type LabelsId,
  type OpenedLabels,
  type OpenLabelsRequest,
  type Result,
  type ReviewRecord,
  type VolumeId,
} from '../shared/api.js'
import type { OpenJobRequest, OpenJobValue } from '../shared/jobs.js'
import { reviewCoverageProblem, reviewFileName } from '../shared/review-file.js'
import { gridMismatch } from '../core/geometry/grid-match.js'
import type { Admission } from './admission.js'
import { refOf, resolveUnder } from './confine.js'
import type { HeldVolume, Holdings } from './holdings.js'
import { countLabels, type LabelStyle } from './label-stats.js'
import { newId } from './new-id.js'
import type { SessionState } from './sessions.js'

/** Largest review file read back (a review of 65535 labels is about 10 MB; real ones are KiB). */
export const MAX_REVIEW_FILE_BYTES = 16 * 1024 * 1024

/** What {@link openLabelsHandler} needs from the service. */
export interface OpenLabelsDeps {
  readonly roots: { readonly data: string; readonly out: string }
  readonly holdings: Holdings
  readonly admission: Admission
  /** Runs an `open` job on a worker (the service's `run`). */
  readonly open: (req: OpenJobRequest, what: string) => Promise<Result<OpenJobValue>>
}

/** The review beside `maskPath`, or why it is not used (undefined problem and record: none). */
async function reviewBeside(
  maskPath: string,
  present: readonly { value: number; voxels: number }[],
): Promise<{ record?: ReviewRecord; path?: string; warning?: string }> {
  const name = reviewFileName(basename(maskPath))
  const path = join(dirname(maskPath), name)
  let text: string
  try {
    const st = await stat(path)
    if (!st.isFile()) return {}
    if (st.size > MAX_REVIEW_FILE_BYTES) {
      return { warning: `${name} is ${st.size} bytes, more than a review holds: not read` }
    }
    text = await readFile(path, 'utf8')
  } catch {
    return {} // no review beside the mask: labels start pending
  }
  let file: unknown
  try {
    file = JSON.parse(text)
  } catch {
    return { warning: `${name} is not valid JSON: the labels start unreviewed` }
  }
  const f = file as { format?: unknown; mask?: unknown; review?: unknown; labelVoxels?: unknown }
  if (f.format !== 'volseg-review' || !isReviewRecord(f.review)) {
    return { warning: `${name} is not a VolSeg review file: the labels start unreviewed` }
  }
  if (f.mask !== basename(maskPath)) {
    return { warning: `${name} belongs to ${String(f.mask)}, not this mask: not used` }
  }
  const problem = reviewCoverageProblem(
    f.review,
    present.filter((l) => l.value !== 0).map((l) => l.value),
  )
  if (problem) return { warning: `${name}: ${problem}; the labels start unreviewed` }
  // Voxel counts that differ mean the mask was changed after the review was saved: keep the
  // names and colours, but the decisions no longer describe these voxels.
  const counts = new Map(present.map((l) => [l.value, l.voxels]))
  const saved = Array.isArray(f.labelVoxels)
    ? (f.labelVoxels as { value: number; voxels: number }[])
    : []
  const changed = saved.some((l) => counts.get(l.value) !== l.voxels)
  if (changed) {
    const record: ReviewRecord = {
      ...f.review,
      labels: f.review.labels.map(({ reason, ...l }) => {
        void reason
        return { ...l, status: 'pending' as const }
      }),
    }
    return {
      record,
      path,
      warning: `${basename(maskPath)} was changed after ${name} was saved: its names are kept, its review decisions reset to pending`,
    }
  }
  return { record: f.review, path }
}

/** The `openLabels` handler over the service's holdings. */
export function openLabelsHandler(
  d: OpenLabelsDeps,
): (s: SessionState, req: OpenLabelsRequest) => Promise<Result<OpenedLabels>> {
  return async (s, req) => {
    const root = req.root === 'out' ? d.roots.out : d.roots.data
    const abs = await resolveUnder(root, req.source, 'mask')
    return openMaskOnto(d, s, req.volumeId, root, abs)
  }
}

/**
 * Reads the mask file `abs` (a real path the caller confined under `root`, which also confines
 * its detached data file) as a label map of session `s`'s volume `volumeId`, with the review
 * beside it; paths in the answer are relative to `root`.
 */
export async function openMaskOnto(
  d: Omit<OpenLabelsDeps, 'roots'>,
  s: SessionState,
  volumeId: VolumeId,
  root: string,
  abs: string,
): Promise<Result<OpenedLabels>> {
  const v: HeldVolume = d.holdings.volume(volumeId, s.key)
  const shown = basename(abs)
  const r = await d.open(
    { kind: 'open', input: [abs], confineTo: root, asLabels: true },
    `opening the mask ${shown}`,
  )
  if (!r.ok) return r
  const m = r.value
  if (m.kind !== 'volume') {
    return err('E_UNSUPPORTED', `${shown}: a DICOM folder, not a mask file`, shown)
  }
  const mismatch = gridMismatch(v.geometry, m.volume.geometry)
  if (mismatch) {
    return err('E_ARGS', `${shown} is not a mask of ${v.name}: ${mismatch}`, shown)
  }
  const dataType = m.volume.dataType
  if (dataType !== 'uint8' && dataType !== 'uint16') {
    return err('E_INTERNAL', `${shown}: read as ${dataType}, not as labels`, shown)
  }
  const bytes = m.volume.voxels
  const counted = countLabels(bytes, dataType, v.geometry.spacingMm, v.styles)
  const found = await reviewBeside(abs, counted)
  // Names and colours of a saved review win over "label N".
  const named = new Map<number, LabelStyle>(
    (found.record?.labels ?? []).map((l) => [
      l.value,
      { value: l.value, name: l.name, color: l.colourRGB },
    ]),
  )
  const grant = d.admission.holdBytes(bytes.byteLength, `the mask ${shown}`)
  const header: LabelsHeader = {
    labelsId: newId<LabelsId>('lbl'),
    volumeId: v.id,
    dataType,
    sizeIJK: v.geometry.sizeIJK,
    byteLength: bytes.byteLength,
    labels: counted.map((l) => {
      const n = named.get(l.value)
      return n ? { ...l, name: n.name, color: n.color } : l
    }),
    warnings: [
      ...m.warnings.map((w) => `${shown}: ${w}`),
      ...(found.warning ? [found.warning] : []),
    ],
  }
  const origin = { kind: 'file', name: shown } as const
  if (!d.holdings.addLabels(v, { header, bytes, grant, origin })) {
    return err('E_CANCELLED', `${v.name} was closed while ${shown} was read`)
  }
  return ok({
    labels: header,
    path: refOf(root, abs),
    ...(found.record ? { review: found.record } : {}),
    ...(found.path ? { reviewPath: refOf(root, found.path) } : {}),
  })
}

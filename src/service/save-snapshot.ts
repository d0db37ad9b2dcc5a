/**
 * The `saveSnapshot` handler: a PNG of the viewer's views, refused here when it is too big, not a
 * PNG, larger than {@link MAX_SNAPSHOT_SIDE} a side, or its views lie outside it; then the
 * `snapshot` job (src/jobs/snapshot-job.ts) checks it whole and writes it with its sidecar into
 * `--out`, on a worker, never on the service's loop.
 */
import {
  MAX_SNAPSHOT_BYTES,
  MAX_SNAPSHOT_SIDE,
  err,
  ok,
  type Result,
  type SaveSnapshotRequest,
  type SnapshotReport,
} from '../shared/api.js'
import { fileNameProblem, visibleName } from '../shared/file-names.js'
import type { SnapshotJobRequest } from '../shared/jobs.js'
import type { SnapshotJobValue } from '../shared/export.js'
import { readPngHeader } from '../core/png/png-header.js'
import { refOf } from './confine.js'
import { modelRunOf, type Holdings } from './holdings.js'
import type { SessionState } from './sessions.js'

export interface SaveSnapshotDeps {
  readonly holdings: Holdings
  /** `--out`: both files go there. */
  readonly outDir: string
  /** Runs a `snapshot` job on a worker (the service's `run`). */
  readonly snapshotJob: (req: SnapshotJobRequest, what: string) => Promise<Result<SnapshotJobValue>>
}

/** Longest stem: `<stem>.snapshot.json` must fit a 255-byte name. */
const MAX_STEM_BYTES = 255 - '.snapshot.json'.length

/** Makes the `saveSnapshot` handler. */
export function saveSnapshotHandler(
  d: SaveSnapshotDeps,
): (s: SessionState, req: SaveSnapshotRequest) => Promise<Result<SnapshotReport>> {
  return async (s, req) => {
    const v = d.holdings.volume(req.volumeId, s.key)
    const l = req.labelsId === undefined ? undefined : d.holdings.labels(req.labelsId, s.key)
    if (l && l.header.volumeId !== v.id) {
      return err('E_ARGS', `no label map ${req.labelsId} on volume ${v.id}`)
    }
    const problem = fileNameProblem(req.name, MAX_STEM_BYTES)
    if (problem !== undefined) {
      return err('E_ARGS', `refused snapshot name "${visibleName(req.name)}": ${problem}`)
    }
    // The gate's guard bounds the size too; this service may also be called without a gate.
    if (req.bytes.byteLength > MAX_SNAPSHOT_BYTES) {
      return err(
        'E_TOO_LARGE',
        `the snapshot is ${req.bytes.byteLength} bytes; at most ${MAX_SNAPSHOT_BYTES} are accepted`,
      )
    }
    const head = readPngHeader(req.bytes, MAX_SNAPSHOT_SIDE)
    if (!head.ok) {
      return err(head.tooLarge ? 'E_TOO_LARGE' : 'E_ARGS', `the snapshot is ${head.problem}`)
    }
    const { width, height } = head.header
    const outside = req.views.find((w) => w.x + w.width > width || w.y + w.height > height)
    if (outside) {
      return err(
        'E_ARGS',
        `the snapshot's ${outside.view} view lies outside its ${width}×${height} pixels`,
      )
    }
    const run = l && modelRunOf(l)
    const r = await d.snapshotJob(
      {
        kind: 'snapshot',
        spec: {
          outDir: d.outDir,
          name: req.name,
          // Own copy: the request's bytes are a view into a received network frame.
          png: req.bytes.slice(),
          sourceName: v.name,
          sourceFiles: v.files,
          dicom: v.opened.study !== undefined,
          geometry: v.geometry,
          labelsShown: l !== undefined,
          ...(run
            ? { model: { id: run.modelId, provider: run.provider, device: run.device } }
            : {}),
          ...(req.review ? { review: req.review } : {}),
          views: req.views,
        },
      },
      `saving the snapshot ${req.name}`,
    )
    if (!r.ok) return r
    return ok({
      path: refOf(d.outDir, r.value.path),
      sidecarPath: refOf(d.outDir, r.value.sidecarPath),
      bytes: r.value.bytes,
      width: r.value.width,
      height: r.value.height,
      check: r.value.check,
    })
  }
}

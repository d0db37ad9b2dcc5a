/**
 * The `exportLabels` handler: a held label map of an open volume, exported into `--out` by the
 * export job in a worker (src/jobs/export-job.ts), never on the service's loop. The review the
 * viewer sends becomes the provenance's review record (as `saveMask` writes it beside a mask).
 */
import { ok, type ExportLabelsRequest, type ExportSummary, type Result } from '../shared/api.js'
import type { ExportReport } from '../shared/export.js'
import type { ExportJobRequest } from '../shared/jobs.js'
import { refOf } from './confine.js'
import { heldForWrite } from './held-for-write.js'
import type { Holdings } from './holdings.js'
import type { SessionState } from './sessions.js'

export interface ExportLabelsDeps {
  readonly holdings: Holdings
  /** `--out`: every export file goes there. */
  readonly outDir: string
  /** Removes absolute paths from text for the client. */
  readonly scrub: (text: string) => string
  /** Runs an `export` job on a worker (the service's `run`). */
  readonly exportJob: (req: ExportJobRequest, what: string) => Promise<Result<ExportReport>>
}

/** Makes the `exportLabels` handler. */
export function exportLabelsHandler(
  d: ExportLabelsDeps,
): (s: SessionState, req: ExportLabelsRequest) => Promise<Result<ExportSummary>> {
  return async (s, req) => {
    const held = heldForWrite(d.holdings, s, req, 'export')
    if (!held.ok) return held
    const { v, l, review } = held.value
    const modelRun = l.header.run
    const r = await d.exportJob(
      {
        kind: 'export',
        spec: {
          held: {
            name: req.name,
            dataType: l.header.dataType,
            bytes: l.bytes,
            ...(review ? { review } : {}),
          },
          reference: v.files,
          formats: req.formats,
          outDir: d.outDir,
          ...(req.labels ? { labels: req.labels } : {}),
          ...(req.ras ? { ras: true } : {}),
          ...(modelRun && !req.review ? { model: modelRun.modelId } : {}),
        },
      },
      `exporting ${req.name}`,
    )
    if (!r.ok) return r
    return ok({
      files: r.value.files.map((f) => ({
        format: f.format,
        path: refOf(d.outDir, f.path),
        bytes: f.bytes,
        check: f.check,
      })),
      ...(r.value.seg
        ? {
            seg: {
              frames: r.value.seg.frames,
              segments: r.value.seg.segments,
              algorithmType: r.value.seg.algorithmType,
            },
          }
        : {}),
      warnings: r.value.warnings.map(d.scrub),
    })
  }
}

/**
 * The `exportLabels` handler: a held label map of an open volume, exported into `--out` by the
 * export job in a worker (src/jobs/export-job.ts), never on the service's loop. The review the
 * viewer sends becomes the provenance's review record (as `saveMask` writes it beside a mask).
 * When the labels are a model result of this session, or were edited from one, the model's labels
 * as produced go with them and the export records the AI-vs-final delta; otherwise it records why
 * not (opened from a file, restored from a backup, origin unknown).
 */
import { ok, type ExportLabelsRequest, type ExportSummary, type Result } from '../shared/api.js'
import type { ExportReport } from '../shared/export.js'
import type { ExportJobRequest } from '../shared/jobs.js'
import { refOf } from './confine.js'
import { heldForWrite } from './held-for-write.js'
import { aiOutputOf, modelRunOf, type Holdings } from './holdings.js'
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
    const modelRun = modelRunOf(l)
    // The AI-vs-final delta: against the model's labels as produced, when this session has them.
    const ai = aiOutputOf(l)
    const r = await d.exportJob(
      {
        kind: 'export',
        spec: {
          held: {
            name: req.name,
            dataType: l.header.dataType,
            bytes: l.bytes,
            ...(review ? { review } : {}),
            ...('ai' in ai ? { ai: ai.ai } : { aiAbsent: ai.absent }),
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
      ...(r.value.provenance.aiDelta ? { aiDelta: r.value.provenance.aiDelta.labels } : {}),
      ...(r.value.provenance.aiDeltaAbsent
        ? { aiDeltaAbsent: d.scrub(r.value.provenance.aiDeltaAbsent.reason) }
        : {}),
      warnings: r.value.warnings.map(d.scrub),
    })
  }
}

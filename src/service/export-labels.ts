/**
 * The `exportLabels` handler: a held label map of an open volume, exported into `--out` by the
 * export job in a worker (src/jobs/export-job.ts), never on the service's loop. The review the
 * viewer sends becomes the provenance's review record (as `saveMask` writes it beside a mask).
 */
import {
  err,
  ok,
  type ExportLabelsRequest,
  type ExportSummary,
  type Result,
} from '../shared/api.js'
import type { ExportReport } from '../shared/export.js'
import type { ExportJobRequest } from '../shared/jobs.js'
import { reviewCoverageProblem } from '../shared/review-file.js'
import { refOf } from './confine.js'
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
    const v = d.holdings.volume(req.volumeId, s.key)
    const l = d.holdings.labels(req.labelsId, s.key)
    if (l.header.volumeId !== v.id) {
      return err('E_ARGS', `no label map ${req.labelsId} on volume ${v.id}`)
    }
    const present = l.header.labels.filter((x) => x.value !== 0)
    if (req.review) {
      const problem = reviewCoverageProblem(
        req.review,
        present.map((x) => x.value),
      )
      if (problem) return err('E_ARGS', `refused to export ${req.name}: ${problem}`)
    }
    const modelRun = l.header.run
    const r = await d.exportJob(
      {
        kind: 'export',
        spec: {
          held: {
            name: req.name,
            dataType: l.header.dataType,
            bytes: l.bytes,
            ...(req.review
              ? {
                  review: {
                    format: 'volseg-review',
                    version: 1,
                    source: v.name,
                    geometry: v.geometry,
                    labelVoxels: present.map((x) => ({
                      value: x.value,
                      voxels: x.voxels,
                      volumeMl: x.volumeMl,
                    })),
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
                }
              : {}),
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

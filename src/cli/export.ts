/**
 * `volseg export <mask.nii.gz> --reference <source> --format nifti|seg|stl|obj|stats|all -o <dir>`:
 * parses the flags into an export job, runs it in the job worker, and prints what was written
 * (each file with the re-read check it passed) or the JSON report.
 */
import { mkdir } from 'node:fs/promises'
import { AppError } from '../shared/errors.js'
import {
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportJobSpec,
  type ExportReport,
} from '../shared/export.js'
import { replyValue, runJob } from '../jobs/fork-runner.js'

/** The flags `volseg export` reads (after the generic parse in main.ts). */
export interface ExportArgs {
  readonly positional: readonly string[]
  readonly flags: ReadonlyMap<string, string | true>
}

/** `--format a,b` (or `all`) → formats, in the fixed order. */
export function parseFormats(text: string): ExportFormat[] {
  const asked = text.split(',').map((s) => s.trim().toLowerCase())
  if (asked.includes('all')) return [...EXPORT_FORMATS]
  for (const f of asked) {
    if (!(EXPORT_FORMATS as readonly string[]).includes(f)) {
      throw new AppError(
        'E_ARGS',
        `--format must be ${EXPORT_FORMATS.join('|')}|all, or a comma list (got "${f}")`,
      )
    }
  }
  return EXPORT_FORMATS.filter((f) => asked.includes(f))
}

/** `--labels 1,3` → [1, 3]. */
export function parseLabelList(text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()))
  if (values.length === 0 || values.some((v) => !(Number.isInteger(v) && v >= 1 && v <= 65535))) {
    throw new AppError(
      'E_ARGS',
      `--labels must be label values 1-65535, comma-separated (got "${text}")`,
    )
  }
  return [...new Set(values)]
}

/** Builds the job spec from the command line; throws E_ARGS naming what is missing. */
export function exportSpec(a: ExportArgs): ExportJobSpec {
  const str = (k: string): string | undefined => {
    const v = a.flags.get(k)
    if (v === true) throw new AppError('E_ARGS', `${k} needs a value`)
    return v
  }
  const mask = a.positional[0]
  if (mask === undefined) {
    throw new AppError('E_ARGS', 'export needs a mask file (volseg export <mask.nii.gz> ...)')
  }
  if (a.positional.length > 1) {
    throw new AppError('E_ARGS', `export takes one mask file (got also "${a.positional[1]}")`)
  }
  const reference = str('--reference')
  if (reference === undefined) {
    throw new AppError(
      'E_ARGS',
      'export needs --reference <source image: NIfTI file or DICOM folder>',
    )
  }
  const out = str('--out')
  if (out === undefined) throw new AppError('E_ARGS', 'export needs -o <output folder>')
  const format = str('--format') ?? 'all'
  const labels = str('--labels')
  const review = str('--review')
  const ai = str('--ai')
  const runReport = str('--run-report')
  const model = str('--model')
  const series = str('--series')
  return {
    mask,
    reference: [reference],
    formats: parseFormats(format),
    outDir: out,
    ras: a.flags.has('--ras'),
    rawSurface: a.flags.has('--raw-surface'),
    overwrite: a.flags.has('--overwrite'),
    ...(labels === undefined ? {} : { labels: parseLabelList(labels) }),
    ...(review === undefined ? {} : { review }),
    ...(ai === undefined ? {} : { aiMask: ai }),
    ...(runReport === undefined ? {} : { runReport }),
    ...(model === undefined ? {} : { model }),
    ...(series === undefined ? {} : { seriesKey: series }),
  }
}

/** Human summary of a report: one line per file, then labels and warnings. */
export function formatExport(r: ExportReport): string {
  const lines = r.files.map((f) => `${f.format.padEnd(7)} ${f.path}\n        ${f.check}`)
  const p = r.provenance
  lines.push(
    `labels: ${r.labels.map((l) => `${l.value} ${l.name} (${l.status})`).join(', ')}`,
    `model: ${p.model ? `${p.model.id} ${p.model.version ?? ''}`.trim() : 'none recorded'}; human edited: ${String(p.humanEdited)}`,
  )
  if (p.aiDelta) {
    for (const c of p.aiDelta.labels) {
      lines.push(
        `  label ${c.value}: +${c.added} −${c.removed} voxels vs the model, Dice ${c.dice.toFixed(4)}`,
      )
    }
  }
  if (r.seg) {
    lines.push(`seg: ${r.seg.frames} frames, ${r.seg.segments} segments, ${r.seg.algorithmType}`)
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`)
  return lines.join('\n')
}

/** Runs `volseg export`; returns the exit code. */
export async function exportCommand(a: ExportArgs, timeoutS: number): Promise<number> {
  const spec = exportSpec(a)
  await mkdir(spec.outDir, { recursive: true })
  const reply = await runJob({ kind: 'export', spec }, { timeoutMs: timeoutS * 1000 })
  const value = replyValue(reply)
  process.stdout.write(
    a.flags.has('--json') ? `${JSON.stringify(value, null, 2)}\n` : `${formatExport(value)}\n`,
  )
  return 0
}

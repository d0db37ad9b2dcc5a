/**
 * `volseg segment`: turns paths into cases (a file, a DICOM folder, or a folder of image files),
 * applies `--shard`, runs the batch in the inference worker with a progress bar, and writes the
 * per-case report (CSV + JSON, label volumes in mL).
 */
import { mkdir, readdir, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { AppError } from '../shared/errors.js'
import { describeVerification } from '../shared/mask-verification.js'
import type {
  CaseReport,
  ProviderName,
  SegmentCase,
  SegmentEvent,
} from '../shared/segment-report.js'
import { replyValue, startJob } from '../jobs/fork-runner.js'
import { checkRunOutputs } from '../jobs/output-check.js'

const IMAGE_EXT = /\.(nii|nii\.gz|nrrd|nhdr|mha|mhd)$/i

export interface SegmentArgs {
  readonly inputs: readonly string[]
  readonly out: string
  readonly model: string
  readonly ep: ProviderName | 'auto'
  readonly tta: boolean
  readonly uncertainty?: string
  readonly shard?: string
  readonly overwrite: boolean
  readonly json: boolean
  /** Run inputs that do not suit the model's card anyway (with a warning). */
  readonly force?: boolean
  readonly seriesKey?: string
  readonly timeoutS: number
  readonly batch?: number
  /** Memory the engine may plan for, bytes. */
  readonly maxBytes?: number
}

/** Case id from a path: file name without image extension, or the folder name. */
export function caseId(p: string): string {
  return basename(p).replace(IMAGE_EXT, '') || 'case'
}

/** Expands inputs into cases: image files stay; a folder holding image files is a folder of cases; any other folder is one DICOM case. */
export async function expandInputs(
  inputs: readonly string[],
): Promise<{ id: string; input: string[] }[]> {
  const out: { id: string; input: string[] }[] = []
  for (const raw of inputs) {
    const p = resolve(raw)
    let s
    try {
      s = await stat(p)
    } catch {
      throw new AppError('E_NOT_FOUND', 'no such file or folder', { file: raw })
    }
    if (!s.isDirectory()) {
      out.push({ id: caseId(p), input: [p] })
      continue
    }
    // Our own outputs may sit beside the inputs; they are not cases.
    const files = (await readdir(p))
      .filter((n) => IMAGE_EXT.test(n) && !/_(seg|uncertainty)\.nii\.gz$/i.test(n))
      .sort()
    if (files.length > 0) for (const n of files) out.push({ id: caseId(n), input: [join(p, n)] })
    else out.push({ id: caseId(p), input: [p] })
  }
  const seen = new Map<string, string>()
  for (const c of out) {
    const prev = seen.get(c.id)
    if (prev !== undefined) {
      throw new AppError(
        'E_ARGS',
        `two inputs would write the same output "${c.id}": ${prev} and ${c.input[0]}`,
      )
    }
    seen.set(c.id, c.input[0] as string)
  }
  return out
}

/** `k/n` (1-based k): keeps every n-th case starting at k, after sorting by id. */
export function applyShard<T extends { id: string }>(
  cases: readonly T[],
  shard: string | undefined,
): T[] {
  const sorted = [...cases].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  if (shard === undefined) return sorted
  const m = /^(\d+)\/(\d+)$/.exec(shard)
  const k = Number(m?.[1])
  const n = Number(m?.[2])
  if (!m || !(n >= 1) || !(k >= 1 && k <= n)) {
    throw new AppError('E_ARGS', `--shard must be k/n with 1 ≤ k ≤ n (got "${shard}")`)
  }
  return sorted.filter((_, i) => i % n === k - 1)
}

function bar(done: number, total: number, width = 24): string {
  const f = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0
  return `[${'#'.repeat(f)}${' '.repeat(width - f)}]`
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--'
  const m = Math.floor(s / 60)
  return `${m}:${String(Math.round(s % 60)).padStart(2, '0')}`
}

/** Progress on stderr: a redrawn bar on a TTY, one line per case otherwise. */
function progressPrinter(total: number, json: boolean, single: boolean): (e: SegmentEvent) => void {
  const tty = process.stderr.isTTY === true && !json
  let started = Date.now()
  let current = ''
  return (e) => {
    if (e.kind === 'warning') {
      // Also with --json: stdout holds the report, stderr is free for the warning.
      process.stderr.write(`${tty ? '\r\x1b[2K' : ''}volseg: warning: ${e.message}\n`)
      return
    }
    if (json) return
    if (e.kind === 'model') {
      const why = e.model.attempts
        .filter((a) => a.tried && !a.ok)
        .map((a) => `${a.provider}: ${a.reason}`)
      process.stderr.write(
        `volseg: model ${e.model.id} ${e.model.version} on ${e.model.provider} (${e.model.device})` +
          `${why.length > 0 ? `; not used: ${why.join('; ')}` : ''}\n`,
      )
    } else if (e.kind === 'case-start') {
      current = `case ${e.index + 1}/${total} ${e.id}`
      started = Date.now()
    } else if (e.kind === 'plan') {
      const b = e.plannedMemoryBytes
      const mem = b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${Math.ceil(b / 2 ** 20)} MiB`
      const line = `${current}: model grid ${e.modelShape.join('×')}, ${e.tiles} tiles, ${e.networkRuns} runs, planned memory ${mem}`
      process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`)
    } else if (e.kind === 'progress' && tty) {
      const pct = e.total > 0 ? e.done / e.total : 0
      const eta = pct > 0 ? ((Date.now() - started) / 1000) * (1 / pct - 1) : NaN
      const detail =
        e.stage === 'inference'
          ? `${bar(e.done, e.total)} ${e.done}/${e.total} tiles ETA ${clock(eta)}`
          : e.stage
      process.stderr.write(`\r\x1b[2K${current}: ${detail}`)
    } else if (e.kind === 'case-end') {
      const r = e.report
      // One case: its failure becomes the command's one-line error instead.
      if (single && r.status === 'failed') {
        if (tty) process.stderr.write('\r\x1b[2K')
        return
      }
      const what =
        r.status === 'ok'
          ? `ok ${((r.timingsMs?.total ?? 0) / 1000).toFixed(1)} s → ${r.output}`
          : r.status === 'skipped'
            ? `skipped (${r.output} exists)`
            : `FAILED: ${r.error?.file ? `${r.error.file}: ` : ''}${r.error?.message ?? ''}`
      process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${current}: ${what}\n`)
    }
  }
}

/** Where a batch's CSV/JSON report goes (one pair per shard, so shards never collide). */
function reportPaths(outDir: string, shard: string | undefined): { csv: string; json: string } {
  const suffix = shard === undefined ? '' : `-shard-${shard.replace('/', '-of-')}`
  return {
    csv: join(outDir, `volseg-report${suffix}.csv`),
    json: join(outDir, `volseg-report${suffix}.json`),
  }
}

/** Runs `volseg segment`; returns the exit code (1 when any case failed). */
export async function segmentCommand(a: SegmentArgs): Promise<number> {
  const expanded = await expandInputs(a.inputs)
  const single = expanded.length === 1 && a.shard === undefined
  const outIsFile = /\.nii\.gz$/i.test(a.out)
  if (!single && outIsFile) {
    throw new AppError(
      'E_ARGS',
      `several cases need an output folder for -o, not the file ${a.out}`,
    )
  }
  if (/\.nii$/i.test(a.out)) {
    throw new AppError('E_ARGS', 'masks are written as .nii.gz (got -o ending in .nii)')
  }
  const outDir = outIsFile ? dirname(resolve(a.out)) : resolve(a.out)
  const uncDir = a.uncertainty !== undefined && !single ? resolve(a.uncertainty) : undefined
  if (a.uncertainty !== undefined && single && !/\.nii\.gz$/i.test(a.uncertainty)) {
    throw new AppError(
      'E_ARGS',
      '--uncertainty needs a .nii.gz file name for one case (a folder for a batch)',
    )
  }
  const cases: SegmentCase[] = applyShard(expanded, a.shard).map((c) => ({
    id: c.id,
    input: c.input,
    output: outIsFile ? resolve(a.out) : join(outDir, `${c.id}_seg.nii.gz`),
    ...(a.uncertainty === undefined
      ? {}
      : {
          uncertaintyOutput:
            uncDir === undefined
              ? resolve(a.uncertainty)
              : join(uncDir, `${c.id}_uncertainty.nii.gz`),
        }),
    ...(a.seriesKey === undefined ? {} : { seriesKey: a.seriesKey }),
  }))
  const report = single ? undefined : reportPaths(outDir, a.shard)
  // Every output against every input of the run, existing files and writable places, before
  // anything is created or the model is loaded.
  await checkRunOutputs({
    cases,
    ...(report === undefined ? {} : { reports: [report.csv, report.json] }),
    overwrite: a.overwrite,
    batch: !single,
  })
  await mkdir(outDir, { recursive: true })
  if (uncDir !== undefined) await mkdir(uncDir, { recursive: true })
  else if (a.uncertainty !== undefined) {
    await mkdir(dirname(resolve(a.uncertainty)), { recursive: true })
  }
  const job = startJob(
    {
      kind: 'segment',
      spec: {
        cases,
        model: a.model,
        ep: a.ep,
        tta: a.tta,
        skipExisting: !a.overwrite,
        ...(a.force === true ? { force: true } : {}),
        ...(a.batch === undefined ? {} : { batch: a.batch }),
        ...(a.maxBytes === undefined ? {} : { maxBytes: a.maxBytes }),
        // A batch's report is written by the worker, atomically, next to the masks.
        ...(report === undefined ? {} : { report }),
      },
    },
    { timeoutMs: a.timeoutS * 1000, onEvent: progressPrinter(cases.length, a.json, single) },
  )
  const onSigint = (): void => {
    process.stderr.write('\nvolseg: cancelling (waits for the current tile)…\n')
    job.cancel()
  }
  process.once('SIGINT', onSigint)
  let reply
  try {
    reply = await job.result
  } finally {
    process.off('SIGINT', onSigint)
  }
  const batch = replyValue(reply)
  const only = batch.cases[0]
  if (single && !a.json && only?.status === 'failed' && only.error) {
    const e = only.error
    throw new AppError(e.code, e.message, e.file === undefined ? {} : { file: e.file })
  }
  if (a.json) process.stdout.write(`${JSON.stringify(batch, null, 2)}\n`)
  else printSummary(batch.cases)
  return batch.cases.some((c) => c.status === 'failed') ? 1 : 0
}

function printSummary(cases: readonly CaseReport[]): void {
  for (const c of cases) {
    if (c.status !== 'ok') continue
    const vols = (c.labels ?? [])
      .filter((l) => l.value !== 0)
      .map((l) => `${l.name} ${l.volumeMl.toFixed(1)} mL`)
      .join(', ')
    const reread = c.verification ? ` (re-read: ${describeVerification(c.verification)})` : ''
    process.stdout.write(`${c.id}: ${vols} → ${c.output}${reread}\n`)
  }
  const failed = cases.filter((c) => c.status === 'failed').length
  const skipped = cases.filter((c) => c.status === 'skipped').length
  if (cases.length > 1 || failed > 0 || skipped > 0) {
    process.stdout.write(
      `${cases.length - failed - skipped} done, ${skipped} skipped, ${failed} failed\n`,
    )
  }
}

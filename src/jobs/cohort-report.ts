/**
 * `volseg cohort report cohort/`: merges every shard's `results/<case>.json` into one report
 * (`report.csv`, `report.json`, `report.html`), with QC flags computed across the cohort. The
 * images are re-read in a worker (`cohort-stats` job); the files are written atomically.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import {
  COHORT_RESULT_SCHEMA,
  isCaseReviewName,
  type CohortCaseResult,
  type CohortManifest,
} from '../shared/cohort.js'
import {
  COHORT_REPORT_SCHEMA,
  parseCohortReport,
  type CohortReport,
  type CohortReportRow,
} from '../shared/cohort-report.js'
import { AppError } from '../shared/errors.js'
import type { CardLabel } from '../shared/model-card.js'
import { caseReviewStatus, worklistOrder } from '../core/cohort/case-review.js'
import { labelSide } from '../core/cohort/label-side.js'
import { qcFlags, qcScore, type QcCase } from '../core/cohort/qc-flags.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { loadModelPack } from '../inference/ort/model-store.js'
import { defaultLabelColor } from '../inference/importers/nnunet.js'
import type { CohortStatsCaseValue } from './cohort-case-stats.js'
import { cohortHtml, montageOf } from './cohort-html.js'
import { readCohortManifest } from './cohort-shard.js'
import { runJob } from './fork-runner.js'

export interface CohortReportOptions {
  readonly dir: string
  /** For the worker that re-reads the images (default 60 s per case, at least 10 minutes). */
  readonly timeoutMs?: number
  readonly onLine?: (line: string) => void
}

type Review = CohortReportRow['review']

/** The newest review saved beside one of the case's masks (see `CohortReportRow.review`). */
async function readReview(dir: string, id: string): Promise<Review> {
  const names = (await readdir(join(dir, 'masks')).catch(() => [] as string[])).filter((n) =>
    isCaseReviewName(id, n),
  )
  let best:
    { file: string; savedAt: string; labels: { status: string; reason?: string }[] } | undefined
  for (const n of names) {
    try {
      const r = JSON.parse(await readFile(join(dir, 'masks', n), 'utf8')) as {
        savedAt?: unknown
        review?: { labels?: unknown }
      }
      const labels = r.review?.labels
      if (typeof r.savedAt !== 'string' || !Array.isArray(labels)) continue
      if (best === undefined || r.savedAt > best.savedAt) {
        best = { file: `masks/${n}`, savedAt: r.savedAt, labels: labels as { status: string }[] }
      }
    } catch {
      // an unreadable review is no review
    }
  }
  if (best === undefined) return { status: 'pending' }
  const status = caseReviewStatus(best.labels.map((l) => l.status))
  const reasons = best.labels.flatMap((l) => (typeof l.reason === 'string' ? [l.reason] : []))
  return {
    status,
    file: best.file,
    savedAt: best.savedAt,
    ...(reasons.length > 0 ? { reasons } : {}),
  }
}

async function readResult(path: string): Promise<CohortCaseResult | undefined> {
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    const r = JSON.parse(text) as CohortCaseResult
    if (r.schema !== COHORT_RESULT_SCHEMA) throw new Error(`schema is not ${COHORT_RESULT_SCHEMA}`)
    return r
  } catch (e) {
    throw new AppError('E_BAD_HEADER', `not a cohort case result (${(e as Error).message})`, {
      file: path,
    })
  }
}

/** The card's labels, or (the pack not installed here) the names the results carry. */
async function cohortLabels(
  m: CohortManifest,
  results: readonly (CohortCaseResult | undefined)[],
): Promise<readonly CardLabel[]> {
  try {
    const pack = await loadModelPack(m.model.ref)
    if (pack.card.sha256 === m.model.sha256) return pack.card.labels
  } catch {
    // fall through: label names from the results
  }
  const from = results.find((r) => r?.report.labels !== undefined)?.report.labels ?? []
  if (from.length === 0) return [{ value: 0, name: 'background', color: [0, 0, 0] }]
  return from.map((l, i) => ({ value: l.value, name: l.name, color: defaultLabelColor(i) }))
}

const csvCell = (s: string | number): string =>
  /[",\n\r]/.test(String(s)) ? `"${String(s).replace(/"/g, '""')}"` : String(s)

/** The rows as CSV: one per case, one `<label> (mL)` column per foreground label. */
export function cohortCsv(r: CohortReport): string {
  const names = r.labels.map((l) => l.name)
  const head = [
    'case',
    'status',
    'qc score',
    'qc flags',
    ...names.map((n) => `${n} (mL)`),
    ...names.map((n) => `${n} robust z`),
    'mean entropy',
    'provider',
    'seconds',
    'attempts',
    'shard',
    'error',
    'review',
    'review file',
    'input',
    'output',
  ]
  const f = (v: number | null | undefined, d: number): string =>
    v === undefined || v === null || !Number.isFinite(v) ? '' : v.toFixed(d)
  const rows = r.cases.map((c) => [
    c.id,
    c.status,
    c.qcScore,
    c.qc.map((q) => `${q.code}${q.label ? `(${q.label})` : ''}`).join('; '),
    ...names.map((n) => f(c.volumesMl[n], 3)),
    ...names.map((n) => f(c.volumeZ[n], 2)),
    f(c.meanEntropy, 4),
    c.provider ?? '',
    f(c.seconds, 2),
    c.attempts ?? '',
    c.shard ?? '',
    c.error ?? '',
    c.review.status,
    c.review.file ?? '',
    c.input.join(';'),
    c.output,
  ])
  return [head, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n'
}

/** Builds and writes the report; resolves to it and the three paths. */
export async function writeCohortReport(
  o: CohortReportOptions,
): Promise<{ report: CohortReport; csv: string; json: string; html: string }> {
  const dir = resolve(o.dir)
  const m = await readCohortManifest(join(dir, 'manifest.json'))
  const results = await Promise.all(
    m.cases.map((c) => readResult(join(dir, 'results', `${c.id}.json`))),
  )
  const labels = await cohortLabels(m, results)
  const fg = labels.slice(1)
  const okCases = m.cases.filter((_, i) => results[i]?.status === 'ok')
  o.onLine?.(`re-reading ${okCases.length} finished case(s) for QC`)
  const stats = new Map<string, CohortStatsCaseValue>()
  const statsCases = okCases.map((c) => ({
    id: c.id,
    input: c.input,
    mask: join(dir, c.output),
    ...(c.uncertaintyOutput === undefined ? {} : { uncertainty: join(dir, c.uncertaintyOutput) }),
    ...(c.seriesKey === undefined ? {} : { seriesKey: c.seriesKey }),
  }))
  const statsJob = (cases: typeof statsCases) =>
    runJob(
      { kind: 'cohort-stats', labels, cases },
      { timeoutMs: o.timeoutMs ?? Math.max(600_000, 60_000 * cases.length) },
    )
  if (statsCases.length > 0) {
    const reply = await statsJob(statsCases)
    if (reply.ok) for (const s of reply.value.cases) stats.set(s.id, s)
    else {
      // The worker died (a reader's wasm abort, a timeout): one worker per case, so only the
      // case that kills its worker goes without figures.
      o.onLine?.(`the QC worker stopped (${reply.error.message}); re-reading case by case`)
      for (const c of statsCases) {
        const one = await statsJob([c])
        const v = one.ok
          ? one.value.cases[0]
          : { id: c.id, ok: false, error: { code: one.error.code, message: one.error.message } }
        if (v !== undefined) stats.set(c.id, v)
      }
    }
  }
  const qcIn: QcCase[] = m.cases.map((c, i) => {
    const s = stats.get(c.id)
    const ok = results[i]?.status === 'ok' && s?.ok === true
    return {
      ok,
      ...(s?.stats ? { labels: s.stats.labels } : {}),
      ...(s?.stats?.bodyCentroidLPS ? { bodyCentroidLPS: s.stats.bodyCentroidLPS } : {}),
      ...(s?.readerWarnings ? { readerWarnings: s.readerWarnings } : {}),
      ...(s?.stats?.meanUncertainty === undefined
        ? {}
        : { meanUncertainty: s.stats.meanUncertainty }),
    }
  })
  const { flags, volumeZ } = qcFlags(qcIn, fg)
  const reviews = await Promise.all(m.cases.map((c) => readReview(dir, c.id)))
  const rows: CohortReportRow[] = m.cases.map((c, i) => {
    const r = results[i]
    const s = stats.get(c.id)
    const q = qcIn[i] as QcCase
    const status = r === undefined ? 'pending' : q.ok ? 'ok' : 'failed'
    const caseFlags = status === 'pending' ? [] : (flags[i] ?? [])
    const err =
      r?.report.error !== undefined
        ? `${r.report.error.file ? `${r.report.error.file}: ` : ''}${r.report.error.message}`
        : s?.error !== undefined
          ? `report: ${s.error.file ? `${s.error.file}: ` : ''}${s.error.message}`
          : undefined
    const volumesMl: Record<string, number> = {}
    const z: Record<string, number | null> = {}
    const centroids: Record<string, readonly [number, number, number]> = {}
    fg.forEach((l, k) => {
      const st = q.labels?.[k]
      if (st === undefined) return
      volumesMl[l.name] = st.volumeMl
      const zz = volumeZ[k]?.[i]
      z[l.name] = zz === undefined || Number.isNaN(zz) ? null : zz
      if (st.centroidLPS) centroids[l.name] = st.centroidLPS
    })
    return {
      id: c.id,
      status,
      input: c.input,
      output: c.output,
      ...(r?.provider === undefined ? {} : { provider: r.provider }),
      ...(r?.device === undefined ? {} : { device: r.device }),
      ...(r?.seconds === undefined ? {} : { seconds: r.seconds }),
      ...(r === undefined ? {} : { attempts: r.attempts, shard: r.shard }),
      ...(err === undefined ? {} : { error: err }),
      volumesMl,
      volumeZ: z,
      centroidsLPS: centroids,
      ...(q.bodyCentroidLPS ? { bodyCentroidLPS: q.bodyCentroidLPS } : {}),
      ...(q.meanUncertainty === undefined ? {} : { meanEntropy: q.meanUncertainty }),
      qc: caseFlags,
      qcScore: qcScore(caseFlags),
      review: reviews[i] as Review,
    }
  })
  rows.sort(worklistOrder)
  const report: CohortReport = {
    schema: COHORT_REPORT_SCHEMA,
    generatedAt: new Date().toISOString(),
    model: { id: m.model.id, version: m.model.version, sha256: m.model.sha256 },
    labels: fg.map((l) => {
      const side = labelSide(l)
      return { value: l.value, name: l.name, ...(side === undefined ? {} : { side }) }
    }),
    cases: rows,
  }
  const pngs = new Map<string, string>()
  for (const [id, s] of stats) if (s.pngBase64 !== undefined) pngs.set(id, s.pngBase64)
  return { report, ...(await publishCohortReport(dir, m, report, pngs)) }
}

/**
 * Writes `report.csv`, `report.json` and `report.html` into the cohort folder `dir` (atomic,
 * never over a case's input); resolves to their paths.
 */
async function publishCohortReport(
  dir: string,
  m: CohortManifest,
  report: CohortReport,
  pngs: ReadonlyMap<string, string>,
): Promise<{ csv: string; json: string; html: string }> {
  const protect = m.cases.flatMap((c) => c.input)
  const enc = (t: string): Uint8Array => new TextEncoder().encode(t)
  const paths = {
    csv: join(dir, 'report.csv'),
    json: join(dir, 'report.json'),
    html: join(dir, 'report.html'),
  }
  await writeFileAtomic(paths.csv, enc(cohortCsv(report)), { protect })
  await writeFileAtomic(paths.json, enc(`${JSON.stringify(report, null, 2)}\n`), { protect })
  await writeFileAtomic(paths.html, enc(cohortHtml(report, pngs)), { protect })
  return paths
}

/**
 * The review states of an existing report brought up to date: every case's review is read again
 * from `masks/` ({@link readReview}), the rows put back in worklist order, and the three files
 * written again. The QC figures and the montage stay as `volseg cohort report` made them: no
 * image is re-read, so this takes milliseconds, not minutes. `E_NOT_FOUND` when the cohort has no
 * `report.json` yet, `E_BAD_HEADER` when it is not a report.
 */
export async function updateCohortReviews(cohortDir: string): Promise<CohortReport> {
  const dir = resolve(cohortDir)
  const m = await readCohortManifest(join(dir, 'manifest.json'))
  const file = join(dir, 'report.json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new AppError('E_NOT_FOUND', 'the cohort has no report yet: run volseg cohort report', {
      file,
    })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw new AppError('E_BAD_HEADER', `not a cohort report (${(e as Error).message})`, { file })
  }
  const old = parseCohortReport(parsed, file)
  const html = await readFile(join(dir, 'report.html'), 'utf8').catch(() => '')
  const cases = await Promise.all(
    old.cases.map(async (r) => ({ ...r, review: await readReview(dir, r.id) })),
  )
  const report: CohortReport = { ...old, cases: cases.sort(worklistOrder) }
  await publishCohortReport(dir, m, report, montageOf(html))
  return report
}

/**
 * What `volseg serve --cohort <dir>` serves, checked before it listens: the folder (real path)
 * must hold a valid `manifest.json` (`E_NOT_FOUND`/`E_BAD_HEADER` naming it otherwise) and a
 * `results/` folder; a cohort without `report.json` gets one now (`writeCohortReport`, which
 * re-reads the finished cases), one with a report has its review states brought up to date
 * ({@link updateCohortReviews}). A case result written after the report's QC was computed
 * (`generatedAt`) is said on `onLine`: its QC shows only once the report is made again.
 */
export async function prepareCohortWorklist(
  cohortDir: string,
  onLine: (line: string) => void,
): Promise<{ dir: string; name: string; manifest: CohortManifest; report: CohortReport }> {
  const dir = await realpath(resolve(cohortDir)).catch(() => {
    throw new AppError('E_NOT_FOUND', 'no such cohort folder', { file: cohortDir })
  })
  const manifest = await readCohortManifest(join(dir, 'manifest.json'))
  const results = join(dir, 'results')
  if (!(await stat(results).catch(() => undefined))?.isDirectory()) {
    const why = 'not a cohort folder: it has no results/ (run volseg cohort plan)'
    throw new AppError('E_NOT_FOUND', why, { file: results })
  }
  let report: CohortReport
  if ((await stat(join(dir, 'report.json')).catch(() => undefined)) === undefined) {
    onLine(`${basename(dir)} has no report.json yet: making it (volseg cohort report)`)
    report = (await writeCohortReport({ dir, onLine })).report
  } else {
    report = await updateCohortReviews(dir)
    const made = Date.parse(report.generatedAt)
    const newer = []
    for (const n of await readdir(results)) {
      const t = await stat(join(results, n)).catch(() => undefined)
      if (n.endsWith('.json') && t !== undefined && t.mtimeMs > made) newer.push(n)
    }
    if (newer.length > 0) {
      onLine(
        `WARNING: ${newer.length} case result(s) are newer than report.json: their QC is in the worklist only after "volseg cohort report ${cohortDir}" runs again`,
      )
    }
  }
  return { dir, name: basename(dir), manifest, report }
}

/**
 * `volseg segment --manifest cohort/manifest.json --shard k/n`: one shard of a planned cohort.
 *
 * - Takes its share deterministically (`casesOfShard`, manifest order).
 * - Resumable: a case whose `results/<id>.json` says `ok` for the same input sha256 and model
 *   sha256, and whose mask exists, is skipped.
 * - The model is loaded once per worker; a failed case is retried once (in a fresh worker, so a
 *   crash or a leak cannot repeat itself on the rest), then reported as failed. A case that
 *   crashes its worker fails alone: the cases after it run in a new worker.
 * - Each case's result JSON and log are written atomically as soon as the case ends.
 */
import { access, mkdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import {
  COHORT_RESULT_SCHEMA,
  casesOfShard,
  parseCohortManifest,
  parseShard,
  type CohortCase,
  type CohortCaseResult,
  type CohortManifest,
} from '../shared/cohort.js'
import { AppError } from '../shared/errors.js'
import type {
  CaseReport,
  ModelReport,
  ProviderName,
  SegmentCase,
  SegmentEvent,
} from '../shared/segment-report.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { loadModelPack } from '../inference/ort/model-store.js'
import { hashInput } from './cohort-plan.js'
import { startJob } from './fork-runner.js'
import { checkRunOutputs } from './output-check.js'

export interface CohortShardOptions {
  readonly manifest: string
  /** `k/n`; absent: every case (one process runs the whole cohort). */
  readonly shard?: string
  readonly ep: ProviderName | 'auto'
  readonly tta: boolean
  /** Per worker run (one attempt over the shard's remaining cases), seconds. */
  readonly timeoutS: number
  /**
   * Longest one case may take, seconds (read to written): past it the worker is stopped, the
   * case fails with `E_TIMEOUT` and the rest go on in a new worker. Default: no limit.
   */
  readonly caseTimeoutS?: number
  /** Re-run finished cases too. */
  readonly overwrite?: boolean
  readonly force?: boolean
  /** A line of progress for the user (stderr). */
  readonly onLine?: (line: string) => void
}

export interface CohortShardSummary {
  readonly shard: string
  readonly ran: number
  readonly skipped: number
  readonly failed: number
  readonly retried: number
  readonly model?: ModelReport
  readonly results: readonly CohortCaseResult[]
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  )

/** Reads and validates a manifest; `E_NOT_FOUND` / `E_BAD_HEADER` naming the file. */
export async function readCohortManifest(path: string): Promise<CohortManifest> {
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch {
    throw new AppError('E_NOT_FOUND', 'no cohort manifest here (run volseg cohort plan)', {
      file: path,
    })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new AppError('E_BAD_HEADER', `manifest is not valid JSON (${(e as Error).message})`, {
      file: path,
    })
  }
  return parseCohortManifest(json, path)
}

/** A case's previous result, when readable. */
async function previousResult(path: string): Promise<CohortCaseResult | undefined> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as CohortCaseResult
    return r.schema === COHORT_RESULT_SCHEMA ? r : undefined
  } catch {
    return undefined
  }
}

interface Pending {
  readonly c: CohortCase
  readonly seg: SegmentCase
  readonly sha: string
}

interface Attempt {
  readonly report: CaseReport
  readonly log: string[]
  readonly seconds: number
}

/**
 * One worker after another over `todo` until every case has an outcome: a worker that dies (or
 * times out) fails the case it was on; the others go to the next worker. A job-level failure
 * before the model loaded fails every remaining case with that error.
 */
async function attemptAll(
  todo: readonly Pending[],
  o: CohortShardOptions,
  model: string,
  wantSha: string,
  onModel: (m: ModelReport) => void,
  onCase: (p: Pending, a: Attempt) => Promise<void>,
): Promise<void> {
  let rest = [...todo]
  while (rest.length > 0) {
    const batch = rest
    const logs = batch.map(() => [] as string[])
    const t0 = batch.map(() => 0)
    let current = -1
    const ended = new Set<number>()
    let loaded: ModelReport | undefined
    const writes: Promise<void>[] = []
    const stamp = (): string => new Date().toISOString()
    let timer: ReturnType<typeof setTimeout> | undefined
    let timedOut = -1
    const job = startJob(
      {
        kind: 'segment',
        spec: {
          cases: batch.map((p) => p.seg),
          model,
          ep: o.ep,
          tta: o.tta,
          skipExisting: false,
          ...(o.force === true ? { force: true } : {}),
        },
      },
      {
        timeoutMs: o.timeoutS * 1000,
        // A case past --case-timeout is stopped within a tile, or killed 5 s later.
        cancelGraceMs: 5000,
        onEvent: (e: SegmentEvent) => {
          if (e.kind === 'model') {
            loaded = e.model
            onModel(e.model)
            if (e.model.sha256 !== wantSha) job.cancel()
            return
          }
          const log = logs[e.index]
          if (log === undefined) return
          if (e.kind === 'case-start') {
            current = e.index
            t0[e.index] = performance.now()
            clearTimeout(timer)
            const limit = o.caseTimeoutS
            if (limit !== undefined) {
              timer = setTimeout(() => {
                timedOut = e.index
                job.cancel()
              }, limit * 1000)
            }
            log.push(`${stamp()} start ${e.id} on ${loaded?.provider ?? '?'}`)
          } else if (e.kind === 'plan') {
            log.push(
              `${stamp()} plan: model grid ${e.modelShape.join('x')}, ${e.tiles} tiles, ` +
                `${e.networkRuns} runs, planned memory ${e.plannedMemoryBytes} bytes`,
            )
          } else if (e.kind === 'warning') log.push(`${stamp()} warning: ${e.message}`)
          else if (e.kind === 'progress' && e.done === 0) log.push(`${stamp()} ${e.stage}`)
          else if (e.kind === 'case-end') {
            clearTimeout(timer)
            ended.add(e.index)
            const r = e.report
            log.push(
              `${stamp()} ${r.status}${r.error ? `: ${r.error.file ? `${r.error.file}: ` : ''}${r.error.message}` : ''}`,
            )
            const p = batch[e.index] as Pending
            const seconds = (performance.now() - (t0[e.index] ?? 0)) / 1000
            writes.push(onCase(p, { report: r, log, seconds }))
          }
        },
      },
    )
    const reply = await job.result
    clearTimeout(timer)
    await Promise.all(writes)
    if (loaded !== undefined && loaded.sha256 !== wantSha) {
      throw new AppError(
        'E_MODEL',
        `the model "${model}" (sha256 ${loaded.sha256.slice(0, 12)}…) is not the one the manifest was planned with (${wantSha.slice(0, 12)}…)`,
      )
    }
    if (reply.ok) return
    const err =
      timedOut >= 0 && timedOut === current && !ended.has(current)
        ? {
            code: 'E_TIMEOUT' as const,
            message: `the case took longer than --case-timeout ${o.caseTimeoutS} s`,
            file: batch[current]?.seg.input[0],
          }
        : reply.error
    if (loaded === undefined || current < 0) {
      // Nothing ran: the model or provider failed. Every case fails with that reason.
      if (err.code === 'E_CANCELLED') throw new AppError(err.code, err.message)
      throw new AppError(err.code, err.message, err.file === undefined ? {} : { file: err.file })
    }
    // Our own cancel (--case-timeout) is not the user's: the shard goes on.
    if (err.code === 'E_CANCELLED' && timedOut < 0) throw new AppError(err.code, err.message)
    // The worker died (or was stopped at --case-timeout) on `current`: that case fails (unless it
    // finished before the stop took effect); the ones after it go to a new worker.
    if (!ended.has(current)) {
      const p = batch[current] as Pending
      const log = logs[current] as string[]
      log.push(`${stamp()} failed: the worker stopped (${err.code}: ${err.message})`)
      const report: CaseReport = {
        id: p.c.id,
        input: p.seg.input,
        output: p.seg.output,
        status: 'failed',
        error: { code: err.code, message: err.message, ...(err.file ? { file: err.file } : {}) },
      }
      await onCase(p, { report, log, seconds: (performance.now() - (t0[current] ?? 0)) / 1000 })
    }
    rest = batch.slice(current + 1).filter((_, i) => !ended.has(current + 1 + i))
  }
}

/** Runs one shard of the cohort whose manifest is `o.manifest`. */
export async function runCohortShard(o: CohortShardOptions): Promise<CohortShardSummary> {
  const manifestPath = resolve(o.manifest)
  const dir = resolve(manifestPath, '..')
  const m = await readCohortManifest(manifestPath)
  const { k, n } = o.shard === undefined ? { k: 1, n: 1 } : parseShard(o.shard)
  const shard = `${k}/${n}`
  const say = o.onLine ?? ((): void => undefined)
  const mine = casesOfShard(m.cases, k, n)
  // The planned model, checked before any worker starts (and again by the worker that loads it).
  const pack = await loadModelPack(m.model.ref)
  if (pack.card.sha256 !== m.model.sha256) {
    throw new AppError(
      'E_MODEL',
      `the model "${m.model.ref}" (sha256 ${pack.card.sha256.slice(0, 12)}…) is not the one the manifest was planned with (${m.model.sha256.slice(0, 12)}…)`,
      { file: manifestPath },
    )
  }
  for (const d of ['masks', 'uncertainty', 'results', 'logs']) {
    await mkdir(join(dir, d), { recursive: true })
  }
  const results: CohortCaseResult[] = []
  const todo: Pending[] = []
  let skipped = 0
  for (const c of mine) {
    let sha: string
    try {
      sha = await hashInput(c.input)
    } catch {
      sha = '' // missing input: the case runs and fails, naming the file
    }
    const prev = await previousResult(join(dir, 'results', `${c.id}.json`))
    const output = join(dir, c.output)
    if (
      o.overwrite !== true &&
      prev?.status === 'ok' &&
      prev.inputSha256 === sha &&
      prev.modelSha256 === m.model.sha256 &&
      (await exists(output))
    ) {
      skipped++
      results.push(prev)
      say(`${c.id}: done before (same input and model), skipped`)
      continue
    }
    const seg: SegmentCase = {
      id: c.id,
      input: c.input,
      output,
      ...(c.uncertaintyOutput === undefined
        ? {}
        : { uncertaintyOutput: join(dir, c.uncertaintyOutput) }),
      ...(c.seriesKey === undefined ? {} : { seriesKey: c.seriesKey }),
    }
    todo.push({ c, seg, sha })
  }
  // Outputs never alias an input, whatever the cohort folder holds (a symlinked mask, say).
  await checkRunOutputs({ cases: todo.map((p) => p.seg), overwrite: true, batch: true })
  let model: ModelReport | undefined
  const protect = m.cases.flatMap((c) => c.input)
  const text = (t: string): Uint8Array => new TextEncoder().encode(t)
  const final = new Map<string, CohortCaseResult>()
  const attempts = new Map<string, number>()
  const record =
    (attempt: number) =>
    async (p: Pending, a: Attempt): Promise<void> => {
      attempts.set(p.c.id, attempt)
      const r: CohortCaseResult = {
        schema: COHORT_RESULT_SCHEMA,
        id: p.c.id,
        status: a.report.status === 'ok' ? 'ok' : 'failed',
        attempts: attempt,
        inputSha256: p.sha,
        modelSha256: m.model.sha256,
        shard,
        ...(model ? { provider: model.provider, device: model.device } : {}),
        seconds: a.seconds,
        finishedAt: new Date().toISOString(),
        report: a.report,
      }
      final.set(p.c.id, r)
      const logPath = join(dir, 'logs', `${p.c.id}.log`)
      const header = attempt > 1 ? [`--- attempt ${attempt} (retry) ---`] : []
      const before = attempt > 1 ? await readFile(logPath, 'utf8').catch(() => '') : ''
      await writeFileAtomic(logPath, text(`${before}${[...header, ...a.log].join('\n')}\n`), {
        protect,
      })
      await writeFileAtomic(
        join(dir, 'results', `${p.c.id}.json`),
        text(`${JSON.stringify(r, null, 2)}\n`),
        { protect },
      )
      say(
        `${p.c.id}: ${r.status}${attempt > 1 ? ' (retry)' : ''}${
          r.status === 'ok'
            ? ` ${a.seconds.toFixed(1)} s`
            : `: ${a.report.error?.file ? `${a.report.error.file}: ` : ''}${a.report.error?.message ?? ''}`
        }`,
      )
    }
  const onModel = (mr: ModelReport): void => {
    if (model === undefined) say(`model ${mr.id} ${mr.version} on ${mr.provider} (${mr.device})`)
    model = mr
  }
  if (todo.length > 0) {
    await attemptAll(todo, o, m.model.ref, m.model.sha256, onModel, record(1))
    const again = todo.filter((p) => final.get(p.c.id)?.status !== 'ok')
    if (again.length > 0) {
      say(`retrying ${again.length} failed case(s) once`)
      await attemptAll(again, o, m.model.ref, m.model.sha256, onModel, record(2))
    }
  }
  for (const p of todo) {
    const r = final.get(p.c.id)
    if (r) results.push(r)
  }
  results.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const failed = results.filter((r) => r.status === 'failed').length
  return {
    shard,
    ran: todo.length,
    skipped,
    failed,
    retried: [...attempts.values()].filter((x) => x > 1).length,
    ...(model ? { model } : {}),
    results,
  }
}

/**
 * `volseg cohort plan|report` and `volseg segment --manifest`: a cohort planned once, segmented
 * by shards (any scheduler: SLURM array, Kubernetes Indexed Job, a for loop), merged into one
 * report.
 */
import { AppError } from '../shared/errors.js'
import type { ProviderName } from '../shared/segment-report.js'
import { planCohort } from '../jobs/cohort-plan.js'
import { writeCohortReport } from '../jobs/cohort-report.js'
import { runCohortShard } from '../jobs/cohort-shard.js'

type Flags = ReadonlyMap<string, string | true>

function str(flags: Flags, k: string): string | undefined {
  const v = flags.get(k)
  if (v === true) throw new AppError('E_ARGS', `${k} needs a value`)
  return v
}

/** `volseg cohort plan <folder|list.csv> --shards N -o cohort/ [--model M] [--no-uncertainty]`. */
async function plan(positional: readonly string[], flags: Flags): Promise<number> {
  const source = positional[0]
  if (source === undefined || positional.length > 1) {
    throw new AppError('E_ARGS', 'cohort plan needs one folder or .csv case list')
  }
  const out = str(flags, '--out')
  if (out === undefined) throw new AppError('E_ARGS', 'cohort plan needs -o <cohort folder>')
  const shards = Number(str(flags, '--shards') ?? 1)
  if (!(Number.isInteger(shards) && shards >= 1)) {
    throw new AppError('E_ARGS', '--shards must be a positive integer')
  }
  const m = await planCohort({
    source,
    outDir: out,
    shards,
    model: str(flags, '--model') ?? 'brain-extract',
    uncertainty: !flags.has('--no-uncertainty'),
    overwrite: flags.has('--overwrite'),
  })
  if (flags.has('--json')) process.stdout.write(`${JSON.stringify(m, null, 2)}\n`)
  else {
    process.stdout.write(
      `planned ${m.cases.length} cases in ${shards} shard(s) with ${m.model.id} ${m.model.version} → ${out}/manifest.json\n`,
    )
  }
  return 0
}

/** `volseg cohort report <cohort folder> [--json]`. */
async function report(positional: readonly string[], flags: Flags): Promise<number> {
  const dir = positional[0]
  if (dir === undefined || positional.length > 1) {
    throw new AppError('E_ARGS', 'cohort report needs the cohort folder')
  }
  const given = str(flags, '--timeout')
  if (given !== undefined && !(Number(given) > 0)) {
    throw new AppError('E_ARGS', '--timeout must be a positive number of seconds')
  }
  const r = await writeCohortReport({
    dir,
    ...(given === undefined ? {} : { timeoutMs: Number(given) * 1000 }),
    onLine: (l) => process.stderr.write(`volseg: ${l}\n`),
  })
  if (flags.has('--json')) process.stdout.write(`${JSON.stringify(r.report, null, 2)}\n`)
  else {
    const by = (s: string): number => r.report.cases.filter((c) => c.status === s).length
    const flagged = r.report.cases.filter((c) => c.qc.length > 0).length
    process.stdout.write(
      `${r.report.cases.length} cases: ${by('ok')} ok, ${by('failed')} failed, ${by('pending')} pending; ${flagged} with QC flags\n` +
        `→ ${r.csv}\n→ ${r.json}\n→ ${r.html}\n`,
    )
  }
  return 0
}

export async function cohortCommand(positional: readonly string[], flags: Flags): Promise<number> {
  const [sub, ...rest] = positional
  if (sub === 'plan') return plan(rest, flags)
  if (sub === 'report') return report(rest, flags)
  throw new AppError('E_ARGS', `cohort needs plan or report (got "${sub ?? ''}")`)
}

/** `volseg segment --manifest cohort/manifest.json [--shard k/n]`; exit 1 when a case failed. */
export async function segmentManifestCommand(a: {
  readonly manifest: string
  readonly shard?: string
  readonly ep: ProviderName | 'auto'
  readonly tta: boolean
  readonly overwrite: boolean
  readonly force: boolean
  readonly json: boolean
  readonly timeoutS: number
  readonly caseTimeoutS?: number
}): Promise<number> {
  const s = await runCohortShard({
    manifest: a.manifest,
    ...(a.shard === undefined ? {} : { shard: a.shard }),
    ep: a.ep,
    tta: a.tta,
    timeoutS: a.timeoutS,
    ...(a.caseTimeoutS === undefined ? {} : { caseTimeoutS: a.caseTimeoutS }),
    overwrite: a.overwrite,
    force: a.force,
    onLine: (l) => process.stderr.write(`volseg: shard ${a.shard ?? '1/1'}: ${l}\n`),
  })
  if (a.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`)
  else {
    process.stdout.write(
      `shard ${s.shard}: ${s.ran - s.failed} done, ${s.skipped} skipped, ${s.failed} failed` +
        `${s.retried > 0 ? ` (${s.retried} retried)` : ''}\n`,
    )
  }
  return s.failed > 0 ? 1 : 0
}

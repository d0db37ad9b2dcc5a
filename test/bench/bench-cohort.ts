/**
 * Cohort benchmark: cases per hour with 1 shard and with 2 shards run at once (two processes, as
 * two array tasks on one machine would), and the model-load share of per-case time (the model is
 * loaded once per shard worker; target < 5 % of one case). Real CLI, real files: N copies of
 * ch2.nii.gz (181×217×181, 1 mm) through the bundled brain-extract pack with its uncertainty map.
 *
 * Usage: npm run bench:cohort [-- --cases N] [-- --model ID|DIR]   (default 6 cases, brain-extract)
 */
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { CohortShardSummary } from '../../src/jobs/cohort-shard.js'
import { ROOT, fixture, runVolseg } from '../helpers.js'

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '6' },
    model: { type: 'string', default: 'brain-extract' },
  },
})
const n = Number(values.cases)
const tmp = mkdtempSync(join(tmpdir(), 'volseg-bench-cohort-'))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home') }
const BIN = join(ROOT, 'bin', 'volseg.mjs')

function shard(manifest: string, s: string): Promise<CohortShardSummary> {
  return new Promise((ok, fail) => {
    const p = spawn(
      process.execPath,
      [BIN, 'segment', '--manifest', manifest, '--shard', s, '--ep', 'cpu', '--json'],
      {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let out = ''
    p.stdout.on('data', (b: Buffer) => (out += b.toString()))
    p.on('error', fail)
    p.on('close', () => {
      try {
        ok(JSON.parse(out) as CohortShardSummary)
      } catch (e) {
        fail(e as Error)
      }
    })
  })
}

async function run(shards: number): Promise<{ wallS: number; summaries: CohortShardSummary[] }> {
  const data = join(tmp, `data-${shards}`)
  mkdirSync(data)
  for (let i = 0; i < n; i++) {
    copyFileSync(fixture('ch2.nii.gz'), join(data, `case${String(i).padStart(3, '0')}.nii.gz`))
  }
  const cohort = join(tmp, `cohort-${shards}`)
  const r = runVolseg(
    ['cohort', 'plan', data, '--shards', String(shards), '-o', cohort, '--model', values.model],
    { env },
  )
  if (r.code !== 0) throw new Error(r.stderr)
  const t0 = performance.now()
  const summaries = await Promise.all(
    Array.from({ length: shards }, (_, k) =>
      shard(join(cohort, 'manifest.json'), `${k + 1}/${shards}`),
    ),
  )
  return { wallS: (performance.now() - t0) / 1000, summaries }
}

try {
  process.stdout.write(
    `cohort bench: ${n} × ch2.nii.gz, model ${values.model}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})\n`,
  )
  for (const shards of [1, 2]) {
    const { wallS, summaries } = await run(shards)
    const results = summaries.flatMap((s) => s.results)
    const failed = results.filter((x) => x.status !== 'ok').length
    const caseS = results.reduce((a, x) => a + (x.seconds ?? 0), 0) / results.length
    const loadS = summaries.map((s) => (s.model?.loadMs ?? NaN) / 1000)
    const meanLoad = loadS.reduce((a, b) => a + b, 0) / loadS.length
    process.stdout.write(
      `${shards} shard(s): ${results.length} cases in ${wallS.toFixed(1)} s wall → ${((results.length / wallS) * 3600).toFixed(0)} cases/hour; ` +
        `${caseS.toFixed(2)} s per case; model load ${meanLoad.toFixed(3)} s per shard (${loadS.length} load(s)) = ` +
        `${((meanLoad / caseS) * 100).toFixed(1)} % of one case, ${((loadS.reduce((a, b) => a + b, 0) / (wallS * shards)) * 100).toFixed(1)} % of shard time` +
        `${failed > 0 ? `; ${failed} FAILED` : ''}\n`,
    )
    if (failed > 0) process.exitCode = 1
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}

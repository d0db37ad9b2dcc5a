// A worker process that really dies (killed by a signal, as a wasm abort or a segfault would kill
// it) is E_WORKER_CRASHED naming the signal and the file, never a refusal such as E_DECODE. The
// real fork runner and worker from dist/ (fork-runner forks `./worker.js` next to itself), killed
// by pid; and the CLI as a user runs it, its reader worker killed the same way.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { test } from 'node:test'
import type * as ForkRunner from '../../src/jobs/fork-runner.js'
import type * as Errors from '../../src/shared/errors.js'
import { ROOT, fixture } from '../helpers.js'

const BIN = join(ROOT, 'bin', 'volseg.mjs')
const PACKS = join(ROOT, 'test', 'tiny-model', 'packs')

async function dist(): Promise<{ fork: typeof ForkRunner; errors: typeof Errors }> {
  const file = (...p: string[]): string => join(ROOT, 'dist', ...p)
  if (!existsSync(file('jobs', 'worker.js'))) throw new Error('run `npm run build` first')
  const load = async <T>(...p: string[]): Promise<T> =>
    (await import(pathToFileURL(file(...p)).href)) as T
  return {
    fork: await load<typeof ForkRunner>('jobs', 'fork-runner.js'),
    errors: await load<typeof Errors>('shared', 'errors.js'),
  }
}

test('a reader worker killed before it answers is E_WORKER_CRASHED with the signal and file', async () => {
  const { fork, errors } = await dist()
  const file = fixture('ch2.nii.gz')
  const job = fork.startJob({ kind: 'info', input: [file], options: {} }, { timeoutMs: 60_000 })
  assert.ok(job.pid !== undefined)
  // Synchronously after the fork: the worker cannot have answered yet.
  process.kill(job.pid, 'SIGKILL')
  const e = await job.result.then(
    (r) => assert.fail(`the killed worker answered ${JSON.stringify(r)}`),
    (x: unknown) => x,
  )
  assert.ok(e instanceof errors.AppError, String(e))
  assert.equal(e.code, 'E_WORKER_CRASHED')
  assert.equal(e.file, file)
  assert.match(e.message, /^the reader process crashed on ch2\.nii\.gz: it was killed by SIGKILL/)
  assert.deepEqual(e.details, { signal: 'SIGKILL', exitCode: null })
})

test('an inference worker killed mid-job is E_WORKER_CRASHED, not E_INTERNAL', async () => {
  const { fork, errors } = await dist()
  let killed = false
  const job = fork.startJob(
    {
      kind: 'segment',
      spec: {
        cases: [{ id: 'ch2', input: [fixture('ch2.nii.gz')], output: '/nonexistent/x.nii.gz' }],
        model: join(PACKS, 'tiny-unet'),
        ep: 'cpu',
        tta: true,
        skipExisting: false,
      },
    },
    {
      timeoutMs: 120_000,
      // The first inference progress: the model is loaded and tiles are running.
      onEvent: (ev) => {
        if (!killed && ev.kind === 'progress' && ev.stage === 'inference') {
          killed = true
          process.kill(job.pid!, 'SIGKILL')
        }
      },
    },
  )
  const e = await job.result.then(
    (r) => assert.fail(`the worker answered ${JSON.stringify(r).slice(0, 300)}`),
    (x: unknown) => x,
  )
  assert.ok(killed, 'no inference progress before the end')
  assert.ok(e instanceof errors.AppError, String(e))
  assert.equal(e.code, 'E_WORKER_CRASHED')
  assert.match(e.message, /^the inference worker process crashed: it was killed by SIGKILL/)
})

/** Pids of the child processes of `pid` (Linux /proc). */
function children(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
    return text === '' ? [] : text.split(/\s+/).map(Number)
  } catch {
    return []
  }
}

test(
  'volseg info: a crashed reader worker is a clear message and exit code 1',
  { skip: process.platform !== 'linux' && 'needs /proc to find the worker' },
  async () => {
    const file = fixture('ch2.nii.gz')
    const cli = spawn(process.execPath, [BIN, 'info', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    cli.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)))
    let worker: number | undefined
    const t0 = Date.now()
    while (worker === undefined && cli.exitCode === null && Date.now() - t0 < 30_000) {
      worker = children(cli.pid!)[0]
      if (worker === undefined) await new Promise((r) => setTimeout(r, 2))
    }
    assert.ok(worker !== undefined, 'the CLI forked no worker')
    process.kill(worker, 'SIGKILL')
    assert.equal(await exited, 1, stderr)
    assert.match(
      stderr,
      /^volseg: .*ch2\.nii\.gz: the reader process crashed on ch2\.nii\.gz: it was killed by SIGKILL before answering; the file may be damaged/,
    )
  },
)

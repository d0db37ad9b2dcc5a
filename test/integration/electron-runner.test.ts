// The desktop app's job runner logic (electron/main/utility-runner.ts) over a real helper process.
// In the app the process is Electron's utilityProcess (not available here); this test drives the
// same runner through the same HostProcess interface over a forked Node process running the real
// job worker from dist/: a real read, and a real crash that becomes an error value.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHostRunner, type SpawnHost } from '../../electron/main/utility-runner.js'
import { AppError } from '../../src/shared/errors.js'
import { ROOT, fixture } from '../helpers.js'

/** A SpawnHost over `child_process.fork` of `entry`. */
function forkHost(entry: string): SpawnHost {
  return (env) => {
    const child = fork(entry, [], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    })
    return {
      postMessage: (m) => {
        if (child.connected) child.send(m as never)
      },
      kill: () => {
        child.kill('SIGKILL')
      },
      onMessage: (l) => child.on('message', l),
      onExit: (l) => child.once('exit', (code) => l(code ?? 1)),
      onStderr: (l) => child.stderr?.on('data', (d: Buffer) => l(d.toString())),
    }
  }
}

const WORKER = join(ROOT, 'dist', 'jobs', 'worker.js')

test(
  'an open job runs in the helper process and its voxels come back',
  { timeout: 120_000 },
  async () => {
    assert.ok(existsSync(WORKER), 'dist/jobs/worker.js is built (npm run build)')
    const runner = createHostRunner(forkHost(WORKER))
    const job = runner.start(
      { kind: 'open', input: [fixture('ch2.nii.gz')] },
      { timeoutMs: 60_000 },
    )
    const reply = await job.result
    assert.equal(reply.ok, true)
    if (reply.ok && reply.value.kind === 'volume') {
      const [i, j, k] = reply.value.volume.geometry.sizeIJK
      assert.ok(reply.value.volume.voxels.byteLength >= i * j * k)
    } else assert.fail('expected a volume')
    await job.exited
  },
)

test(
  'a helper process that dies becomes E_WORKER_CRASHED, not a dead app',
  { timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'volseg-crash-'))
    const crash = join(dir, 'crash.mjs')
    writeFileSync(
      crash,
      "process.on('message', () => { process.stderr.write('abort\\n'); process.exit(134) })\n",
    )
    const runner = createHostRunner(forkHost(crash))
    const job = runner.start(
      { kind: 'open', input: [fixture('ch2.nii.gz')] },
      { timeoutMs: 30_000 },
    )
    await assert.rejects(job.result, (e: unknown) => {
      assert.ok(e instanceof AppError)
      assert.equal(e.code, 'E_WORKER_CRASHED')
      assert.match(e.message, /code 134/)
      assert.match(e.message, /abort/)
      return true
    })
    const slow = join(dir, 'slow.mjs')
    writeFileSync(slow, "process.on('message', () => setInterval(() => {}, 1000))\n")
    const t = createHostRunner(forkHost(slow)).start(
      { kind: 'open', input: [fixture('ch2.nii.gz')] },
      { timeoutMs: 500 },
    )
    await assert.rejects(t.result, (e: unknown) => e instanceof AppError && e.code === 'E_TIMEOUT')
    const c = createHostRunner(forkHost(slow)).start(
      { kind: 'open', input: [fixture('ch2.nii.gz')] },
      { timeoutMs: 30_000, cancelGraceMs: 100 },
    )
    c.cancel()
    await assert.rejects(
      c.result,
      (e: unknown) => e instanceof AppError && e.code === 'E_CANCELLED',
    )
  },
)

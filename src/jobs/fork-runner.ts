/**
 * Runs one job in a forked worker process with a timeout and a heap cap. A crash, signal or
 * timeout becomes an AppError; nothing from the worker can hang or crash the caller. Events
 * stream back while it runs; `cancel()` asks the worker to stop (it checks between tiles) and
 * kills it if it has not answered within `cancelGraceMs`.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { AppError } from '../shared/errors.js'
import type { SegmentEvent } from '../shared/segment-report.js'
import type { JobReply, JobRequest, JobValue, WorkerMessage } from './job-protocol.js'

export interface ForkOptions {
  /** Wall-clock limit in ms (default 10 minutes). */
  readonly timeoutMs?: number
  /** V8 old-space cap for the worker in MiB (default 8192). */
  readonly maxHeapMb?: number
  /** Streamed progress events. */
  readonly onEvent?: (e: SegmentEvent) => void
  /** How long a cancelled worker may take to stop before it is killed (default 30 s). */
  readonly cancelGraceMs?: number
}

export interface JobHandle<T> {
  readonly result: Promise<JobReply<T>>
  cancel(): void
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url))

export function startJob<K extends JobRequest['kind']>(
  req: Extract<JobRequest, { kind: K }>,
  options: ForkOptions = {},
): JobHandle<JobValue[K]> {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000
  const r = req as JobRequest
  const reads = r.kind === 'info' || r.kind === 'open'
  const file =
    reads && r.input.length === 1 ? r.input[0] : r.kind === 'save-mask' ? r.path : undefined
  const where = file === undefined ? {} : { file }
  const verb = reads ? 'reading' : r.kind === 'save-mask' ? 'saving' : 'segmentation'
  const child = fork(WORKER, [], {
    execArgv: [`--max-old-space-size=${options.maxHeapMb ?? 8192}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  })
  let settled = false
  let killTimer: NodeJS.Timeout | undefined
  let timer: NodeJS.Timeout | undefined
  let cancelled = false
  const result = new Promise<JobReply<JobValue[K]>>((resolvePromise, reject) => {
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000)
    })
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(killTimer)
      fn()
    }
    timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish(() =>
        reject(
          new AppError(
            'E_TIMEOUT',
            `${verb} took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`,
            where,
          ),
        ),
      )
    }, timeoutMs)
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'event') options.onEvent?.(m.event)
      else finish(() => resolvePromise(m.reply as JobReply<JobValue[K]>))
    })
    child.once('error', (e) =>
      finish(() =>
        reject(new AppError('E_INTERNAL', `could not start the worker: ${e.message}`, where)),
      ),
    )
    child.once('exit', (code, signal) => {
      if (cancelled) {
        finish(() => reject(new AppError('E_CANCELLED', `${verb} was cancelled`, where)))
        return
      }
      const oom = /heap out of memory|Allocation failed/i.test(stderr)
      const why = oom
        ? 'ran out of memory'
        : signal
          ? `was killed by ${signal}`
          : `exited with code ${code}`
      finish(() =>
        reject(
          new AppError(
            oom ? 'E_TOO_LARGE' : reads ? 'E_DECODE' : 'E_INTERNAL',
            `the ${reads ? 'reader' : r.kind === 'save-mask' ? 'writer' : 'inference worker'} ${why} before answering`,
            where,
          ),
        ),
      )
    })
    child.send(req)
  })
  return {
    result,
    cancel() {
      if (settled || cancelled) return
      cancelled = true
      if (child.connected) child.send({ kind: 'cancel' })
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.cancelGraceMs ?? 30_000)
    },
  }
}

/** Runs a job to completion (no cancellation). */
export function runJob<K extends JobRequest['kind']>(
  req: Extract<JobRequest, { kind: K }>,
  options: ForkOptions = {},
): Promise<JobReply<JobValue[K]>> {
  return startJob(req, options).result
}

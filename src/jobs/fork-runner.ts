/**
 * Runs one job in a forked worker process with a timeout and a heap cap. A crash, signal or
 * timeout becomes an AppError; nothing from the worker can hang or crash the caller.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { AppError } from '../shared/errors.js'
import type { JobReply, JobRequest } from './job-protocol.js'

export interface ForkOptions {
  /** Wall-clock limit in ms (default 10 minutes). */
  readonly timeoutMs?: number
  /** V8 old-space cap for the worker in MiB (default 8192). */
  readonly maxHeapMb?: number
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url))

export function runJob(req: JobRequest, options: ForkOptions = {}): Promise<JobReply> {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000
  const file = req.input.length === 1 ? req.input[0] : undefined
  const where = file === undefined ? {} : { file }
  return new Promise((resolvePromise, reject) => {
    const child = fork(WORKER, [], {
      execArgv: [`--max-old-space-size=${options.maxHeapMb ?? 8192}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    })
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000)
    })
    let settled = false
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish(() =>
        reject(
          new AppError(
            'E_TIMEOUT',
            `reading took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`,
            where,
          ),
        ),
      )
    }, timeoutMs)
    child.once('message', (reply: JobReply) => finish(() => resolvePromise(reply)))
    child.once('error', (e) =>
      finish(() =>
        reject(new AppError('E_INTERNAL', `could not start the worker: ${e.message}`, where)),
      ),
    )
    child.once('exit', (code, signal) => {
      const oom = /heap out of memory|Allocation failed/i.test(stderr)
      const why = oom
        ? 'ran out of memory'
        : signal
          ? `was killed by ${signal}`
          : `exited with code ${code}`
      finish(() =>
        reject(
          new AppError(
            oom ? 'E_TOO_LARGE' : 'E_DECODE',
            `the reader ${why} before answering`,
            where,
          ),
        ),
      )
    })
    child.send(req)
  })
}

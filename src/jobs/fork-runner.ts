/**
 * Runs one job in a forked worker process with a timeout and a heap cap. A crash, signal or
 * timeout becomes an AppError (E_WORKER_CRASHED, E_TOO_LARGE for a heap exhausted, E_TIMEOUT);
 * nothing from the worker can hang or crash the caller. Events
 * stream back while it runs; `cancel()` asks the worker to stop (it checks between tiles) and
 * kills it if it has not answered within `cancelGraceMs`.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError } from '../shared/errors.js'
import type { SegmentEvent } from '../shared/segment-report.js'
import type { OpenEarly, OpenJobValue, VolumePayload } from '../shared/jobs.js'
import type { JobMessage, JobReply, JobRequest, JobValue, WorkerMessage } from './job-protocol.js'
import { BYTES_PER_PIXEL } from '../shared/volume.js'
import { HandoffReader, dropHandoff, newHandoffPath, takeHandoff } from './voxel-handoff.js'

export interface ForkOptions {
  /** Wall-clock limit in ms (default 10 minutes). */
  readonly timeoutMs?: number
  /** V8 old-space cap for the worker in MiB (default 8192). */
  readonly maxHeapMb?: number
  /** Streamed progress events. */
  readonly onEvent?: (e: SegmentEvent) => void
  /** An early `open` answer (see `RunOptions.onOpenEarly` in src/service/job-runner.ts). */
  readonly onOpenEarly?: (e: OpenEarly) => void
  /** After `onOpenEarly`: the first `readBytes` of its voxels are in. */
  readonly onOpenBytes?: (readBytes: number) => void
  /** How long a cancelled worker may take to stop before it is killed (default 30 s). */
  readonly cancelGraceMs?: number
}

export interface JobHandle<T> {
  readonly result: Promise<JobReply<T>>
  /** The worker's process id (undefined when it could not be started). */
  readonly pid: number | undefined
  /**
   * Settles once the worker process is gone (it exits after its reply; one that lingers
   * {@link EXIT_GRACE_MS} after it is killed). A worker slot is free only then.
   */
  readonly exited: Promise<void>
  cancel(): void
}

/** How long a worker may take to exit after its reply before it is killed. */
export const EXIT_GRACE_MS = 5000

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url))

/** The worker's default V8 old-space cap in MiB. */
const DEFAULT_HEAP_MB = 8192

/**
 * Idle workers forked ahead of need, by heap cap: a worker spends 0.3–1 s loading its modules
 * before it can read a byte, which the first image of a volume would otherwise wait for (issue
 * 14). Each still runs one job and exits; only its start-up moves before the request.
 */
const spares = new Map<number, ChildProcess>()
let sparesWanted = false

/**
 * Keeps one started, idle worker ready (a long-running server: `volseg serve`), or stops doing so
 * and kills the idle ones (`false`). An idle worker never keeps this process alive, and dies
 * with it (parent-watch.ts).
 */
export function keepSpareWorker(on: boolean): void {
  sparesWanted = on
  if (on) {
    refillSpare(DEFAULT_HEAP_MB)
    return
  }
  for (const c of spares.values()) c.kill('SIGKILL')
  spares.clear()
}

function forkWorker(heapMb: number): ChildProcess {
  return fork(WORKER, [], {
    execArgv: [`--max-old-space-size=${heapMb}`],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    serialization: 'advanced',
  })
}

/** Unreferenced handles do not hold the event loop open (an idle spare must not). */
function setHeld(c: ChildProcess, held: boolean): void {
  const handles = [c, c.channel, c.stderr] as (
    { ref?(): void; unref?(): void } | null | undefined
  )[]
  for (const h of handles) {
    if (held) h?.ref?.()
    else h?.unref?.()
  }
}

function refillSpare(heapMb: number): void {
  if (!sparesWanted || spares.has(heapMb)) return
  const c = forkWorker(heapMb)
  setHeld(c, false)
  const forget = (): void => {
    if (spares.get(heapMb) === c) spares.delete(heapMb)
  }
  c.once('exit', forget)
  c.once('error', forget)
  spares.set(heapMb, c)
}

/** The idle spare for `heapMb` when one is alive and connected, else a newly forked worker. */
function takeWorker(heapMb: number): ChildProcess {
  const c = spares.get(heapMb)
  spares.delete(heapMb)
  if (c && c.connected && c.exitCode === null && c.signalCode === null) {
    setHeld(c, true)
    return c
  }
  return forkWorker(heapMb)
}

export function startJob<K extends JobRequest['kind']>(
  req: Extract<JobRequest, { kind: K }>,
  options: ForkOptions = {},
): JobHandle<JobValue[K]> {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000
  const r = req as JobRequest
  const reads = r.kind === 'info' || r.kind === 'open'
  const file =
    reads && r.input.length === 1
      ? r.input[0]
      : r.kind === 'save-mask'
        ? r.path
        : r.kind === 'write-backup'
          ? r.dir
          : undefined
  const where = file === undefined ? {} : { file }
  const writes = r.kind === 'save-mask' || r.kind === 'write-backup'
  const verb = reads
    ? 'reading'
    : writes
      ? 'saving'
      : r.kind === 'export'
        ? 'export'
        : 'segmentation'
  // An opened volume's voxels come back through a private file, not the IPC pipe (issue 14).
  const handoffPath = r.kind === 'open' ? newHandoffPath() : undefined
  const heapMb = options.maxHeapMb ?? DEFAULT_HEAP_MB
  const child = takeWorker(heapMb)
  // Set once the worker answered with its voxels in the handoff file: the parent takes it.
  let taking = false
  // After an early `open` answer: reads the handoff file while the worker still fills it.
  let reader: HandoffReader | undefined
  let settled = false
  let killTimer: NodeJS.Timeout | undefined
  let timer: NodeJS.Timeout | undefined
  let cancelled = false
  const exited = new Promise<void>((resolveExit) => {
    if (child.pid === undefined) resolveExit()
    child.once('exit', () => resolveExit())
    child.once('error', () => {
      if (child.pid === undefined) resolveExit()
    })
  }).then(() => {
    // The worker is gone, so nothing writes the file any more: remove one never taken.
    if (handoffPath !== undefined && !taking) dropHandoff(handoffPath)
    refillSpare(heapMb) // after the job, so the spare's start-up never competes with it
  })
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
      // Failed or cancelled after an early answer: stop reading what the worker left.
      if (!taking) void reader?.close()
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
      if (m.type === 'event') {
        options.onEvent?.(m.event)
        return
      }
      if (m.type === 'open-early') {
        if (handoffPath === undefined || reader !== undefined || m.value.kind !== 'volume') return
        const v = m.value
        const onBytes = (n: number): void => options.onOpenBytes?.(n)
        reader = new HandoffReader(handoffPath, payloadBytes(v.volume), onBytes)
        reader.advance(m.bytes)
        const voxels = reader.buffer
        options.onOpenEarly?.({ value: { ...v, volume: { ...v.volume, voxels } }, readBytes: 0 })
        return
      }
      if (m.type === 'open-bytes') {
        reader?.advance(m.bytes)
        // Every voxel decoded: what is left (final figures, exit) is light, so the next spare
        // starts now, ready for an open that follows at once (a worklist stepping through cases).
        if (reader && m.bytes >= reader.buffer.byteLength) refillSpare(heapMb)
        return
      }
      const opened = m.reply.ok && (m.reply.value as OpenJobValue).kind === 'volume'
      if (handoffPath !== undefined && opened && (m.handoff !== undefined || reader)) {
        taking = true
        clearTimeout(timer) // answered: reading the file back is ours, not the worker's time
        const v = (m.reply as { ok: true; value: OpenJobValue & { kind: 'volume' } }).value
        setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS).unref()
        const voxels = reader
          ? reader.complete(m.handoff === undefined ? v.volume.voxels : undefined)
          : takeHandoff(handoffPath, m.handoff?.byteLength ?? 0)
        voxels.then(
          (bytes) => {
            const value = { ...v, volume: { ...v.volume, voxels: bytes } }
            finish(() => resolvePromise({ ok: true, value } as JobReply<JobValue[K]>))
          },
          (e: unknown) =>
            finish(() =>
              reject(
                new AppError(
                  'E_INTERNAL',
                  `could not take the voxels the reader left: ${(e as Error).message}`,
                  where,
                ),
              ),
            ),
        )
      } else {
        finish(() => resolvePromise(m.reply as JobReply<JobValue[K]>))
        setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS).unref()
      }
    })
    child.on('error', (e) => {
      // A started worker's failed send (EPIPE: it died early) is followed by 'exit', which says
      // how it died; only a worker that never started ends here.
      if (child.pid !== undefined) return
      finish(() =>
        reject(new AppError('E_INTERNAL', `could not start the worker: ${e.message}`, where)),
      )
    })
    child.once('exit', (code, signal) => {
      if (taking) return // answered; the reply settles once its voxels are read
      if (cancelled) {
        finish(() => reject(new AppError('E_CANCELLED', `${verb} was cancelled`, where)))
        return
      }
      const oom = /heap out of memory|Allocation failed/i.test(stderr)
      const who = reads ? 'reader' : writes ? 'writer' : 'inference worker'
      const on = file === undefined ? '' : ` on ${basename(file)}`
      if (oom) {
        finish(() =>
          reject(new AppError('E_TOO_LARGE', `the ${who} ran out of memory${on}`, where)),
        )
        return
      }
      // A crash is not a refusal: it gets its own code, so "the readers never crash" can fail.
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      const hint = reads ? '; the file may be damaged in a way its decoder does not survive' : ''
      const last = lastLine(stderr)
      finish(() =>
        reject(
          new AppError(
            'E_WORKER_CRASHED',
            `the ${who} process crashed${on}: it ${how} before answering${hint}` +
              (last === '' ? '' : ` (last output: ${last})`),
            { ...where, details: { signal, exitCode: code } },
          ),
        ),
      )
    })
    const message: JobMessage = handoffPath === undefined ? r : { ...r, handoffPath }
    child.send(message)
  })
  return {
    result,
    pid: child.pid,
    exited,
    cancel() {
      if (settled || cancelled) return
      cancelled = true
      if (child.connected) child.send({ kind: 'cancel' })
      killTimer = setTimeout(() => child.kill('SIGKILL'), options.cancelGraceMs ?? 30_000)
    },
  }
}

/** Bytes of a payload's voxel grid. */
function payloadBytes(v: VolumePayload): number {
  const [ni, nj, nk] = v.geometry.sizeIJK
  return ni * nj * nk * BYTES_PER_PIXEL[v.dataType]
}

/** The last non-empty line a worker wrote to stderr, shortened (a wasm abort says why there). */
function lastLine(stderr: string): string {
  const line = stderr.trim().split('\n').at(-1)?.trim() ?? ''
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}

/** The value of a worker's reply, or its error thrown again as an {@link AppError} (CLI commands). */
export function replyValue<T>(reply: JobReply<T>): T {
  if (reply.ok) return reply.value
  const e = reply.error
  throw new AppError(e.code, e.message, {
    ...(e.file === undefined ? {} : { file: e.file }),
    details: e.details,
  })
}

/** Runs a job to completion (no cancellation). */
export function runJob<K extends JobRequest['kind']>(
  req: Extract<JobRequest, { kind: K }>,
  options: ForkOptions = {},
): Promise<JobReply<JobValue[K]>> {
  return startJob(req, options).result
}

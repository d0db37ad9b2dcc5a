/**
 * How the service reaches the job worker, without importing `src/jobs` (architecture.md §2): serve and
 * the CLI pass `startJob` from `src/jobs/fork-runner.ts`, Electron main a `utilityProcess` runner.
 */
import type { OpenEarly, ServiceJobRequest, ServiceJobValue, WorkerReply } from '../shared/jobs.js'
import type { SegmentEvent } from '../shared/segment-report.js'

/** Options of one job. */
export interface RunOptions {
  /** Wall-clock limit in ms. */
  readonly timeoutMs?: number
  /** Streamed progress events (segmentation). */
  readonly onEvent?: (e: SegmentEvent) => void
  /** How long a cancelled worker may take to stop before it is killed. */
  readonly cancelGraceMs?: number
  /**
   * An `open` asked for `early`: called at most once, before the reply, with the grid's bytes as
   * they are being filled (a runner that cannot stream never calls it: the reply has it all).
   */
  readonly onOpenEarly?: (e: OpenEarly) => void
  /** After `onOpenEarly`: the first `readBytes` of its voxels are in (ascending, to the end). */
  readonly onOpenBytes?: (readBytes: number) => void
}

/** A started job: its reply (rejects with an `AppError` on crash, timeout, cancel) and a stop. */
export interface RunningJob<T> {
  readonly result: Promise<WorkerReply<T>>
  /** Settles once the worker process is gone; its admission slot is held until then. */
  readonly exited?: Promise<void>
  cancel(): void
}

/** Starts jobs in a worker process; one job per call. */
export interface JobRunner {
  start<K extends ServiceJobRequest['kind']>(
    req: Extract<ServiceJobRequest, { kind: K }>,
    options?: RunOptions,
  ): RunningJob<ServiceJobValue[K]>
}

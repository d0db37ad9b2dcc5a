/**
 * One admission control for the whole service (architecture.md §7): every connection shares the
 * same limits, so many sockets cannot together start dozens of workers, hold more volumes than
 * the cap, or give each segmentation its own share of the machine's memory.
 *
 * - **Workers**: at most `maxWorkers` jobs (open, save, models, segmentation) run at once; more
 *   wait in one FIFO queue of at most `maxQueued`; beyond that a call is refused with `E_BUSY`.
 * - **Segmentations**: at most `maxSegmentations` at once (each also takes a worker); the
 *   memory budget for inference is split between them, never granted to each in full.
 * - **Volumes**: a slot is reserved *before* the open job starts, so concurrent opens cannot race
 *   past `maxVolumes`.
 * - **Held bytes**: volumes, label maps and uncertainty maps held for the UI count against one
 *   `maxHeldBytes`; a result's bytes are reserved before its job starts.
 */
import { availableParallelism, totalmem } from 'node:os'
import { AppError } from '../shared/errors.js'

/** The limits of {@link Admission}; every field has a default sized from the machine. */
export interface AdmissionLimits {
  /** Jobs running at once, all kinds (default: the CPU count, 2–8). */
  readonly maxWorkers: number
  /** Jobs waiting for a worker (default 64). */
  readonly maxQueued: number
  /** Segmentations running at once (default 1: one inference uses every core already). */
  readonly maxSegmentations: number
  /** Volumes held open, all connections together (default 8). */
  readonly maxVolumes: number
  /** Bytes of voxels, labels and uncertainty held for the UI (default 40 % of RAM). */
  readonly maxHeldBytes: number
  /** Memory all running segmentations may plan for together, bytes (default 60 % of RAM). */
  readonly inferenceBudgetBytes: number
}

/** {@link AdmissionLimits} for this machine, with `given` overriding any field. */
export function admissionLimits(given: Partial<AdmissionLimits> = {}): AdmissionLimits {
  const ram = totalmem()
  return {
    maxWorkers: Math.min(8, Math.max(2, availableParallelism())),
    maxQueued: 64,
    maxSegmentations: 1,
    maxVolumes: 8,
    maxHeldBytes: Math.floor(ram * 0.4),
    inferenceBudgetBytes: Math.floor(ram * 0.6),
    ...given,
  }
}

const gib = (n: number): string => `${(n / 2 ** 30).toFixed(2)} GiB`

/** A granted share; `release()` is idempotent. */
export interface Grant {
  release(): void
}

/** A place in the worker queue: resolves once a worker is free; `cancel` leaves the queue. */
export interface Ticket {
  readonly granted: Promise<Grant>
  /** Leaves the queue (rejecting `granted` with `E_CANCELLED`) or, once granted, releases. */
  cancel(): void
  /** Jobs waiting before this one when it was queued; undefined when granted at once. */
  readonly ahead?: number
}

interface Waiter {
  readonly segmentation: boolean
  grant(): void
  reject(e: AppError): void
}

/** What the service holds and runs now (tests, diagnostics). */
export interface AdmissionStats {
  readonly workers: number
  readonly segmentations: number
  readonly queued: number
  readonly volumes: number
  readonly heldBytes: number
}

/** The service's one admission control; see the module comment. */
export class Admission {
  readonly limits: AdmissionLimits
  #workers = 0
  #segmentations = 0
  #volumes = 0
  #heldBytes = 0
  readonly #queue: Waiter[] = []

  constructor(limits: Partial<AdmissionLimits> = {}) {
    this.limits = admissionLimits(limits)
  }

  stats(): AdmissionStats {
    return {
      workers: this.#workers,
      segmentations: this.#segmentations,
      queued: this.#queue.length,
      volumes: this.#volumes,
      heldBytes: this.#heldBytes,
    }
  }

  /** Memory one segmentation may plan for: the budget split between the concurrent ones. */
  segmentationBudgetBytes(): number {
    return Math.floor(this.limits.inferenceBudgetBytes / this.limits.maxSegmentations)
  }

  #fits(segmentation: boolean): boolean {
    if (this.#workers >= this.limits.maxWorkers) return false
    return !segmentation || this.#segmentations < this.limits.maxSegmentations
  }

  #take(segmentation: boolean): Grant {
    this.#workers++
    if (segmentation) this.#segmentations++
    let held = true
    return {
      release: () => {
        if (!held) return
        held = false
        this.#workers--
        if (segmentation) this.#segmentations--
        this.#drain()
      },
    }
  }

  /** Grants waiting jobs in order; a segmentation that cannot run yet lets later opens pass. */
  #drain(): void {
    for (let k = 0; k < this.#queue.length && this.#workers < this.limits.maxWorkers;) {
      const w = this.#queue[k]!
      if (this.#fits(w.segmentation)) {
        this.#queue.splice(k, 1)
        w.grant()
      } else k++
    }
  }

  /**
   * A worker for one job (`segmentation`: also a segmentation slot): granted at once when free,
   * else queued in order. Throws `E_BUSY` when the queue is full.
   */
  worker(what: string, segmentation = false): Ticket {
    if (this.#queue.length === 0 && this.#fits(segmentation)) {
      const g = this.#take(segmentation)
      return { granted: Promise.resolve(g), cancel: () => g.release() }
    }
    if (this.#queue.length >= this.limits.maxQueued) {
      throw new AppError(
        'E_BUSY',
        `the server is busy: ${this.#workers} jobs running and ${this.#queue.length} waiting; ${what} was not started, try again when one finishes`,
      )
    }
    let grant: Grant | undefined
    let settled = false
    let waiter: Waiter | undefined
    const granted = new Promise<Grant>((resolve, reject) => {
      waiter = {
        segmentation,
        grant: () => {
          settled = true
          grant = this.#take(segmentation)
          resolve(grant)
        },
        reject: (e) => {
          settled = true
          reject(e)
        },
      }
    })
    const ahead = this.#queue.length
    this.#queue.push(waiter!)
    return {
      granted,
      ahead,
      cancel: () => {
        if (grant) return grant.release()
        if (settled) return
        const k = this.#queue.indexOf(waiter!)
        if (k >= 0) this.#queue.splice(k, 1)
        waiter!.reject(new AppError('E_CANCELLED', `${what} was cancelled before it started`))
        this.#drain()
      },
    }
  }

  /** Reserves one open-volume slot before an open starts; throws `E_BUSY` at the cap. */
  reserveVolume(): Grant {
    if (this.#volumes >= this.limits.maxVolumes) {
      throw new AppError(
        'E_BUSY',
        `${this.#volumes} volumes are open on this server (the limit is ${this.limits.maxVolumes}); close one first`,
      )
    }
    this.#volumes++
    let held = true
    return {
      release: () => {
        if (held) this.#volumes--
        held = false
      },
    }
  }

  /**
   * Counts `bytes` held for the UI; throws `E_TOO_LARGE` naming `what` when that would pass
   * `maxHeldBytes`. The grant is released when the bytes are dropped.
   */
  holdBytes(bytes: number, what: string): Grant {
    const limit = this.limits.maxHeldBytes
    if (this.#heldBytes + bytes > limit) {
      throw new AppError(
        'E_TOO_LARGE',
        `${what} needs ${gib(bytes)}, but the server already holds ${gib(this.#heldBytes)} of its ${gib(limit)} for open images and label maps; close a volume first`,
      )
    }
    this.#heldBytes += bytes
    let held = true
    return {
      release: () => {
        if (held) this.#heldBytes -= bytes
        held = false
      },
    }
  }

  /** Rejects every waiting job (the service is shutting down). */
  rejectQueued(why: string): void {
    for (const w of this.#queue.splice(0)) w.reject(new AppError('E_CANCELLED', why))
  }
}

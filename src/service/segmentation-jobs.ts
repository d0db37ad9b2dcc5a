/**
 * Segmentation jobs of the service: one worker per job, admitted by the service's one
 * {@link Admission} (a segmentation slot and a worker; the result's bytes reserved up front),
 * worker events mapped to `job:*` {@link ApiEvent}s for the session owning the volume (with an ETA
 * from the inference rate), the result kept as a label map. Every job ends with exactly one of
 * `job:done`, `job:failed`, `job:cancelled`; a job still waiting for a worker says `job:queued`.
 */
import type {
  ApiEvent,
  HeldItems,
  JobId,
  JobState,
  LabelsHeader,
  LabelsId,
  ModelId,
  SessionKey,
  StartSegmentationRequest,
  VolumeId,
} from '../shared/api.js'
import { AppError, toAppError } from '../shared/errors.js'
import type { ModelListEntry, SegmentVolumeJobValue, WorkerReply } from '../shared/jobs.js'
import type { ModelReport, SegmentEvent } from '../shared/segment-report.js'
import type { Admission, Grant } from './admission.js'
import type { Holdings, HeldVolume } from './holdings.js'
import type { JobRunner } from './job-runner.js'
import { modelLabelStats, type LabelStyle } from './label-stats.js'
import { newId } from './new-id.js'

interface HeldJob {
  readonly id: JobId
  readonly volume: HeldVolume
  state: JobState
  cancel: () => void
  labelsId?: LabelsId
  error?: AppError
  /** Its volume was closed: the job is dropped once it has ended. */
  forgotten?: boolean
  /** Cancel was asked for (a job granted a worker meanwhile must not start). */
  stop?: boolean
}

/** What {@link SegmentationJobs} needs from the service. */
export interface SegmentationDeps {
  readonly runner: JobRunner
  readonly admission: Admission
  readonly holdings: Holdings
  /** Sends an event to the connection(s) of session `owner`. */
  readonly emitTo: (owner: SessionKey, e: ApiEvent) => void
  readonly running: Set<{ cancel(): void; result: Promise<unknown> }>
  readonly display: (file: string | undefined) => string | undefined
  readonly timeoutMs: number
}

const noop = (): void => undefined

/** Bytes a result on `v` will hold: labels (1 or 2 bytes a voxel) and a float32 uncertainty. */
function resultBytes(v: HeldVolume, pack: ModelListEntry, uncertainty: boolean): number {
  const n = v.geometry.sizeIJK[0] * v.geometry.sizeIJK[1] * v.geometry.sizeIJK[2]
  const maxValue = Math.max(0, ...pack.card.labels.map((l) => l.value))
  return n * ((maxValue > 255 ? 2 : 1) + (uncertainty ? 4 : 0))
}

/** Starts, tracks and cancels segmentation jobs. */
export class SegmentationJobs {
  private readonly jobs = new Map<JobId, HeldJob>()

  constructor(private readonly d: SegmentationDeps) {}

  /**
   * Starts segmenting `v` with `pack`, or queues it behind the service's limits; events follow;
   * returns the job id at once. Throws `E_BUSY` (queue full) or `E_TOO_LARGE` (the result would
   * not fit the memory held for the UI) before anything starts.
   */
  start(v: HeldVolume, pack: ModelListEntry, req: StartSegmentationRequest): JobId {
    const jobId = newId<JobId>('job')
    const emit = (e: ApiEvent): void => this.d.emitTo(v.owner, e)
    const reserved = this.d.admission.holdBytes(
      resultBytes(v, pack, req.uncertainty === true || req.tta === true),
      `the result of segmenting ${v.name}`,
    )
    let ticket
    try {
      ticket = this.d.admission.worker(`segmenting ${v.name}`, true)
    } catch (e) {
      reserved.release()
      throw e
    }
    const job: HeldJob = {
      id: jobId,
      volume: v,
      state: ticket.ahead === undefined ? 'running' : 'queued',
      cancel: () => {
        job.stop = true
        ticket.cancel()
      },
    }
    this.jobs.set(jobId, job)
    const ahead = ticket.ahead
    // After the answer to startSegmentation: the page learns the job id before its events.
    if (ahead !== undefined) setImmediate(() => emit({ type: 'job:queued', jobId, ahead }))
    ticket.granted.then(
      (worker) => this.run(job, pack, req, emit, worker, reserved),
      (x: unknown) => {
        reserved.release()
        this.failed(job, toAppError(x, 'E_INTERNAL'), emit)
      },
    )
    return jobId
  }

  /** Runs an admitted job in a worker; `worker` and `reserved` are released when it ends. */
  private run(
    job: HeldJob,
    pack: ModelListEntry,
    req: StartSegmentationRequest,
    emit: (e: ApiEvent) => void,
    worker: Grant,
    reserved: Grant,
  ): void {
    const v = job.volume
    const jobId = job.id
    if (job.stop || (job.state !== 'queued' && job.state !== 'running')) {
      worker.release()
      reserved.release()
      this.failed(job, new AppError('E_CANCELLED', 'segmentation was cancelled'), emit)
      if (job.forgotten) this.jobs.delete(jobId)
      return
    }
    job.state = 'running'
    const card = pack.card
    let model: ModelReport | undefined
    let inferStart: number | undefined
    const onEvent = (e: SegmentEvent): void => {
      if (e.kind === 'model') model = e.model
      else if (e.kind === 'plan') {
        emit({
          type: 'job:plan',
          jobId,
          tiles: e.tiles,
          networkRuns: e.networkRuns,
          patch: [1, card.input.channels, ...card.patchSize],
          plannedMemoryBytes: e.plannedMemoryBytes,
        })
      } else if (e.kind === 'progress') {
        let etaSeconds: number | undefined
        if (e.stage === 'inference' && e.total > 0) {
          const now = performance.now()
          inferStart ??= now
          if (e.done > 0) etaSeconds = ((now - inferStart) / 1000 / e.done) * (e.total - e.done)
        }
        emit({
          type: 'job:progress',
          jobId,
          stage: e.stage,
          done: e.done,
          total: e.total,
          ...(etaSeconds === undefined ? {} : { etaSeconds }),
        })
      }
    }
    const handle = this.d.runner.start(
      {
        kind: 'segment-volume',
        volume: { geometry: v.geometry, dataType: v.dataType, voxels: v.bytes },
        modelDir: pack.dir,
        ep: req.provider ?? 'auto',
        tta: req.tta ?? false,
        uncertainty: req.uncertainty ?? false,
        // The service's inference budget is shared by its concurrent segmentations.
        maxBytes: this.d.admission.segmentationBudgetBytes(),
        ...(v.modality === undefined ? {} : { modality: v.modality }),
      },
      { onEvent, timeoutMs: this.d.timeoutMs, cancelGraceMs: 5000 },
    )
    job.cancel = () => {
      job.stop = true
      handle.cancel()
    }
    this.d.running.add(handle)
    const styles: LabelStyle[] = card.labels.map((l) => ({
      value: l.value,
      name: l.name,
      color: l.color,
    }))
    const finish = (reply: WorkerReply<SegmentVolumeJobValue>): void => {
      if (!reply.ok) {
        const e = reply.error
        const file = this.d.display(e.file)
        this.failed(job, new AppError(e.code, e.message, file === undefined ? {} : { file }), emit)
        return
      }
      const r = reply.value
      const labelsId = newId<LabelsId>('lbl')
      const header: LabelsHeader = {
        labelsId,
        volumeId: v.id,
        dataType: r.labelsType,
        sizeIJK: v.geometry.sizeIJK,
        byteLength: r.labels.byteLength,
        labels: modelLabelStats(styles, r.labelVoxels, v.geometry.spacingMm),
        run: {
          jobId,
          modelId: card.id as ModelId,
          provider: r.model.provider,
          device: (model ?? r.model).device,
          timingsMs: r.timingsMs,
          uncertainty: r.uncertaintyKind,
        },
        // The input checked against the card, provider fallbacks, an empty mask (worker side).
        warnings: [...r.warnings],
      }
      const u = r.uncertainty && r.uncertaintyKind !== 'none' ? r.uncertainty : undefined
      // Hold exactly what arrived (never more than was reserved).
      reserved.release()
      const grant = this.d.admission.holdBytes(
        r.labels.byteLength + (u?.bytes.byteLength ?? 0),
        `the result of segmenting ${v.name}`,
      )
      const kept = this.d.holdings.addLabels(v, {
        header,
        bytes: r.labels,
        grant,
        // The map as the model produced it: what an edited copy's export is compared with.
        origin: {
          kind: 'model',
          labelsId,
          run: header.run!,
          dataType: r.labelsType,
          bytes: r.labels,
        },
        ...(u && r.uncertaintyKind !== 'none'
          ? { uncertainty: { bytes: u.bytes, kind: r.uncertaintyKind, range: u.range } }
          : {}),
      })
      if (!kept) {
        this.failed(job, new AppError('E_CANCELLED', 'its volume was closed'), emit)
        return
      }
      v.styles = styles
      job.state = 'done'
      job.labelsId = labelsId
      emit({ type: 'job:done', jobId, labels: header })
    }
    handle.result
      .then(finish, (x: unknown) => this.failed(job, toAppError(x, 'E_INTERNAL'), emit))
      .catch((x: unknown) => this.failed(job, toAppError(x, 'E_INTERNAL'), emit))
      .finally(() => {
        this.d.running.delete(handle)
        reserved.release()
        if (job.forgotten) this.jobs.delete(jobId)
      })
    // The slot stays taken until the worker process is gone, not just until it answered.
    void (handle.exited ?? handle.result.then(noop, noop)).finally(() => worker.release())
  }

  private failed(job: HeldJob, e: AppError, emit: (e: ApiEvent) => void): void {
    if (job.state !== 'running' && job.state !== 'queued') return
    if (job.forgotten && job.state === 'queued') this.jobs.delete(job.id)
    if (e.code === 'E_CANCELLED') {
      job.state = 'cancelled'
      job.error = e
      emit({ type: 'job:cancelled', jobId: job.id })
      return
    }
    job.state = 'failed'
    job.error = e
    const file = this.d.display(e.file)
    emit({
      type: 'job:failed',
      jobId: job.id,
      error: { code: e.code, message: e.message, ...(file === undefined ? {} : { file }) },
    })
  }

  /** Job `jobId` of session `owner`; `E_ARGS` for an unknown (or another session's) id. */
  private job(jobId: JobId, owner: SessionKey): HeldJob {
    const job = this.jobs.get(jobId)
    if (!job || job.volume.owner !== owner || job.forgotten) {
      throw new AppError('E_ARGS', `no job ${jobId}`)
    }
    return job
  }

  /** Asks a job to stop; finished jobs are left alone. Throws `E_ARGS` for an unknown id. */
  cancel(jobId: JobId, owner: SessionKey): void {
    const job = this.job(jobId, owner)
    if (job.state === 'running' || job.state === 'queued') job.cancel()
  }

  /** Cancels the jobs on volume `volumeId` (being closed) and forgets them once they end. */
  forgetVolume(volumeId: VolumeId): void {
    for (const job of [...this.jobs.values()]) {
      if (job.volume.id !== volumeId) continue
      job.forgotten = true
      if (job.state === 'running' || job.state === 'queued') job.cancel()
      else this.jobs.delete(job.id)
    }
  }

  /** The jobs of session `owner`, for `listHeld`. */
  jobsOf(owner: SessionKey): HeldItems['jobs'] {
    return [...this.jobs.values()]
      .filter((j) => j.volume.owner === owner && !j.forgotten)
      .map((j) => ({ jobId: j.id, volumeId: j.volume.id, state: j.state }))
  }

  /** The label map of a finished job; throws `E_ARGS` (running, unknown) or the job's error. */
  labelsOfJob(jobId: JobId, owner: SessionKey): LabelsId {
    const job = this.job(jobId, owner)
    if (job.state === 'running' || job.state === 'queued') {
      throw new AppError('E_ARGS', `job ${jobId} is still running`)
    }
    if (job.labelsId === undefined) {
      throw job.error ?? new AppError('E_ARGS', `job ${jobId} has no result`)
    }
    return job.labelsId
  }
}

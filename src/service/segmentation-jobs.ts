/**
 * Segmentation jobs of the service: one worker per job, worker events mapped to `job:*`
 * {@link ApiEvent}s (with an ETA from the inference rate), the result kept as a label map.
 * Every job ends with exactly one of `job:done`, `job:failed`, `job:cancelled`.
 */
import { randomBytes } from 'node:crypto'
import type {
  ApiEvent,
  JobId,
  LabelsHeader,
  LabelsId,
  ModelId,
  StartSegmentationRequest,
  VolumeId,
} from '../shared/api.js'
import { toAppError } from '../shared/errors.js'
import type { GantryTilt } from '../shared/gantry-tilt.js'
import type { VolumeGeometry } from '../shared/geometry.js'
import type { ModelListEntry, SegmentVolumeJobValue, WorkerReply } from '../shared/jobs.js'
import type { ModelReport, SegmentEvent } from '../shared/segment-report.js'
import type { PixelType } from '../shared/volume.js'
import { AppError } from '../shared/errors.js'
import type { JobRunner } from './job-runner.js'
import { modelLabelStats, type LabelStyle } from './label-stats.js'

/** An open volume as the service holds it. */
export interface HeldVolume {
  readonly id: VolumeId
  readonly source: string
  readonly name: string
  readonly geometry: VolumeGeometry
  readonly dataType: PixelType
  readonly bytes: Uint8Array
  /** Absolute input files: never overwritten by a save. */
  readonly files: readonly string[]
  readonly xformCodes?: { readonly qform_code: number; readonly sform_code: number }
  /** DICOM gantry tilt resampled away on open: the source's sheared geometry, for exports. */
  readonly gantryTilt?: GantryTilt
  /** DICOM Modality of the source (DICOM input): checked against the model card. */
  readonly modality?: string
  /** Label maps on this grid. */
  readonly labels: Set<LabelsId>
  /** Label names and colours of the last model run on this volume (for uploads). */
  styles: readonly LabelStyle[]
}

/** A label map the service holds (a model result or an upload). */
export interface HeldLabels {
  readonly header: LabelsHeader
  readonly bytes: Uint8Array
  readonly uncertainty?: {
    readonly bytes: Uint8Array
    readonly kind: 'entropy' | 'tta-variance'
    readonly range: readonly [number, number]
  }
}

interface HeldJob {
  readonly id: JobId
  readonly volumeId: VolumeId
  state: 'running' | 'done' | 'failed' | 'cancelled'
  cancel: () => void
  labelsId?: LabelsId
  error?: AppError
}

/** What {@link SegmentationJobs} needs from the service. */
export interface SegmentationDeps {
  readonly runner: JobRunner
  readonly emit: (e: ApiEvent) => void
  readonly labels: Map<LabelsId, HeldLabels>
  readonly running: Set<{ cancel(): void; result: Promise<unknown> }>
  readonly display: (file: string | undefined) => string | undefined
  readonly timeoutMs: number
}

const id = <T extends string>(prefix: string): T =>
  `${prefix}_${randomBytes(8).toString('hex')}` as T

/** Starts, tracks and cancels segmentation jobs. */
export class SegmentationJobs {
  private readonly jobs = new Map<JobId, HeldJob>()

  constructor(private readonly d: SegmentationDeps) {}

  /** Starts segmenting `v` with `pack`; events follow; returns the job id at once. */
  start(v: HeldVolume, pack: ModelListEntry, req: StartSegmentationRequest): JobId {
    const jobId = id<JobId>('job')
    const card = pack.card
    let model: ModelReport | undefined
    let inferStart: number | undefined
    const onEvent = (e: SegmentEvent): void => {
      if (e.kind === 'model') model = e.model
      else if (e.kind === 'plan') {
        this.d.emit({
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
        this.d.emit({
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
        ...(v.modality === undefined ? {} : { modality: v.modality }),
      },
      { onEvent, timeoutMs: this.d.timeoutMs, cancelGraceMs: 5000 },
    )
    const job: HeldJob = { id: jobId, volumeId: v.id, state: 'running', cancel: handle.cancel }
    this.jobs.set(jobId, job)
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
        this.failed(job, new AppError(e.code, e.message, file === undefined ? {} : { file }))
        return
      }
      const r = reply.value
      const labelsId = id<LabelsId>('lbl')
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
      const u = r.uncertainty
      this.d.labels.set(labelsId, {
        header,
        bytes: r.labels,
        ...(u && r.uncertaintyKind !== 'none'
          ? { uncertainty: { bytes: u.bytes, kind: r.uncertaintyKind, range: u.range } }
          : {}),
      })
      v.labels.add(labelsId)
      v.styles = styles
      job.state = 'done'
      job.labelsId = labelsId
      this.d.emit({ type: 'job:done', jobId, labels: header })
    }
    handle.result
      .then(finish, (x: unknown) => this.failed(job, toAppError(x, 'E_INTERNAL')))
      .catch((x: unknown) => this.failed(job, toAppError(x, 'E_INTERNAL')))
      .finally(() => this.d.running.delete(handle))
    return jobId
  }

  private failed(job: HeldJob, e: AppError): void {
    if (job.state !== 'running') return
    if (e.code === 'E_CANCELLED') {
      job.state = 'cancelled'
      job.error = e
      this.d.emit({ type: 'job:cancelled', jobId: job.id })
      return
    }
    job.state = 'failed'
    job.error = e
    const file = this.d.display(e.file)
    this.d.emit({
      type: 'job:failed',
      jobId: job.id,
      error: { code: e.code, message: e.message, ...(file === undefined ? {} : { file }) },
    })
  }

  /** Asks a job to stop; finished jobs are left alone. Throws `E_ARGS` for an unknown id. */
  cancel(jobId: JobId): void {
    const job = this.jobs.get(jobId)
    if (!job) throw new AppError('E_ARGS', `no job ${jobId}`)
    if (job.state === 'running') job.cancel()
  }

  /** Cancels every running job on volume `volumeId`. */
  cancelForVolume(volumeId: VolumeId): void {
    for (const job of this.jobs.values()) {
      if (job.volumeId === volumeId && job.state === 'running') job.cancel()
    }
  }

  /** The label map of a finished job; throws `E_ARGS` (running, unknown) or the job's error. */
  labelsOfJob(jobId: JobId): LabelsId {
    const job = this.jobs.get(jobId)
    if (!job) throw new AppError('E_ARGS', `no job ${jobId}`)
    if (job.state === 'running') throw new AppError('E_ARGS', `job ${jobId} is still running`)
    if (job.labelsId === undefined) {
      throw job.error ?? new AppError('E_ARGS', `job ${jobId} has no result`)
    }
    return job.labelsId
  }
}

/**
 * `createService()`: the {@link VolsegApi} over a {@link JobRunner} and two roots: `--data`
 * (read) and `--out` (write). It holds open volumes and label maps as bytes, resolves and
 * confines every path (architecture.md §5, S4/S5), and dispatches all parsing, inference and writing to the
 * job worker, so the process it runs in (serve, Electron main) never blocks its loop on them.
 * Every method resolves to a `Result`; nothing rejects.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, realpath, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import {
  API_VERSION,
  err,
  errorResult,
  ok,
  type ApiEvent,
  type HelloInfo,
  type JobId,
  type JobRequest,
  type LabelsBlock,
  type LabelsHeader,
  type LabelsId,
  type LabelsSelector,
  type ListSourcesRequest,
  type ModelId,
  type ModelSummary,
  type OpenedSource,
  type OpenedVolume,
  type OpenSourceRequest,
  type OpenUploadRequest,
  type ProviderStatus,
  type Result,
  type SaveMaskRequest,
  type SaveReport,
  type SourceListing,
  type SourceRef,
  type StartSegmentationRequest,
  type UncertaintyBlock,
  type UploadLabelsRequest,
  type VolsegApi,
  type VolumeId,
  type VolumeRequest,
  type VoxelBlock,
} from '../shared/api.js'
import { AppError } from '../shared/errors.js'
import type { ModelList, ServiceJobRequest, ServiceJobValue } from '../shared/jobs.js'
import type { JobRunner, RunOptions } from './job-runner.js'
import { printable, refOf, resolveUnder } from './confine.js'
import { listFolder } from './sources.js'
import { countLabels, modelSummary } from './label-stats.js'
import { SegmentationJobs, type HeldLabels, type HeldVolume } from './segmentation-jobs.js'
import { UploadStore, type StoredUpload } from './uploads.js'
import { freeOutName } from './out-names.js'
import { ClientPaths } from './client-paths.js'
import { sweepLeftovers } from './sweep-leftovers.js'

/** Model pre-selected in the UI when installed (the bundled default of `volseg segment`). */
export const DEFAULT_MODEL_ID = 'brain-extract'
/** Sample opened on first start when present directly under `--data`. */
export const SAMPLE_NAME = 'ch2.nii.gz'

/** Options of {@link createService}. */
export interface ServiceOptions {
  /** Folder the UI may browse and open (`--data`). */
  readonly dataRoot: string
  /** Folder masks are written to (`--out`); created when missing. */
  readonly outDir: string
  readonly runner: JobRunner
  /** Limit for one open (parse) job, ms (default 10 minutes). */
  readonly openTimeoutMs?: number
  /** Limit for one segmentation job, ms (default 24 hours). */
  readonly segmentTimeoutMs?: number
  /** Most volumes held open at once (default 8); opening one more is refused. */
  readonly maxVolumes?: number
  /**
   * Folder in which the private folder for dropped files (`openUpload`) is created (default the
   * OS temporary folder); refused when inside `dataRoot`.
   */
  readonly uploadParent?: string
}

/** The API plus what its host needs: event subscription and shutdown. */
export interface VolsegService extends VolsegApi {
  /** Calls `fn` with every {@link ApiEvent}; returns the unsubscribe function. */
  subscribe(fn: (e: ApiEvent) => void): () => void
  /** Cancels running jobs (killing workers after a short grace) and forgets every volume. */
  close(): Promise<void>
}

/** A fresh id: `prefix` + 16 hex digits. */
export function newId<T extends string>(prefix: 'vol' | 'job' | 'lbl'): T {
  return `${prefix}_${randomBytes(8).toString('hex')}` as T
}

async function readAppVersion(): Promise<string> {
  try {
    const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8')
    return (JSON.parse(text) as { version: string }).version
  } catch {
    return '0.0.0'
  }
}

/** Creates the service; resolves the roots (real paths) and creates `--out`. */
export async function createService(o: ServiceOptions): Promise<VolsegService> {
  const dataRoot = await realpath(resolve(o.dataRoot)).catch(() => {
    throw new AppError('E_NOT_FOUND', `the data folder ${o.dataRoot} does not exist`)
  })
  if (!(await stat(dataRoot)).isDirectory()) {
    throw new AppError('E_ARGS', `the data folder ${o.dataRoot} is not a folder`)
  }
  await mkdir(resolve(o.outDir), { recursive: true })
  const outDir = await realpath(resolve(o.outDir))
  // What a crashed VolSeg left in --out and the temporary folder (sweep-leftovers.ts).
  await sweepLeftovers({
    outDir,
    ...(o.uploadParent === undefined ? {} : { uploadParent: o.uploadParent }),
  })
  const appVersion = await readAppVersion()
  const dataRootName = basename(dataRoot)
  const subscribers = new Set<(e: ApiEvent) => void>()
  const volumes = new Map<VolumeId, HeldVolume>()
  const labels = new Map<LabelsId, HeldLabels>()
  const running = new Set<{ cancel(): void; result: Promise<unknown> }>()
  const reservedOut = new Set<string>()
  const uploads = new UploadStore(dataRoot, o.uploadParent)
  const uploaded = new Map<VolumeId, StoredUpload>()
  let models: Promise<Result<ModelList>> | undefined
  let closed = false

  const emit = (e: ApiEvent): void => {
    for (const fn of subscribers) {
      try {
        fn(e)
      } catch {
        // A failing subscriber (a closed socket) must not stop the others.
      }
    }
  }

  // Everything sent to a client names paths relative to --data / --out (client-paths.ts).
  const paths = new ClientPaths([
    { dir: dataRoot, shown: dataRootName },
    { dir: outDir, shown: basename(outDir) },
  ])
  const display = (file: string | undefined): string | undefined => paths.file(file)
  const fail = (x: unknown): Result<never> => paths.result(errorResult(x) as Result<never>)

  /** Runs one job to its reply; crashes, timeouts and worker errors become failed Results. */
  async function run<K extends ServiceJobRequest['kind']>(
    req: Extract<ServiceJobRequest, { kind: K }>,
    options: RunOptions = {},
  ): Promise<Result<ServiceJobValue[K]>> {
    if (closed) return err('E_INTERNAL', 'the service is shutting down')
    const job = o.runner.start(req, { cancelGraceMs: 5000, ...options })
    running.add(job)
    try {
      const reply = await job.result
      if (reply.ok) return ok(reply.value)
      const e = reply.error
      return paths.result(err(e.code, e.message, e.file))
    } catch (x) {
      return fail(x)
    } finally {
      running.delete(job)
    }
  }

  const listing = (): Promise<Result<ModelList>> => {
    models ??= run({ kind: 'models' }, { timeoutMs: 120_000 }).then((r) => {
      if (!r.ok) models = undefined // retry next time
      return r
    })
    return models
  }

  const segmentation = new SegmentationJobs({
    runner: o.runner,
    emit: (e) => emit(paths.event(e)),
    labels,
    running,
    display,
    timeoutMs: o.segmentTimeoutMs ?? 24 * 3600_000,
  })

  const volume = (id: VolumeId): HeldVolume => {
    const v = volumes.get(id)
    if (!v) throw new AppError('E_ARGS', `no open volume ${id} (closed, or never opened)`)
    return v
  }

  const labelsOf = (sel: LabelsSelector): HeldLabels => {
    const id = 'jobId' in sel ? segmentation.labelsOfJob(sel.jobId) : sel.labelsId
    const l = labels.get(id)
    if (!l) throw new AppError('E_ARGS', `no label map ${id}`)
    return l
  }

  /** Wraps a handler so that anything thrown becomes a failed Result. */
  const guard =
    <A, T>(fn: (a: A) => Promise<Result<T>>) =>
    async (a: A): Promise<Result<T>> => {
      try {
        return await fn(a)
      } catch (x) {
        return fail(x)
      }
    }

  async function hello(): Promise<Result<HelloInfo>> {
    const m = await listing()
    const packs = m.ok ? m.value.packs : []
    const ids = packs.map((p) => p.id)
    const defaultModelId = (
      ids.includes(DEFAULT_MODEL_ID) ? DEFAULT_MODEL_ID : (ids[0] ?? null)
    ) as ModelId | null
    const providers: ProviderStatus[] = m.ok
      ? m.value.providers.map((p) => p as ProviderStatus)
      : [{ id: 'cpu', available: true }]
    let sample: SourceRef | null = null
    try {
      if ((await stat(join(dataRoot, SAMPLE_NAME))).isFile()) sample = SAMPLE_NAME as SourceRef
    } catch {
      // no sample
    }
    return ok({
      apiVersion: API_VERSION,
      appVersion,
      dataRootName,
      outDirName: basename(outDir),
      providers,
      defaultModelId,
      sampleSource: sample,
    })
  }

  async function listSources(req: ListSourcesRequest): Promise<Result<SourceListing>> {
    return ok(await listFolder(dataRoot, req.under ?? '', dataRootName))
  }

  async function openSource(req: OpenSourceRequest): Promise<Result<OpenedSource>> {
    const abs = await resolveUnder(dataRoot, req.source, 'source')
    return openPath(abs, req.source, basename(abs), req.seriesKey)
  }

  /**
   * Reads `abs` in a worker and holds the volume as `source`, shown as `base` (plus the series
   * description for DICOM). Shared by `openSource` and `openUpload`.
   */
  async function openPath(
    abs: string,
    source: SourceRef,
    base: string,
    seriesKey?: string,
  ): Promise<Result<OpenedSource>> {
    if (volumes.size >= (o.maxVolumes ?? 8)) {
      return err('E_TOO_LARGE', `${volumes.size} volumes are open; close one first`)
    }
    const r = await run(
      // Detached data files stay under --data (a dropped file has none: uploads.ts refuses them).
      {
        kind: 'open',
        input: [abs],
        confineTo: dataRoot,
        ...(seriesKey === undefined ? {} : { seriesKey }),
      },
      { timeoutMs: o.openTimeoutMs ?? 600_000 },
    )
    if (!r.ok) return r
    const v = r.value
    if (v.kind === 'series-choice') {
      const series = v.series.map((c) => ({ ...c, warnings: c.warnings.map((w) => scrub(w)) }))
      return ok({ kind: 'series-choice', source, series })
    }
    const id = newId<VolumeId>('vol')
    const name = v.seriesDescription ? `${base} (${v.seriesDescription})` : base
    volumes.set(id, {
      id,
      source,
      name,
      geometry: v.volume.geometry,
      dataType: v.volume.dataType,
      bytes: v.volume.voxels,
      files: v.files,
      labels: new Set(),
      styles: [],
      ...(v.xformCodes ? { xformCodes: v.xformCodes } : {}),
      ...(v.gantryTilt ? { gantryTilt: v.gantryTilt } : {}),
      ...(v.modality === undefined ? {} : { modality: v.modality }),
    })
    return ok({
      kind: 'volume',
      volumeId: id,
      source,
      name,
      geometry: v.volume.geometry,
      dataType: v.volume.dataType,
      intensityRange: v.intensityRange,
      percentiles: v.percentiles,
      warnings: v.warnings.map((w) => scrub(w)),
      ...(v.modality === undefined ? {} : { modality: v.modality }),
    })
  }

  /**
   * A dropped file: kept in the private upload folder (never under --data), then read exactly
   * as `openSource` reads a file. Errors name the file as dropped and never show the folder.
   */
  async function openUpload(req: OpenUploadRequest): Promise<Result<OpenedVolume>> {
    if (closed) return err('E_INTERNAL', 'the service is shutting down')
    if (volumes.size >= (o.maxVolumes ?? 8)) {
      return err('E_TOO_LARGE', `${volumes.size} volumes are open; close one first`)
    }
    const shown = printable(req.name)
    const stored = await uploads.store(req.name, req.bytes)
    let r: Result<OpenedSource>
    try {
      r = await openPath(stored.path, `upload:${shown}` as SourceRef, shown)
    } catch (x) {
      r = fail(x)
    }
    // The private copy's folder is never shown; the copy itself goes by the dropped name.
    const asDropped = [
      { dir: stored.path, shown },
      { dir: stored.folder, shown: '' },
    ]
    const hide = (text: string): string => paths.text(text, asDropped)
    if (r.ok && r.value.kind === 'volume') {
      uploaded.set(r.value.volumeId, stored)
      return ok({ ...r.value, warnings: r.value.warnings.map(hide) })
    }
    await uploads.remove(stored)
    if (r.ok) return err('E_UNSUPPORTED', `${shown}: not a single image`, shown)
    const message = hide(r.error.message)
    const text = message.startsWith(`${shown}:`) ? message : `${shown}: ${message}`
    return err(r.error.code, text, shown)
  }

  const scrub = (text: string): string => paths.text(text)

  async function readVoxels(req: VolumeRequest): Promise<Result<VoxelBlock>> {
    const v = volume(req.volumeId)
    return ok({
      volumeId: v.id,
      dataType: v.dataType,
      sizeIJK: v.geometry.sizeIJK,
      byteLength: v.bytes.byteLength,
      bytes: v.bytes,
    })
  }

  async function closeVolume(req: VolumeRequest): Promise<Result<null>> {
    const v = volume(req.volumeId)
    segmentation.cancelForVolume(v.id)
    for (const l of v.labels) labels.delete(l)
    volumes.delete(v.id)
    const u = uploaded.get(v.id)
    uploaded.delete(v.id)
    if (u) await uploads.remove(u)
    return ok(null)
  }

  async function listModels(): Promise<Result<readonly ModelSummary[]>> {
    models = undefined // packs may have been installed meanwhile
    const m = await listing()
    return m.ok ? ok(m.value.packs.map(modelSummary)) : m
  }

  async function startSegmentation(
    req: StartSegmentationRequest,
  ): Promise<Result<{ readonly jobId: JobId }>> {
    if (closed) return err('E_INTERNAL', 'the service is shutting down')
    const v = volume(req.volumeId)
    const m = await listing()
    if (!m.ok) return m
    const pack = m.value.packs.find((p) => p.id === req.modelId)
    if (!pack) {
      const known = m.value.packs.map((p) => p.id).join(', ') || 'none installed'
      return err('E_MODEL', `no model pack "${req.modelId}" (installed: ${known})`)
    }
    return ok({ jobId: segmentation.start(v, pack, req) })
  }

  async function cancelJob(req: JobRequest): Promise<Result<null>> {
    segmentation.cancel(req.jobId)
    return ok(null)
  }

  async function readLabels(req: LabelsSelector): Promise<Result<LabelsBlock>> {
    const l = labelsOf(req)
    return ok({ ...l.header, bytes: l.bytes })
  }

  async function readUncertainty(req: LabelsSelector): Promise<Result<UncertaintyBlock>> {
    const l = labelsOf(req)
    const u = l.uncertainty
    if (!u) {
      return err('E_ARGS', `label map ${l.header.labelsId} was computed without uncertainty`)
    }
    return ok({
      labelsId: l.header.labelsId,
      dataType: 'float32',
      sizeIJK: l.header.sizeIJK,
      byteLength: u.bytes.byteLength,
      kind: u.kind,
      range: u.range,
      bytes: u.bytes,
    })
  }

  async function uploadLabels(req: UploadLabelsRequest): Promise<Result<LabelsHeader>> {
    const v = volume(req.volumeId)
    if (req.sizeIJK.some((n, k) => n !== v.geometry.sizeIJK[k])) {
      return err(
        'E_ARGS',
        `labels of ${req.sizeIJK.join('×')} voxels do not fit the volume's ${v.geometry.sizeIJK.join('×')} grid`,
      )
    }
    // Own copy: the request's bytes are a view into a received network frame.
    const bytes = req.bytes.slice()
    const id = newId<LabelsId>('lbl')
    const header: LabelsHeader = {
      labelsId: id,
      volumeId: v.id,
      dataType: req.dataType,
      sizeIJK: v.geometry.sizeIJK,
      byteLength: bytes.byteLength,
      labels: countLabels(bytes, req.dataType, v.geometry.spacingMm, v.styles),
      warnings: [],
    }
    labels.set(id, { header, bytes })
    v.labels.add(id)
    return ok(header)
  }

  async function saveMask(req: SaveMaskRequest): Promise<Result<SaveReport>> {
    const v = volume(req.volumeId)
    const l = labels.get(req.labelsId)
    if (!l || l.header.volumeId !== v.id) {
      return err('E_ARGS', `no label map ${req.labelsId} on volume ${v.id}`)
    }
    const { path, stem, n } = await freeOutName(outDir, req.name, reservedOut)
    reservedOut.add(path)
    try {
      const r = await run(
        {
          kind: 'save-mask',
          path,
          nextFree: { stem, from: n },
          geometry: v.geometry,
          dataType: l.header.dataType,
          labels: l.bytes,
          sourceFiles: v.files,
          descrip: l.header.run ? `VolSeg ${l.header.run.modelId}` : 'VolSeg edited mask',
          ...(v.xformCodes ? { xformCodes: v.xformCodes } : {}),
        },
        { timeoutMs: 600_000 },
      )
      if (!r.ok) return r
      return ok({
        path: refOf(outDir, r.value.path),
        bytes: r.value.bytes,
        verification: r.value.verification,
      })
    } finally {
      reservedOut.delete(path)
    }
  }

  return {
    hello: guard(hello),
    listSources: guard(listSources),
    openSource: guard(openSource),
    openUpload: guard(openUpload),
    readVoxels: guard(readVoxels),
    closeVolume: guard(closeVolume),
    listModels: guard(listModels),
    startSegmentation: guard(startSegmentation),
    cancelJob: guard(cancelJob),
    readLabels: guard(readLabels),
    readUncertainty: guard(readUncertainty),
    uploadLabels: guard(uploadLabels),
    saveMask: guard(saveMask),
    subscribe(fn) {
      subscribers.add(fn)
      return () => subscribers.delete(fn)
    },
    async close() {
      closed = true
      for (const j of running) j.cancel()
      await Promise.allSettled([...running].map((j) => j.result))
      volumes.clear()
      labels.clear()
      uploaded.clear()
      await uploads.close()
      subscribers.clear()
    },
  }
}

/**
 * `createService()`: the {@link VolsegApi} over a {@link JobRunner} and two roots: `--data`
 * (read) and `--out` (write). Each connection gets a session (`openSession`) that holds what it
 * opened (architecture.md §7, `sessions.ts`); one {@link Admission} bounds workers, volumes and
 * held memory for all of them. It resolves and confines every path (architecture.md §5, S4/S5)
 * and dispatches all parsing, inference and writing to the job worker, so the process it runs in
 * (serve, Electron main) never blocks its loop on them. Every method resolves to a `Result`.
 */
import { mkdir, realpath, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import {
  API_METHODS,
  API_VERSION,
  err,
  errorResult,
  ok,
  type ApiEvent,
  type ApiMethod,
  type ApiRequest,
  type ApiValue,
  type HeldItems,
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
  type ReadVoxelsRequest,
  type ResumeSessionRequest,
  type SaveMaskRequest,
  type SaveReport,
  type SessionKey,
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
import { BYTES_PER_PIXEL } from '../shared/volume.js'
import { BackupStore, backupHandlers } from './backups.js'
import type { ModelList, ServiceJobRequest, ServiceJobValue } from '../shared/jobs.js'
import { Admission, type AdmissionLimits, type AdmissionStats, type Grant } from './admission.js'
import { ClientPaths } from './client-paths.js'
import { printable, refOf, resolveUnder } from './confine.js'
import { Holdings, originOf, type HeldLabels } from './holdings.js'
import { heldForWrite } from './held-for-write.js'
import type { JobRunner, RunOptions } from './job-runner.js'
import { countLabels, modelSummary } from './label-stats.js'
import { newId } from './new-id.js'
import { exportLabelsHandler } from './export-labels.js'
import { saveSnapshotHandler } from './save-snapshot.js'
import { readAppVersion } from './app-version.js'
import { freeOutName } from './out-names.js'
import { reviewFileName } from '../shared/review-file.js'
import { SegmentationJobs } from './segmentation-jobs.js'
import { Sessions, type SessionState } from './sessions.js'
import { listFolder } from './sources.js'
import { openLabelsHandler, openMaskOnto, type OpenLabelsDeps } from './open-labels.js'
import { cohortHandlers, type ServedCohort } from './cohort-worklist.js'
import { sweepLeftovers } from './sweep-leftovers.js'
import { UploadStore } from './uploads.js'
import { openPathFor } from './open-path.js'

/** Model pre-selected in the UI when installed (the bundled default of `volseg segment`). */
export const DEFAULT_MODEL_ID = 'brain-extract'
/** Sample opened on first start when present directly under `--data`. */
export const SAMPLE_NAME = 'ch2.nii.gz'
/** How long a closed connection's holdings wait for a reloaded page to resume them, ms. */
export const DEFAULT_SESSION_GRACE_MS = 20_000

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
  /** Limits shared by every connection (defaults: {@link Admission}). */
  readonly limits?: Partial<AdmissionLimits>
  /** Grace period of a closed connection's session, ms ({@link DEFAULT_SESSION_GRACE_MS}). */
  readonly sessionGraceMs?: number
  /**
   * Folder in which the private folder for dropped files (`openUpload`) is created (default the
   * OS temporary folder); refused when inside `dataRoot`.
   */
  readonly uploadParent?: string
  /**
   * Folder of the backups of unsaved edits and the unclean-exit marker (`backups.ts`); refused
   * when inside `dataRoot` or `outDir`. Absent: no backups are kept.
   */
  readonly recoveryDir?: string
  /**
   * The desktop app's file grants (`electron/main/grants.ts`): an opaque ref a native dialog
   * issued resolves to the chosen path and the folder its detached files must stay in; any other
   * ref (undefined here) is resolved under `dataRoot` as in serve mode.
   */
  readonly grants?: {
    resolve(ref: string): { readonly path: string; readonly confineTo: string } | undefined
  }
  /**
   * The cohort whose review worklist this service serves (`volseg serve --cohort`, prepared by
   * `prepareCohortWorklist`): its cases open by id, reviews are saved into its `masks/`.
   */
  readonly cohort?: ServedCohort
}

/** The API as one connection sees it, plus its events and its end. */
export interface ServiceSession extends VolsegApi {
  readonly key: SessionKey
  /** Calls `fn` with every {@link ApiEvent} of this session; returns the unsubscribe function. */
  subscribe(fn: (e: ApiEvent) => void): () => void
  /** The connection ended: what it holds is closed after the grace period unless resumed. */
  detach(): void
}

/** What the service holds and runs now (tests, diagnostics). */
export interface ServiceStats extends AdmissionStats {
  readonly sessions: number
  readonly detachedSessions: number
}

/** The service: one session per connection, and shutdown. */
export interface VolsegService {
  /** A new session for a new connection. */
  openSession(): ServiceSession
  stats(): ServiceStats
  /** Cancels running jobs (killing workers after a short grace) and forgets every volume. */
  close(): Promise<void>
}

/** Handlers of every API method, given the calling session. */
type Handlers = {
  readonly [M in ApiMethod]: (s: SessionState, req: ApiRequest<M>) => Promise<Result<ApiValue<M>>>
}

const noop = (): void => undefined

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
  const backups =
    o.recoveryDir === undefined
      ? undefined
      : await BackupStore.open({ dir: o.recoveryDir, dataRoot, outDir })
  const appVersion = await readAppVersion()
  const dataRootName = basename(dataRoot)
  const admission = new Admission(o.limits)
  const holdings = new Holdings()
  const running = new Set<{ cancel(): void; result: Promise<unknown> }>()
  const reservedOut = new Set<string>()
  const uploads = new UploadStore(dataRoot, o.uploadParent)
  let models: Promise<Result<ModelList>> | undefined
  let closed = false

  // Everything sent to a client names paths relative to --data / --out (client-paths.ts).
  const paths = new ClientPaths([
    { dir: dataRoot, shown: dataRootName },
    { dir: outDir, shown: basename(outDir) },
    ...(o.cohort ? [{ dir: o.cohort.dir, shown: o.cohort.name }] : []),
  ])
  const display = (file: string | undefined): string | undefined => paths.file(file)
  const fail = (x: unknown): Result<never> => paths.result(errorResult(x) as Result<never>)
  const scrub = (text: string): string => paths.text(text)

  /**
   * Runs one job to its reply on a worker the admission control grants (`what` names it in an
   * `E_BUSY` refusal); crashes, timeouts and worker errors become failed Results.
   */
  async function run<K extends ServiceJobRequest['kind']>(
    req: Extract<ServiceJobRequest, { kind: K }>,
    options: RunOptions,
    what: string,
    onStart?: (job: { cancel(): void }) => void,
  ): Promise<Result<ServiceJobValue[K]>> {
    if (closed) return err('E_INTERNAL', 'the service is shutting down')
    let worker: Grant | undefined
    try {
      worker = await admission.worker(what).granted
      if (closed) return err('E_INTERNAL', 'the service is shutting down')
      const job = o.runner.start(req, { cancelGraceMs: 5000, ...options })
      running.add(job)
      onStart?.(job)
      // The slot stays taken until the worker process is gone, not just until it answered.
      const slot = worker
      worker = undefined
      void (job.exited ?? job.result.then(noop, noop)).finally(() => slot.release())
      try {
        const reply = await job.result
        if (reply.ok) return ok(reply.value)
        const e = reply.error
        return paths.result(err(e.code, e.message, e.file))
      } finally {
        running.delete(job)
      }
    } catch (x) {
      return fail(x)
    } finally {
      worker?.release()
    }
  }

  const listing = (): Promise<Result<ModelList>> => {
    models ??= run({ kind: 'models' }, { timeoutMs: 120_000 }, 'listing the models').then((r) => {
      if (!r.ok) models = undefined // retry next time
      return r
    })
    return models
  }

  /** Forgets volume `id`: cancels its jobs, drops its label maps and its dropped-file copy. */
  const closeHeld = async (id: VolumeId): Promise<void> => {
    segmentation.forgetVolume(id)
    const v = holdings.drop(id)
    if (v?.upload) await uploads.remove(v.upload)
  }

  const sessions = new Sessions(o.sessionGraceMs ?? DEFAULT_SESSION_GRACE_MS, {
    release: (key) => {
      for (const v of holdings.ownedBy(key)) void closeHeld(v.id)
    },
    transfer: (from, to) => {
      for (const v of holdings.ownedBy(from)) v.owner = to
    },
  })

  const segmentation = new SegmentationJobs({
    runner: o.runner,
    admission,
    holdings,
    emitTo: (owner, e) => sessions.emitTo(owner, paths.event(e)),
    running,
    display,
    timeoutMs: o.segmentTimeoutMs ?? 24 * 3600_000,
  })

  const labelsOf = (s: SessionState, sel: LabelsSelector): HeldLabels => {
    const id = 'jobId' in sel ? segmentation.labelsOfJob(sel.jobId, s.key) : sel.labelsId
    return holdings.labels(id, s.key)
  }

  const held = (s: SessionState): HeldItems => ({
    volumes: holdings.items(s.key),
    jobs: segmentation.jobsOf(s.key),
  })

  async function hello(s: SessionState): Promise<Result<HelloInfo>> {
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
      // A cohort's reviewer starts from the worklist, not the sample.
      const st = o.cohort ? undefined : await stat(join(dataRoot, SAMPLE_NAME))
      if (st?.isFile()) sample = SAMPLE_NAME as SourceRef
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
      session: { key: s.key, graceSeconds: Math.round(sessions.graceMs / 1000) },
      ...(o.cohort
        ? { cohort: { name: o.cohort.name, cases: o.cohort.manifest.cases.length } }
        : {}),
    })
  }

  const openPath = openPathFor({
    admission,
    holdings,
    sessions,
    dataRoot,
    openTimeoutMs: o.openTimeoutMs ?? 600_000,
    scrub,
    run,
    closeHeld,
  })

  /**
   * A dropped file: kept in the private upload folder (never under --data), then read exactly
   * as `openSource` reads a file. Errors name the file as dropped and never show the folder.
   */
  async function openUpload(
    s: SessionState,
    req: OpenUploadRequest,
  ): Promise<Result<OpenedVolume>> {
    if (closed) return err('E_INTERNAL', 'the service is shutting down')
    const shown = printable(req.name)
    const stored = await uploads.store(req.name, req.bytes)
    // The private copy's folder is never shown; the copy itself goes by the dropped name.
    const asDropped = [
      { dir: stored.path, shown },
      { dir: stored.folder, shown: '' },
    ]
    const hide = (text: string): string => paths.text(text, asDropped)
    let r: Result<OpenedSource>
    try {
      r = await openPath(s, stored.path, `upload:${shown}` as SourceRef, shown, {
        upload: stored,
        hide,
      })
    } catch (x) {
      r = fail(x)
    }
    if (r.ok && r.value.kind === 'volume') return ok(r.value)
    await uploads.remove(stored)
    if (r.ok) return err('E_UNSUPPORTED', `${shown}: not a single image`, shown)
    const message = hide(r.error.message)
    const text = message.startsWith(`${shown}:`) ? message : `${shown}: ${message}`
    return err(r.error.code, text, shown)
  }

  async function uploadLabels(
    s: SessionState,
    req: UploadLabelsRequest,
  ): Promise<Result<LabelsHeader>> {
    const v = holdings.volume(req.volumeId, s.key)
    if (req.sizeIJK.some((n, k) => n !== v.geometry.sizeIJK[k])) {
      return err(
        'E_ARGS',
        `labels of ${req.sizeIJK.join('×')} voxels do not fit the volume's ${v.geometry.sizeIJK.join('×')} grid`,
      )
    }
    // Counted before the copy: uploads are bounded by the memory held for every connection.
    const grant = admission.holdBytes(req.bytes.byteLength, `a label map for ${v.name}`)
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
    holdings.addLabels(v, { header, bytes, grant, origin: originOf(holdings, v, req.derivedFrom) })
    return ok(header)
  }

  /**
   * `saveMask` into `target.dir` (default `--out`), the name numbered from `target.from`, paths
   * in the report relative to `target.root`; a cohort case's save goes into the cohort's `masks/`.
   */
  async function saveMask(
    s: SessionState,
    req: SaveMaskRequest,
    target: { dir: string; root: string; from: number } = { dir: outDir, root: outDir, from: 0 },
  ): Promise<Result<SaveReport>> {
    const held = heldForWrite(holdings, s, req, 'save')
    if (!held.ok) return held
    const { v, l, review } = held.value
    const { path, stem, n } = await freeOutName(
      target.dir,
      req.name,
      reservedOut,
      review ? reviewFileName : undefined,
      target.from,
    )
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
          ...(review ? { review } : {}),
        },
        { timeoutMs: 600_000 },
        `saving ${req.name}`,
      )
      if (!r.ok) return r
      // Saved and verified: the backup of these edits has served its purpose.
      await backups?.discard(v).catch(() => undefined)
      return ok({
        path: refOf(target.root, r.value.path),
        bytes: r.value.bytes,
        verification: r.value.verification,
        ...(r.value.reviewPath === undefined
          ? {}
          : { reviewPath: refOf(target.root, r.value.reviewPath) }),
      })
    } finally {
      reservedOut.delete(path)
    }
  }

  // Reading a mask as labels (openLabels, a restored backup, a cohort case's mask).
  const maskDeps: Omit<OpenLabelsDeps, 'roots'> = {
    holdings,
    admission,
    open: (req, what) => run(req, { timeoutMs: o.openTimeoutMs ?? 600_000 }, what),
  }

  const handlers: Handlers = {
    hello: (s) => hello(s),
    listSources: async (_s, req: ListSourcesRequest): Promise<Result<SourceListing>> =>
      ok(
        req.root === 'out'
          ? await listFolder(outDir, req.under ?? '', basename(outDir))
          : await listFolder(dataRoot, req.under ?? '', dataRootName),
      ),
    openSource: async (s, req: OpenSourceRequest) => {
      const granted = o.grants?.resolve(req.source)
      const gone = (): never => {
        throw new AppError('E_NOT_FOUND', 'the chosen file or folder is no longer there')
      }
      const abs = granted
        ? await realpath(granted.path).catch(gone)
        : await resolveUnder(dataRoot, req.source, 'source')
      return openPath(s, abs, req.source, basename(abs), {
        ...(req.seriesKey === undefined ? {} : { seriesKey: req.seriesKey }),
        ...(granted ? { confineTo: await realpath(granted.confineTo).catch(gone) } : {}),
      })
    },
    openUpload,
    readVoxels: async (s, req: ReadVoxelsRequest): Promise<Result<VoxelBlock>> => {
      const v = holdings.volume(req.volumeId, s.key)
      const [ni, nj, nk] = v.geometry.sizeIJK
      const { firstK, countK } = req.slab ?? { firstK: 0, countK: nk }
      if (firstK + countK > nk) {
        return err(
          'E_ARGS',
          `slices ${firstK}–${firstK + countK - 1} are outside ${v.name}'s ${nk}`,
        )
      }
      // A view of the held bytes: slices are contiguous (i fastest, then j, then k).
      const sliceBytes = ni * nj * BYTES_PER_PIXEL[v.dataType]
      // Answered early: slices not read yet are waited for (or the reader's failure answered).
      const there = await v.loading?.until((firstK + countK) * sliceBytes)
      if (there && !there.ok) return there
      const bytes = v.bytes.subarray(firstK * sliceBytes, (firstK + countK) * sliceBytes)
      return ok({
        volumeId: v.id,
        dataType: v.dataType,
        sizeIJK: v.geometry.sizeIJK,
        byteLength: bytes.byteLength,
        firstK,
        countK,
        bytes,
      })
    },
    awaitWhole: async (s, req: VolumeRequest): Promise<Result<OpenedVolume>> => {
      const v = holdings.volume(req.volumeId, s.key)
      return v.loading ? await v.loading.whole() : ok(v.opened)
    },
    closeVolume: async (s, req: VolumeRequest) => {
      await closeHeld(holdings.volume(req.volumeId, s.key).id)
      return ok(null)
    },
    listHeld: async (s) => ok(held(s)),
    resumeSession: async (s, req: ResumeSessionRequest) => {
      await sessions.resume(s, req.key)
      return ok(held(s))
    },
    listModels: async (): Promise<Result<readonly ModelSummary[]>> => {
      models = undefined // packs may have been installed meanwhile
      const m = await listing()
      return m.ok ? ok(m.value.packs.map(modelSummary)) : m
    },
    startSegmentation: async (
      s,
      req: StartSegmentationRequest,
    ): Promise<Result<{ readonly jobId: JobId }>> => {
      if (closed) return err('E_INTERNAL', 'the service is shutting down')
      const v = holdings.volume(req.volumeId, s.key)
      // A volume still being read is segmented once it is whole (never half of it).
      const whole = await v.loading?.whole()
      if (whole && !whole.ok) return whole
      const m = await listing()
      if (!m.ok) return m
      const pack = m.value.packs.find((p) => p.id === req.modelId)
      if (!pack) {
        const known = m.value.packs.map((p) => p.id).join(', ') || 'none installed'
        return err('E_MODEL', `no model pack "${req.modelId}" (installed: ${known})`)
      }
      return ok({ jobId: segmentation.start(v, pack, req) })
    },
    cancelJob: async (s, req: JobRequest) => {
      segmentation.cancel(req.jobId, s.key)
      return ok(null)
    },
    readLabels: async (s, req: LabelsSelector): Promise<Result<LabelsBlock>> => {
      const l = labelsOf(s, req)
      return ok({ ...l.header, bytes: l.bytes })
    },
    readUncertainty: async (s, req: LabelsSelector): Promise<Result<UncertaintyBlock>> => {
      const l = labelsOf(s, req)
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
    },
    uploadLabels,
    saveMask,
    exportLabels: exportLabelsHandler({
      holdings,
      outDir,
      scrub,
      exportJob: (req, what) => run(req, { timeoutMs: 600_000 }, what),
    }),
    saveSnapshot: saveSnapshotHandler({
      holdings,
      outDir,
      snapshotJob: (req, what) => run(req, { timeoutMs: 120_000 }, what),
    }),
    openLabels: openLabelsHandler({ roots: { data: dataRoot, out: outDir }, ...maskDeps }),
    ...cohortHandlers(o.cohort, {
      holdings,
      scrub,
      openImage: openPath,
      openMask: (s, volumeId, root, abs) => openMaskOnto(maskDeps, s, volumeId, root, abs),
      saveMask,
      updateReport: (dir) =>
        run({ kind: 'cohort-reviews', dir }, { timeoutMs: 120_000 }, 'writing the cohort report'),
    }),
    ...backupHandlers(backups, {
      holdings,
      admission,
      write: (req, what) => run(req, { timeoutMs: 120_000 }, what),
      open: maskDeps.open,
    }),
  }

  return {
    openSession(): ServiceSession {
      const s = sessions.open()
      const api = {} as Record<ApiMethod, (req: unknown) => Promise<Result<unknown>>>
      for (const m of Object.keys(API_METHODS) as ApiMethod[]) {
        const h = handlers[m] as (s: SessionState, req: unknown) => Promise<Result<unknown>>
        // Anything thrown becomes a failed Result; a detached session answers nothing more.
        api[m] = async (req: unknown) => {
          try {
            if (!s.attached) return err('E_ARGS', 'this connection has ended')
            return await h(s, req)
          } catch (x) {
            return fail(x)
          }
        }
      }
      return {
        ...(api as unknown as VolsegApi),
        key: s.key,
        subscribe(fn) {
          s.subscribers.add(fn)
          return () => s.subscribers.delete(fn)
        },
        detach: () => sessions.detach(s),
      }
    },
    stats(): ServiceStats {
      const c = sessions.count()
      return { ...admission.stats(), sessions: c.attached, detachedSessions: c.detached }
    },
    async close() {
      closed = true
      admission.rejectQueued('the service is shutting down')
      for (const j of running) j.cancel()
      await Promise.allSettled([...running].map((j) => j.result))
      sessions.releaseAll()
      await uploads.close()
      await backups?.close()
    },
  }
}

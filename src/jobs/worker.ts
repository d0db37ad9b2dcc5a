/**
 * Entry of the forked job worker. Parsing and inference run here, not in the CLI or server
 * process, so a wasm abort, a heap exhaustion or a hang kills only this process, and
 * onnxruntime's blocking `run` never stalls a UI or server loop.
 */
import { AppError, toAppError } from '../shared/errors.js'
import type { OpenJobValue } from '../shared/jobs.js'
import type {
  JobControlMessage,
  JobMessage,
  JobReply,
  JobRequest,
  WorkerMessage,
} from './job-protocol.js'
import { runCohortStatsJob } from './cohort-case-stats.js'
import { updateCohortReviews } from './cohort-report.js'
import { runBackupJob } from './backup-job.js'
import { runExportJob } from './export-job.js'
import { runSnapshotJob } from './snapshot-job.js'
import { runInfo } from './info-job.js'
import { runSegmentJob } from './segment-job.js'
import { runOpenJob, runSaveMaskJob, runSegmentVolumeJob, type OpenSink } from './volume-jobs.js'
import { addModelPack, listModelPacks, modelDirs } from '../inference/ort/model-store.js'
import { providerStatus } from '../inference/ort/providers.js'
import { removeTempFilesSync, setPublishGuard } from '../io/atomic-write.js'
import { parentGone, watchParent } from './parent-watch.js'
import { HandoffWriter, type VoxelHandoff } from './voxel-handoff.js'

let cancelled = false
let started = false

// The parent is gone: nobody will read the answer, so stop now and leave no temp file behind.
const orphaned = (): void => {
  cancelled = true
  removeTempFilesSync()
  process.exit(1)
}
watchParent(orphaned)
// Between tiles and before any file is published: a parent that died while this thread was
// blocked (no 'disconnect' handler could run) stops the job there.
const stopped = (): boolean => cancelled || parentGone()
setPublishGuard(() => {
  if (parentGone()) throw new AppError('E_CANCELLED', 'the process that started this job is gone')
})

const send = (m: WorkerMessage, then: () => void = () => undefined): void => {
  process.send?.(m, then)
}

async function handle(req: JobRequest): Promise<JobReply> {
  try {
    switch (req.kind) {
      case 'info':
        return { ok: true, value: await runInfo(req.input, req.options) }
      case 'models': {
        const { packs, problems } = await listModelPacks()
        return {
          ok: true,
          value: { packs, problems, searched: modelDirs(), providers: providerStatus() },
        }
      }
      case 'add-model':
        return { ok: true, value: await addModelPack(req.dir) }
      case 'segment':
        return {
          ok: true,
          value: await runSegmentJob(req.spec, {
            emit: (event) => send({ type: 'event', event }),
            isCancelled: stopped,
          }),
        }
      case 'open':
        return { ok: true, value: await runOpenJob(req, openSink(req)) }
      case 'segment-volume':
        return {
          ok: true,
          value: await runSegmentVolumeJob(req, {
            emit: (event) => send({ type: 'event', event }),
            isCancelled: stopped,
          }),
        }
      case 'save-mask':
        return { ok: true, value: await runSaveMaskJob(req) }
      case 'write-backup':
        return { ok: true, value: await runBackupJob(req) }
      case 'cohort-stats':
        return { ok: true, value: await runCohortStatsJob(req) }
      case 'cohort-reviews':
        return { ok: true, value: await updateCohortReviews(req.dir) }
      case 'export':
        return { ok: true, value: await runExportJob(req.spec) }
      case 'snapshot':
        return { ok: true, value: await runSnapshotJob(req.spec) }
    }
  } catch (e) {
    const err = toAppError(e, 'E_INTERNAL')
    return { ok: false, error: err.toJSON() }
  }
}

/** The handoff file of this worker's `open` job (none for other jobs). */
let handoff: HandoffWriter | undefined

/**
 * An early-answering open's sink: decoded bytes go to the handoff file as they come, each step
 * announced to the parent, which reads it meanwhile (no sink without a handoff file).
 */
function openSink(req: JobMessage & { kind: 'open' }): OpenSink | undefined {
  const w = handoff
  if (!req.early || !w) return undefined
  return {
    voxels: (bytes) => {
      if (w.append(bytes)) send({ type: 'open-bytes', bytes: w.written })
    },
    early: (value) => {
      if (w.ok) send({ type: 'open-early', value, bytes: w.written })
    },
    isCancelled: stopped,
  }
}

process.on('message', (msg: JobMessage | JobControlMessage) => {
  if (msg.kind === 'cancel') {
    cancelled = true
    return
  }
  if (started) return // one job per worker
  started = true
  if (msg.kind === 'open' && msg.handoffPath !== undefined) {
    handoff = new HandoffWriter(msg.handoffPath)
  }
  void handle(msg).then((reply) => {
    const out = msg.kind === 'open' ? handOff(reply, handoff) : { reply }
    send({ type: 'reply', ...out }, () => process.exit(0))
  })
})

/**
 * An `open` reply's voxels go through the handoff file when the parent asked for one (the rest of
 * them, after an early answer); else, or when the file refused them, through the pipe.
 */
function handOff(
  reply: JobReply,
  w: HandoffWriter | undefined,
): { reply: JobReply; handoff?: VoxelHandoff } {
  if (!reply.ok) return { reply }
  const v = reply.value as OpenJobValue
  if (v.kind !== 'volume') return { reply }
  const done = w?.finish(v.volume.voxels)
  if (done === undefined) return { reply }
  const value: OpenJobValue = { ...v, volume: { ...v.volume, voxels: new Uint8Array(0) } }
  return { reply: { ok: true, value }, handoff: done }
}

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
import { runOpenJob, runSaveMaskJob, runSegmentVolumeJob } from './volume-jobs.js'
import { addModelPack, listModelPacks, modelDirs } from '../inference/ort/model-store.js'
import { providerStatus } from '../inference/ort/providers.js'
import { removeTempFilesSync, setPublishGuard } from '../io/atomic-write.js'
import { parentGone, watchParent } from './parent-watch.js'
import { writeHandoff, type VoxelHandoff } from './voxel-handoff.js'

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
        return { ok: true, value: await runOpenJob(req) }
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

process.on('message', (msg: JobMessage | JobControlMessage) => {
  if (msg.kind === 'cancel') {
    cancelled = true
    return
  }
  if (started) return // one job per worker
  started = true
  void handle(msg).then((reply) => {
    const out = msg.kind === 'open' ? handOff(reply, msg.handoffPath) : { reply }
    send({ type: 'reply', ...out }, () => process.exit(0))
  })
})

/** An `open` reply's voxels go through the handoff file when the parent asked for one. */
function handOff(
  reply: JobReply,
  path: string | undefined,
): { reply: JobReply; handoff?: VoxelHandoff } {
  if (!reply.ok) return { reply }
  const v = reply.value as OpenJobValue
  if (v.kind !== 'volume') return { reply }
  const handoff = path === undefined ? undefined : writeHandoff(v.volume.voxels, path)
  if (handoff === undefined) return { reply }
  const value: OpenJobValue = { ...v, volume: { ...v.volume, voxels: new Uint8Array(0) } }
  return { reply: { ok: true, value }, handoff }
}

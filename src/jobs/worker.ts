/**
 * Entry of the forked job worker. Parsing and inference run here, not in the CLI or server
 * process, so a wasm abort, a heap exhaustion or a hang kills only this process, and
 * onnxruntime's blocking `run` never stalls a UI or server loop.
 */
import { toAppError } from '../shared/errors.js'
import type { JobControlMessage, JobReply, JobRequest, WorkerMessage } from './job-protocol.js'
import { runInfo } from './info-job.js'
import { runSegmentJob } from './segment-job.js'
import { runOpenJob, runSaveMaskJob, runSegmentVolumeJob } from './volume-jobs.js'
import { addModelPack, listModelPacks, modelDirs } from '../inference/ort/model-store.js'
import { providerStatus } from '../inference/ort/providers.js'

let cancelled = false
let started = false

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
            isCancelled: () => cancelled,
          }),
        }
      case 'open':
        return { ok: true, value: await runOpenJob(req) }
      case 'segment-volume':
        return {
          ok: true,
          value: await runSegmentVolumeJob(req, {
            emit: (event) => send({ type: 'event', event }),
            isCancelled: () => cancelled,
          }),
        }
      case 'save-mask':
        return { ok: true, value: await runSaveMaskJob(req) }
    }
  } catch (e) {
    const err = toAppError(e, 'E_INTERNAL')
    return { ok: false, error: err.toJSON() }
  }
}

process.on('message', (msg: JobRequest | JobControlMessage) => {
  if (msg.kind === 'cancel') {
    cancelled = true
    return
  }
  if (started) return // one job per worker
  started = true
  void handle(msg).then((reply) => {
    send({ type: 'reply', reply }, () => process.exit(0))
  })
})

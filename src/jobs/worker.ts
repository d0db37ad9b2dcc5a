/**
 * Entry of the short-lived parse worker (a forked Node process). Parsing runs here, not in the
 * CLI or server process, so a wasm abort, a heap exhaustion or a hang kills only this process.
 */
import { toAppError } from '../shared/errors.js'
import type { JobReply, JobRequest } from './job-protocol.js'
import { runInfo } from './info-job.js'

async function handle(req: JobRequest): Promise<JobReply> {
  try {
    return { ok: true, value: await runInfo(req.input, req.options) }
  } catch (e) {
    const err = toAppError(e, 'E_INTERNAL')
    return { ok: false, error: err.toJSON() }
  }
}

process.once('message', (req: JobRequest) => {
  void handle(req).then((reply) => {
    process.send?.(reply, () => process.exit(0))
  })
})

import type { OpenOptions } from '../io/open-volume.js'
import type { VolumeInfo } from '../shared/info.js'
import type { ErrorCode } from '../shared/errors.js'

/** A request to the short-lived parse worker. */
export type JobRequest = {
  readonly kind: 'info'
  readonly input: readonly string[]
  readonly options: OpenOptions
}

export type JobReply =
  | { readonly ok: true; readonly value: VolumeInfo }
  | {
      readonly ok: false
      readonly error: { code: ErrorCode; message: string; file?: string; details?: unknown }
    }

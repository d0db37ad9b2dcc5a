import type { OpenOptions } from '../io/open-volume.js'
import type { VolumeInfo } from '../shared/info.js'
import type { ErrorCode } from '../shared/errors.js'
import type { ModelCard } from '../shared/model-card.js'
import type { BatchReport, SegmentEvent, SegmentJobSpec } from '../shared/segment-report.js'

/** A request to a forked worker: parse (`info`) or segment a batch (`segment`). */
export type JobRequest =
  | {
      readonly kind: 'info'
      readonly input: readonly string[]
      readonly options: OpenOptions
    }
  | { readonly kind: 'segment'; readonly spec: SegmentJobSpec }
  /** List installed model packs (cards validated). */
  | { readonly kind: 'models' }
  /** Validate the pack folder `dir` and install it into the user's model folder. */
  | { readonly kind: 'add-model'; readonly dir: string }

/** What each request kind answers with. */
export interface JobValue {
  info: VolumeInfo
  segment: BatchReport
  models: ModelList
  'add-model': ModelListEntry
}

/** One installed pack as the CLI and UI show it. */
export interface ModelListEntry {
  readonly id: string
  readonly dir: string
  readonly onnxBytes: number
  readonly card: ModelCard
}

export interface ModelList {
  readonly packs: readonly ModelListEntry[]
  /** Folders that look like packs but failed validation, with the reason. */
  readonly problems: readonly { dir: string; message: string }[]
  readonly searched: readonly string[]
  readonly providers: readonly { id: string; available: boolean; reason?: string }[]
}

export type JobReply<T = unknown> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false
      readonly error: { code: ErrorCode; message: string; file?: string; details?: unknown }
    }

/** Parent → worker control message. */
export type JobControlMessage = { readonly kind: 'cancel' }

/** Worker → parent: streamed events, then exactly one reply. */
export type WorkerMessage =
  | { readonly type: 'event'; readonly event: SegmentEvent }
  | { readonly type: 'reply'; readonly reply: JobReply }

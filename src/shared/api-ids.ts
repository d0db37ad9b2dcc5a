/**
 * The ids and references of the API contract (`api.ts` re-exports all of it): branded strings
 * only the core mints, their exact patterns and guards, and the size limits requests are held to.
 */
import { isText } from './guard-kit.js'

declare const brand: unique symbol
/** A string only the core mints; the UI passes it back unchanged. */
type Brand<B extends string> = string & { readonly [brand]: B }

/** A volume held open by the core (`vol_` + 1–64 letters/digits). Valid until `closeVolume`. */
export type VolumeId = Brand<'VolumeId'>
/** A segmentation job (`job_` + 1–64 letters/digits). */
export type JobId = Brand<'JobId'>
/** A label map held by the core: a model result or an upload (`lbl_` + 1–64 letters/digits). */
export type LabelsId = Brand<'LabelsId'>
/**
 * One connection's claim on what it opened (`ses_` + 32 hex digits), from `hello`. A page keeps
 * it for the tab (a reload) and presents it with `resumeSession` to take its volumes back.
 */
export type SessionKey = Brand<'SessionKey'>
/** An installed model pack: the card's `id` (`[a-z0-9][a-z0-9._-]{0,63}`). */
export type ModelId = Brand<'ModelId'>
/**
 * A source the core may read: in serve mode a path relative to the `--data` root with POSIX `/`
 * separators; in Electron an opaque grant from a native dialog. **Opaque to the UI**: it is only
 * ever obtained from `hello`/`listSources` and passed back; the UI never builds, splits or shows it
 * (show `name`). The core resolves it and refuses anything outside its root (architecture.md §5, S4); the
 * guard only checks it is a non-empty string of at most `MAX_STRING` (guard-kit.ts) characters without NUL.
 */
export type SourceRef = Brand<'SourceRef'>

/** Longest file name `saveMask` accepts. */
export const MAX_FILE_NAME = 255
/** Most voxels an uploaded label map may hold (2³¹ − 1, the largest typed-array index we use). */
export const MAX_VOXELS = 2 ** 31 - 1
/**
 * Largest file `openUpload` accepts: 256 MiB less 64 KiB, so that the request (JSON header plus
 * the bytes) fits one WebSocket frame under `volseg serve`'s default `--max-frame` of 256 MiB.
 * A server started with a smaller `--max-frame` reports its own, smaller limit in
 * `HelloInfo.maxUploadBytes`.
 */
export const MAX_UPLOAD_BYTES = 256 * 2 ** 20 - 64 * 2 ** 10

/** The exact patterns of the ids; the core mints ids that match them. */
export const ID_PATTERNS = {
  volumeId: /^vol_[A-Za-z0-9]{1,64}$/,
  jobId: /^job_[A-Za-z0-9]{1,64}$/,
  labelsId: /^lbl_[A-Za-z0-9]{1,64}$/,
  modelId: /^[a-z0-9][a-z0-9._-]{0,63}$/,
  sessionKey: /^ses_[0-9a-f]{32}$/,
} as const

/** A guard for the ids matching `re`. */
function idGuard<T extends string>(re: RegExp): (x: unknown) => x is T {
  return (x: unknown): x is T => typeof x === 'string' && re.test(x)
}
/** True when `x` is a well-formed {@link VolumeId}. */
export const isVolumeId = idGuard<VolumeId>(ID_PATTERNS.volumeId)
/** True when `x` is a well-formed {@link JobId}. */
export const isJobId = idGuard<JobId>(ID_PATTERNS.jobId)
/** True when `x` is a well-formed {@link LabelsId}. */
export const isLabelsId = idGuard<LabelsId>(ID_PATTERNS.labelsId)
/** True when `x` is a well-formed {@link ModelId}. */
export const isModelId = idGuard<ModelId>(ID_PATTERNS.modelId)
/** True when `x` is a well-formed {@link SessionKey}. */
export const isSessionKey = idGuard<SessionKey>(ID_PATTERNS.sessionKey)
/** True when `x` is a well-formed {@link SourceRef} (non-empty, ≤ `MAX_STRING` (guard-kit.ts), no NUL). */
export function isSourceRef(x: unknown): x is SourceRef {
  return isText(x) && x.length > 0
}

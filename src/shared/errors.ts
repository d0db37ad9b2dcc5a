/**
 * Error codes shared by every layer. Each failure a user can meet is an {@link AppError} with one
 * of these codes, a human sentence, and (where known) the file it concerns.
 */
export type ErrorCode =
  /** The path does not exist or cannot be read. */
  | 'E_NOT_FOUND'
  /** The file is empty (zero bytes). */
  | 'E_EMPTY'
  /** The bytes do not look like any supported image format. */
  | 'E_UNKNOWN_FORMAT'
  /** The file is shorter than its header says. */
  | 'E_TRUNCATED'
  /** The header is self-contradictory or outside the format's rules. */
  | 'E_BAD_HEADER'
  /** The header asks for more memory than we allow; refused before allocating. */
  | 'E_TOO_LARGE'
  /** A valid file of a kind we do not handle (4-D, RGB, 64-bit, a transfer syntax, ...). */
  | 'E_UNSUPPORTED'
  /** A DICOM folder holds several series and the caller did not choose one. */
  | 'E_MULTIPLE_SERIES'
  /** A folder or file list holds no image we can read. */
  | 'E_NO_IMAGES'
  /** DICOM slices cannot form one regular volume (gaps, duplicates, tilt, mixed sizes). */
  | 'E_SERIES_GEOMETRY'
  /** The decoder failed on the pixel data. */
  | 'E_DECODE'
  /** Writing refused (would overwrite an input) or failed. */
  | 'E_WRITE'
  /** A written file did not re-read identically. */
  | 'E_VERIFY'
  /** Parsing took longer than allowed and was stopped. */
  | 'E_TIMEOUT'
  /** A worker process died before answering (a signal, an abort, a non-zero exit); not OOM. */
  | 'E_WORKER_CRASHED'
  /** A model pack is missing, its card is invalid, or the card disagrees with its ONNX graph. */
  | 'E_MODEL'
  /** The requested execution provider cannot run here (not installed, no device, wrong results). */
  | 'E_PROVIDER'
  /** The input does not suit the model's card (e.g. CT for an MR model); refused unless forced. */
  | 'E_MODALITY'
  /** The user cancelled the job. */
  | 'E_CANCELLED'
  /**
   * The service is at one of its limits (workers, queued jobs, open volumes, held memory): nothing
   * was started; retry once something finishes or is closed.
   */
  | 'E_BUSY'
  /** Invalid arguments from the caller. */
  | 'E_ARGS'
  /** A bug: something that should not happen. */
  | 'E_INTERNAL'

/**
 * Every {@link ErrorCode} at run time (`satisfies` rejects a missing or extra one), for code that
 * must tell a known code from anything else a process might send.
 */
export const ERROR_CODES = {
  E_NOT_FOUND: 1,
  E_EMPTY: 1,
  E_UNKNOWN_FORMAT: 1,
  E_TRUNCATED: 1,
  E_BAD_HEADER: 1,
  E_TOO_LARGE: 1,
  E_UNSUPPORTED: 1,
  E_MULTIPLE_SERIES: 1,
  E_NO_IMAGES: 1,
  E_SERIES_GEOMETRY: 1,
  E_DECODE: 1,
  E_WRITE: 1,
  E_VERIFY: 1,
  E_TIMEOUT: 1,
  E_WORKER_CRASHED: 1,
  E_MODEL: 1,
  E_PROVIDER: 1,
  E_MODALITY: 1,
  E_CANCELLED: 1,
  E_BUSY: 1,
  E_ARGS: 1,
  E_INTERNAL: 1,
} as const satisfies Record<ErrorCode, 1>

/** True when `x` is one of the {@link ErrorCode}s. */
export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && Object.hasOwn(ERROR_CODES, x)
}

/** A failure with a code, a sentence for humans and the file concerned. Serialisable via `toJSON`. */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly file: string | undefined
  /** Optional machine-readable details (e.g. the series list for E_MULTIPLE_SERIES). */
  readonly details: unknown

  constructor(
    code: ErrorCode,
    message: string,
    options: { file?: string; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.file = options.file
    this.details = options.details
  }

  toJSON(): { code: ErrorCode; message: string; file?: string; details?: unknown } {
    return {
      code: this.code,
      message: this.message,
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(this.details === undefined ? {} : { details: this.details }),
    }
  }
}

export function isAppError(x: unknown): x is AppError {
  return x instanceof AppError
}

/** Wraps anything thrown into an AppError, keeping AppErrors as they are. */
export function toAppError(x: unknown, fallback: ErrorCode, file?: string): AppError {
  if (x instanceof AppError) return x
  const message = x instanceof Error ? x.message : String(x)
  return new AppError(fallback, message, { ...(file === undefined ? {} : { file }), cause: x })
}

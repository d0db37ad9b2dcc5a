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
  /** Invalid arguments from the caller. */
  | 'E_ARGS'
  /** A bug: something that should not happen. */
  | 'E_INTERNAL'

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

/**
 * Our own check of a compressed NRRD/MetaImage payload. itk-wasm returns an all-zero image with
 * couldRead = true when zlib fails (a missing MetaImage CompressedDataSize, a truncated or corrupt
 * stream), so inflate the payload here and compare its length with DimSize × element size.
 */
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { unzip } from 'node:zlib'
import { AppError } from '../../shared/errors.js'

const unzipAsync = promisify(unzip)

/** Why a compressed payload is unusable, or undefined when it inflates to exactly `expected` bytes. */
export async function inflatedSizeProblem(
  stream: Uint8Array,
  expected: number,
): Promise<string | undefined> {
  // bzip2 (NRRD only) is left to itk-wasm, whose stderr is checked by muteWasmStdio's caller.
  if (stream[0] === 0x42 && stream[1] === 0x5a && stream[2] === 0x68) return undefined
  let out: Buffer
  try {
    // The cap stops a zlib bomb; more than the header needs is left to the decoder (NRRD byte skip).
    out = await unzipAsync(stream, { maxOutputLength: expected })
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return undefined
    return `the compressed data does not inflate (zlib: ${err.message})`
  }
  if (out.length < expected) {
    return `the compressed data inflates to ${out.length} bytes, the header needs ${expected}`
  }
  return undefined
}

/**
 * Reads the payload (`at` bytes into `dataPath`, to its end, or `declared` bytes: MetaIO inflates
 * only CompressedDataSize bytes) and throws E_DECODE naming `file` when it does not inflate to
 * `expected` bytes. Returns the stream's length in the file.
 */
export async function checkCompressedPayload(
  dataPath: string,
  at: number,
  expected: number,
  file: string,
  declared?: number,
): Promise<number> {
  const all = await readFile(dataPath)
  const inFile = all.subarray(at)
  if (declared !== undefined && declared > inFile.length) {
    throw new AppError(
      'E_TRUNCATED',
      `CompressedDataSize says ${declared} bytes, the file holds ${inFile.length} after the header`,
      { file },
    )
  }
  // The caller checked (checkCompressedStart) that the payload starts like a stream.
  const stream = declared === undefined ? inFile : inFile.subarray(0, declared)
  const why = await inflatedSizeProblem(stream, expected)
  if (why !== undefined) {
    const told = declared === undefined ? '' : ` (CompressedDataSize = ${declared})`
    throw new AppError('E_DECODE', `${why}${told}`, { file })
  }
  return inFile.length
}

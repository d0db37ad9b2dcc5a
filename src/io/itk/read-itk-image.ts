/**
 * NRRD and MetaImage (MHA/MHD) through @itk-wasm/image-io, after a header pre-flight of our own:
 * size limits before allocation, and for raw payloads a file-length check (itk-wasm returns
 * images from truncated files without an error, as it does for NIfTI).
 */
import { open, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { metaReadImageNode, nrrdReadImageNode } from '@itk-wasm/image-io'
import { AppError, toAppError } from '../../shared/errors.js'
import type { Volume } from '../../shared/volume.js'
import { parseMetaHeader, parseNrrdHeader, type TextHeaderInfo } from '../../core/text-header.js'
import { preflightVoxelBytes } from '../../core/volume/limits.js'
import { itkImageToVolume } from './itk-image-to-volume.js'
import { muteWasmStdio } from './quiet.js'
import { notRegularFile } from '../read-head.js'
import { checkCompressedPayload } from './check-compressed.js'
import { dataFilePath } from './data-file.js'
import { tmpdir } from 'node:os'
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises'

export interface ReadItkImageResult {
  readonly volume: Volume
  readonly warnings: readonly string[]
}

/** Reads a NRRD or MetaImage file (absolute or relative path) into a Volume in LPS. */
export async function readItkImage(
  path: string,
  format: 'nrrd' | 'meta',
  head: Uint8Array,
  options: { maxVoxelBytes?: number; confineTo?: string } = {},
): Promise<ReadItkImageResult> {
  const abs = resolve(path)
  const text = new TextDecoder('latin1').decode(head)
  const info: TextHeaderInfo =
    format === 'nrrd' ? parseNrrdHeader(text, path) : parseMetaHeader(text, path)
  if (info.components !== 1) {
    throw new AppError(
      'E_UNSUPPORTED',
      `pixels have ${info.components} components; VolSeg opens scalar images`,
      { file: path },
    )
  }
  if (info.sizes.length > 3 && info.sizes.slice(3).some((n) => n > 1)) {
    throw new AppError(
      'E_UNSUPPORTED',
      `a ${info.sizes.length}-D image (${info.sizes.join('×')}); VolSeg opens 3-D images`,
      { file: path },
    )
  }
  const payload = preflightVoxelBytes(info.sizes, info.bytesPerComponent, {
    maxBytes: options.maxVoxelBytes,
    copies: 2,
    file: path,
  })
  // A detached data file, confined to the --data root for the service (data-file.ts).
  const dataPath =
    info.dataFile === undefined
      ? abs
      : await dataFilePath(abs, info.dataFile, options.confineTo, path)
  if (info.dataFile !== undefined) {
    // A FIFO as the data file would block the reader (and itk-wasm) until the job times out.
    const odd = await notRegularFile(dataPath)
    if (odd !== undefined) {
      throw new AppError(
        'E_UNSUPPORTED',
        `the header points to data file "${info.dataFile}", which is not a regular file (${odd})`,
        { file: path },
      )
    }
  }
  if (info.encoding === 'raw') {
    let have: number
    try {
      have = (await stat(dataPath)).size - (info.headerBytes ?? 0)
    } catch {
      throw new AppError(
        'E_NOT_FOUND',
        `the header points to data file "${info.dataFile ?? ''}", which is missing`,
        { file: path },
      )
    }
    if (have < payload) {
      throw new AppError(
        'E_TRUNCATED',
        `raw image data is ${have} bytes, the header needs ${payload}`,
        { file: dataPath },
      )
    }
  }
  let readPath = abs
  let tempDir: string | undefined
  if (info.encoding === 'compressed') {
    await checkCompressedStart(dataPath, info, path)
    const at = info.dataFile === undefined ? (info.headerBytes ?? 0) : 0
    const declared = format === 'meta' ? info.compressedDataSize : undefined
    const streamBytes = await checkCompressedPayload(dataPath, at, payload, path, declared)
    if (format === 'meta' && info.compressedDataSize === undefined && info.dataFile === undefined) {
      // MetaIO needs CompressedDataSize to inflate LOCAL data (without it: "Uncompress failed",
      // zeros; a detached file's size serves), so hand itk-wasm a copy whose header says it.
      tempDir = await mkdtemp(resolve(tmpdir(), 'volseg-mha-'))
      readPath = resolve(tempDir, 'with-size.mha')
      const all = await readFile(abs)
      const header = new TextDecoder('latin1').decode(all.subarray(0, at))
      const fixed = header.replace(
        /^(\s*ElementDataFile\s*=)/m,
        `CompressedDataSize = ${streamBytes}\n$1`,
      )
      await writeFile(readPath, Buffer.concat([Buffer.from(fixed, 'latin1'), all.subarray(at)]))
    }
  }
  const reader = format === 'nrrd' ? nrrdReadImageNode : metaReadImageNode
  let result
  try {
    result = await muteWasmStdio(() => reader(readPath), { failOnComplaint: true })
  } catch (e) {
    throw toAppError(e, 'E_DECODE', path)
  } finally {
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true })
  }
  if (!result.couldRead) {
    throw new AppError(
      'E_DECODE',
      `itk-wasm could not read this ${format === 'nrrd' ? 'NRRD' : 'MetaImage'} file`,
      { file: path },
    )
  }
  return { volume: itkImageToVolume(result.image, path), warnings: [] }
}

/** True for the start of a zlib, gzip or bzip2 stream. */
export function startsCompressedStream(b: Uint8Array): boolean {
  const [b0 = 0, b1 = 0, b2 = 0] = b
  const zlib = (b0 & 0x0f) === 8 && ((b0 << 8) | b1) % 31 === 0
  const gzip = b0 === 0x1f && b1 === 0x8b
  const bzip2 = b0 === 0x42 && b1 === 0x5a && b2 === 0x68
  return zlib || gzip || bzip2
}

/**
 * A header that claims compression over raw bytes makes itk-wasm return an all-zero image without
 * an error (found by the mutation tests on MHA), so check the payload starts like a stream.
 */
async function checkCompressedStart(
  dataPath: string,
  info: TextHeaderInfo,
  path: string,
): Promise<void> {
  const at = info.dataFile === undefined ? (info.headerBytes ?? 0) : 0
  let head = new Uint8Array(3)
  try {
    const fh = await open(dataPath, 'r')
    try {
      const { bytesRead } = await fh.read(head, 0, 3, at)
      head = head.subarray(0, bytesRead)
    } finally {
      await fh.close()
    }
  } catch {
    throw new AppError(
      'E_NOT_FOUND',
      `the header points to data file "${info.dataFile ?? ''}", which is missing`,
      {
        file: path,
      },
    )
  }
  if (!startsCompressedStream(head)) {
    throw new AppError(
      'E_BAD_HEADER',
      'the header says the data is compressed, but it is not a zlib, gzip or bzip2 stream',
      {
        file: path,
      },
    )
  }
}

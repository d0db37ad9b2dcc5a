/**
 * NIfTI-1/-2 reader (`.nii`, `.nii.gz`, either byte order).
 *
 * Why not itk-wasm's NiftiImageIO for NIfTI: measured with @itk-wasm/image-io 1.6.1, it (1) returns
 * an image from a truncated `.nii`/`.nii.gz` without error, (2) adds `scl_inter` when `scl_slope`
 * is NaN or 0 (nifti1.h: no scaling then), and (3) prefers the qform over a valid sform, unlike
 * nibabel, FSL and SPM. The format is a fixed header plus a raw array, so we decode it here with
 * Node's zlib and keep itk-wasm as the independent oracle in the tests.
 */
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { AppError } from '../../shared/errors.js'
import type { VolumeGeometry } from '../../shared/geometry.js'
import {
  BYTES_PER_PIXEL,
  allocateVoxels,
  type PixelType,
  type Volume,
  type VoxelArray,
} from '../../shared/volume.js'
import {
  NIFTI_DATATYPES,
  checkNiftiHeader,
  niftiHeaderGeometry,
  niftiScaling,
  niftiSizeIJK,
  parseNiftiHeader,
  reportNiftiXforms,
  type NiftiHeader,
  type NiftiXformReport,
} from '../../core/nifti/nifti-header.js'
import { preflightVoxelBytes } from '../../core/volume/limits.js'
import { IDENTITY3 } from '../../core/geometry/affine.js'

/** Trailing bytes past header + payload that earn a warning (odd writers pad a little). */
const TRAILING_WARN_BYTES = 1024 * 1024

export interface ReadNiftiOptions {
  /** Cap on decoded voxel bytes; see `DEFAULT_MAX_VOXEL_BYTES`. */
  readonly maxVoxelBytes?: number
  /** Called as the voxels are decoded, in file order (k slices ascending). */
  readonly onVoxels?: (p: VoxelProgress) => void
}

/** How far the decode is: the header's facts are final, the voxels' first `doneVoxels` too. */
export interface VoxelProgress {
  /** Final but for its voxel array, whose values past `doneVoxels` are still zero. */
  readonly volume: Volume
  readonly doneVoxels: number
  readonly nifti: NiftiInfo
  /** The header's warnings (those about the payload come with the result). */
  readonly warnings: readonly string[]
}

export interface NiftiInfo {
  readonly version: 1 | 2
  readonly datatype: string
  readonly scl_slope: number
  readonly scl_inter: number
  readonly scalingApplied: boolean
  /** Which header transform placed the grid. */
  readonly geometrySource: 'sform' | 'qform' | 'pixdim'
  readonly xforms: NiftiXformReport
  readonly header: NiftiHeader
}

export interface ReadNiftiResult {
  readonly volume: Volume
  readonly nifti: NiftiInfo
  readonly warnings: readonly string[]
}

/**
 * Reads a NIfTI file into a {@link Volume} in LPS. Geometry comes from the sform when its code is
 * > 0 and it has no shear, else the qform, else pixdim alone (nifti1.h method 1, with a warning).
 * `scl_slope`/`scl_inter` are applied only when the slope is finite and non-zero.
 * Throws AppError: E_TRUNCATED, E_BAD_HEADER, E_UNSUPPORTED, E_TOO_LARGE, E_DECODE.
 */
export async function readNifti(
  path: string,
  head: Uint8Array,
  gzip: boolean,
  options: ReadNiftiOptions = {},
): Promise<ReadNiftiResult> {
  const where = { file: path }
  const header = parseNiftiHeader(head, path)
  const { payloadBytes } = checkNiftiHeader(header, path)
  const type = NIFTI_DATATYPES[header.datatype] as { name: string; bytes: number }
  const sizeIJK = niftiSizeIJK(header)
  const scaling = niftiScaling(header)
  const outBytes = scaling ? (type.name === 'float64' ? 8 : 4) : type.bytes
  // Reader peak: the output array (the file streams through it, a step at a time).
  preflightVoxelBytes(sizeIJK, outBytes, {
    maxBytes: options.maxVoxelBytes,
    copies: 1,
    file: path,
  })
  const dataStart =
    header.version === 1 && header.vox_offset < 352
      ? 352
      : Math.max(header.vox_offset, header.sizeofHdr)
  if (!Number.isSafeInteger(dataStart)) {
    throw new AppError('E_BAD_HEADER', `vox_offset ${header.vox_offset} is not an integer`, where)
  }
  // vox_offset far beyond any header + extensions is corrupt (zlib would also refuse the size).
  if (dataStart > 2 ** 30) {
    throw new AppError(
      'E_BAD_HEADER',
      `vox_offset ${header.vox_offset} is implausibly large`,
      where,
    )
  }
  const needed = dataStart + payloadBytes
  const count = sizeIJK[0] * sizeIJK[1] * sizeIJK[2]
  const storedType = type.name as PixelType
  const pixelType: PixelType = scaling
    ? type.name === 'float64'
      ? 'float64'
      : 'float32'
    : storedType
  const extra: string[] = []
  const xforms = reportNiftiXforms(header)
  const warnings = xforms.warnings
  let geometry = niftiHeaderGeometry(header, xforms)
  let geometrySource: NiftiInfo['geometrySource'] =
    xforms.sformRAS !== undefined && !xforms.sformSheared ? 'sform' : 'qform'
  if (geometry === undefined) {
    if (xforms.sformSheared) {
      throw new AppError(
        'E_UNSUPPORTED',
        'the sform has shear and there is no qform, so the voxel grid cannot be placed without resampling',
        where,
      )
    }
    geometry = pixdimGeometry(header)
    geometrySource = 'pixdim'
  }
  if (!geometry.spacingMm.every((s) => s > 0 && Number.isFinite(s))) {
    throw new AppError(
      'E_BAD_HEADER',
      `voxel spacing ${geometry.spacingMm.join(' × ')} mm is not positive`,
      where,
    )
  }
  const voxels = allocateVoxels(pixelType, count)
  const volume: Volume = { ...geometry, pixelType, voxels }
  const nifti: NiftiInfo = {
    version: header.version,
    datatype: type.name,
    scl_slope: header.scl_slope,
    scl_inter: header.scl_inter,
    scalingApplied: scaling !== undefined,
    geometrySource,
    xforms,
    header,
  }
  const decoder = new PayloadDecoder(voxels, storedType, header.littleEndian, scaling)
  const onVoxels = options.onVoxels
  const progress = onVoxels
    ? (): void => onVoxels({ volume, doneVoxels: decoder.doneVoxels, nifti, warnings })
    : undefined
  const got = gzip
    ? await inflatePayload(path, dataStart, needed, decoder, progress)
    : await readPayload(path, dataStart, needed, decoder, progress)
  if (got.headerAndPayload < needed) {
    throw new AppError(
      'E_TRUNCATED',
      `the file holds ${got.headerAndPayload} bytes of image data and header, the header needs ${needed}`,
      where,
    )
  }
  if (got.surplus > TRAILING_WARN_BYTES) {
    extra.push(
      `the file is ${(got.surplus / 1e6).toFixed(1)} MB larger than its header says; the extra bytes are ignored`,
    )
  }
  return {
    volume,
    nifti,
    warnings: [...extra, ...warnings],
  }
}

/** nifti1.h "method 1": spacing from pixdim, axes along RAS, origin 0 (only for qform_code = sform_code = 0). */
function pixdimGeometry(h: NiftiHeader): VolumeGeometry {
  const p = (k: number): number => Math.abs(h.pixdim[k] ?? 0) || 1
  const ras = IDENTITY3
  return {
    sizeIJK: niftiSizeIJK(h),
    spacingMm: [p(1), p(2), p(3)],
    originLPS: [0, 0, 0],
    // RAS identity expressed in LPS: x and y flip.
    directionLPS: [-ras[0], ras[1], ras[2], ras[3], -ras[4], ras[5], ras[6], ras[7], ras[8]],
  }
}

/** Bytes inflated or read per step: large enough that zlib's per-call cost vanishes. */
const STEP_BYTES = 1 << 20

/**
 * Fills a voxel array, in file order, from the payload's bytes as they arrive (any chunking):
 * byte order swapped to the host's, `scl_slope`/`scl_inter` applied when given.
 */
class PayloadDecoder {
  doneVoxels = 0
  readonly #out: VoxelArray
  readonly #outBytes: Uint8Array
  readonly #stored: PixelType
  readonly #width: number
  readonly #swap: boolean
  readonly #scaling: { readonly slope: number; readonly inter: number } | undefined
  readonly #carry = new Uint8Array(8)
  #carried = 0

  constructor(
    out: VoxelArray,
    stored: PixelType,
    littleEndian: boolean,
    scaling: { readonly slope: number; readonly inter: number } | undefined,
  ) {
    this.#out = out
    this.#outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
    this.#stored = stored
    this.#width = BYTES_PER_PIXEL[stored]
    this.#swap = !littleEndian && this.#width > 1
    this.#scaling = scaling
  }

  get full(): boolean {
    return this.doneVoxels === this.#out.length
  }

  /** Takes the next payload bytes (those past the last voxel are ignored). */
  push(bytes: Uint8Array): void {
    const w = this.#width
    let at = 0
    if (this.#carried > 0) {
      // Why: a chunk may end inside a voxel; its bytes wait for the next chunk.
      const take = Math.min(w - this.#carried, bytes.length)
      this.#carry.set(bytes.subarray(0, take), this.#carried)
      this.#carried += take
      at = take
      if (this.#carried < w) return
      this.#carried = 0
      if (!this.full) this.#emit(this.#carry.subarray(0, w))
    }
    if (this.full) return
    const room = (this.#out.length - this.doneVoxels) * w
    const whole = Math.min(Math.floor((bytes.length - at) / w) * w, room)
    if (whole > 0) this.#emit(bytes.subarray(at, at + whole))
    at += whole
    if (!this.full && at < bytes.length) {
      this.#carry.set(bytes.subarray(at), 0)
      this.#carried = bytes.length - at
    }
  }

  /** Decodes whole voxels `b` (a multiple of the stored width) at the next position. */
  #emit(b: Uint8Array): void {
    const w = this.#width
    const n = b.length / w
    const at = this.doneVoxels
    if (!this.#scaling) {
      const dst = this.#outBytes.subarray(at * w, (at + n) * w)
      dst.set(b)
      if (this.#swap) swapBytes(dst, w)
    } else {
      // An aligned copy of the stored values, then the scaled values into the output.
      const stored = allocateVoxels(this.#stored, n)
      const raw = new Uint8Array(stored.buffer)
      raw.set(b)
      if (this.#swap) swapBytes(raw, w)
      const { slope, inter } = this.#scaling
      const out = this.#out
      for (let i = 0; i < n; i++) out[at + i] = (stored[i] as number) * slope + inter
    }
    this.doneVoxels = at + n
  }
}

function swapBytes(b: Uint8Array, width: number): void {
  for (let i = 0; i < b.length; i += width) b.subarray(i, i + width).reverse()
}

/** What a payload reader found: header + payload bytes present (at most `needed`), and beyond. */
interface PayloadRead {
  readonly headerAndPayload: number
  readonly surplus: number
}

/**
 * Inflates `path` as a stream into `decoder` (no whole inflated copy in memory): bytes before
 * `dataStart` are the header, already parsed. Stops a gzip bomb: never more than `needed` plus
 * 1 MiB of slack for odd writers.
 */
async function inflatePayload(
  path: string,
  dataStart: number,
  needed: number,
  decoder: PayloadDecoder,
  progress: (() => void) | undefined,
): Promise<PayloadRead> {
  const where = { file: path }
  const limit = needed + 1024 * 1024
  let total = 0
  try {
    await pipeline(
      createReadStream(path, { highWaterMark: STEP_BYTES }),
      createGunzip({ chunkSize: STEP_BYTES }),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const c of chunks) {
          const from = total
          total += c.length
          if (total > limit) throw new AppError('E_BAD_HEADER', GZIP_BOMB, where)
          const skip = Math.max(0, dataStart - from)
          if (skip < c.length && !decoder.full) {
            decoder.push(c.subarray(skip))
            progress?.()
          }
        }
      },
    )
  } catch (e) {
    if (e instanceof AppError) throw e
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test((e as Error).message)) {
      throw new AppError('E_TRUNCATED', 'the gzip stream ends early (the file is truncated)', {
        ...where,
        cause: e,
      })
    }
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new AppError('E_NOT_FOUND', `could not read the file (${(e as Error).message})`, {
        ...where,
        cause: e,
      })
    }
    throw new AppError('E_DECODE', `gzip data is corrupt (${(e as Error).message})`, {
      ...where,
      cause: e,
    })
  }
  return { headerAndPayload: Math.min(total, needed), surplus: Math.max(0, total - needed) }
}

const GZIP_BOMB = 'the gzip stream inflates to far more than the header describes'

/** Reads the payload of an uncompressed `path` into `decoder`, a step at a time. */
async function readPayload(
  path: string,
  dataStart: number,
  needed: number,
  decoder: PayloadDecoder,
  progress: (() => void) | undefined,
): Promise<PayloadRead> {
  const fh = await open(path, 'r')
  try {
    const fileSize = (await fh.stat()).size
    const end = Math.min(needed, fileSize)
    const step = new Uint8Array(Math.min(STEP_BYTES * 8, Math.max(1, end - dataStart)))
    let at = dataStart
    while (at < end) {
      const { bytesRead } = await fh.read(step, 0, Math.min(step.length, end - at), at)
      if (bytesRead === 0) break
      decoder.push(step.subarray(0, bytesRead))
      at += bytesRead
      progress?.()
    }
    return { headerAndPayload: Math.min(at, fileSize), surplus: fileSize - needed }
  } finally {
    await fh.close()
  }
}

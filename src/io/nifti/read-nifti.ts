/**
 * NIfTI-1/-2 reader (`.nii`, `.nii.gz`, either byte order).
 *
 * Why not itk-wasm's NiftiImageIO for NIfTI: measured with @itk-wasm/image-io 1.6.1, it (1) returns
 * an image from a truncated `.nii`/`.nii.gz` without error, (2) adds `scl_inter` when `scl_slope`
 * is NaN or 0 (nifti1.h: no scaling then), and (3) prefers the qform over a valid sform, unlike
 * nibabel, FSL and SPM. The format is a fixed header plus a raw array, so we decode it here with
 * Node's zlib and keep itk-wasm as the independent oracle in the tests.
 */
import { readFile } from 'node:fs/promises'
import { readPrefix } from '../read-head.js'
import { gunzip } from 'node:zlib'
import { promisify } from 'node:util'
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

const gunzipAsync = promisify(gunzip)

/** Trailing bytes past header + payload that earn a warning (odd writers pad a little). */
const TRAILING_WARN_BYTES = 1024 * 1024

export interface ReadNiftiOptions {
  /** Cap on decoded voxel bytes; see `DEFAULT_MAX_VOXEL_BYTES`. */
  readonly maxVoxelBytes?: number
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
  // Reader peak: the file, the inflated bytes and the output array.
  preflightVoxelBytes(sizeIJK, outBytes, {
    maxBytes: options.maxVoxelBytes,
    copies: gzip ? 2 : 1,
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

  const extra: string[] = []
  let bytes: Uint8Array
  if (gzip) {
    bytes = await readFile(path)
  } else {
    // Uncompressed: read only header + payload, and say so when the file holds much more.
    const r = await readPrefix(path, needed)
    bytes = r.bytes
    const surplus = r.fileSize - needed
    if (surplus > TRAILING_WARN_BYTES) {
      extra.push(
        `the file is ${(surplus / 1e6).toFixed(1)} MB larger than its header says; the extra bytes are ignored`,
      )
    }
  }
  if (gzip) {
    try {
      // maxOutputLength stops a gzip bomb: we never need more than header + payload (+ slack for odd writers).
      bytes = await gunzipAsync(bytes, { maxOutputLength: needed + 1024 * 1024 })
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'Z_BUF_ERROR' || /unexpected end/i.test((e as Error).message)) {
        throw new AppError('E_TRUNCATED', 'the gzip stream ends early (the file is truncated)', {
          ...where,
          cause: e,
        })
      }
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        throw new AppError(
          'E_BAD_HEADER',
          'the gzip stream inflates to far more than the header describes',
          { ...where, cause: e },
        )
      }
      throw new AppError('E_DECODE', `gzip data is corrupt (${(e as Error).message})`, {
        ...where,
        cause: e,
      })
    }
  }
  if (bytes.length < needed) {
    throw new AppError(
      'E_TRUNCATED',
      `the file holds ${bytes.length} bytes of image data and header, the header needs ${needed}`,
      where,
    )
  }

  const stored = decodeArray(
    bytes,
    dataStart,
    sizeIJK[0] * sizeIJK[1] * sizeIJK[2],
    type.name as PixelType,
    header.littleEndian,
  )
  let voxels: VoxelArray = stored
  let pixelType = type.name as PixelType
  if (scaling) {
    const out =
      type.name === 'float64' ? new Float64Array(stored.length) : new Float32Array(stored.length)
    for (let i = 0; i < stored.length; i++) {
      out[i] = (stored[i] as number) * scaling.slope + scaling.inter
    }
    voxels = out
    pixelType = type.name === 'float64' ? 'float64' : 'float32'
  }

  const xforms = reportNiftiXforms(header)
  const warnings = [...extra, ...xforms.warnings]
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
  return {
    volume: { ...geometry, pixelType, voxels },
    nifti: {
      version: header.version,
      datatype: type.name,
      scl_slope: header.scl_slope,
      scl_inter: header.scl_inter,
      scalingApplied: scaling !== undefined,
      geometrySource,
      xforms,
      header,
    },
    warnings,
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

/**
 * Copies `count` voxels of `type` from `bytes` at `offset` into a fresh, aligned typed array in
 * host (little-endian) order.
 */
export function decodeArray(
  bytes: Uint8Array,
  offset: number,
  count: number,
  type: PixelType,
  littleEndian: boolean,
): VoxelArray {
  const width = BYTES_PER_PIXEL[type]
  // A fresh array, not a view: Node's Buffer#slice shares a larger buffer.
  const out = allocateVoxels(type, count)
  const outBytes = new Uint8Array(out.buffer)
  outBytes.set(bytes.subarray(offset, offset + count * width))
  if (!littleEndian && width > 1) {
    for (let i = 0; i < outBytes.length; i += width) outBytes.subarray(i, i + width).reverse()
  }
  return out
}

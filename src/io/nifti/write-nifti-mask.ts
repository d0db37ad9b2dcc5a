/**
 * Writes a label mask as `.nii.gz` on the source grid (qform and sform both set), atomically,
 * and verifies the written bytes by re-reading them before they replace the target: same
 * geometry (1e-4 mm, the float32 header limit) and identical labels. The figures of that re-read
 * are returned; a failed one throws E_VERIFY (figures in `details.verification`).
 */
import { createHash } from 'node:crypto'
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { AppError } from '../../shared/errors.js'
import type { VolumeGeometry } from '../../shared/geometry.js'
import { verificationPassed, type MaskVerification } from '../../shared/mask-verification.js'
import { affineLPS, maxAbsDiff } from '../../core/geometry/affine.js'
import { buildMaskHeader, MASK_VOX_OFFSET } from '../../core/nifti/nifti-write-header.js'
import { writeFileAtomic } from '../atomic-write.js'
import { gunzipHead, readHead } from '../read-head.js'
import { readNifti } from './read-nifti.js'
import { DETECT_HEAD_BYTES } from '../detect-format.js'

const gzipAsync = promisify(gzip)

/** Geometry tolerance of a re-read mask: NIfTI-1 stores the affine as float32. */
export const MASK_GEOMETRY_TOLERANCE_MM = 1e-4

export interface WriteMaskOptions {
  readonly path: string
  /** Labels (written as uint8 when all ≤ 255, else uint16), or a float32 map (uncertainty). */
  readonly labels: Uint8Array | Uint16Array | Float32Array
  /** The grid of the image the mask belongs to. */
  readonly geometry: VolumeGeometry
  /** Input files of the source image: never overwritten. */
  readonly sourceFiles: readonly string[]
  readonly qform_code?: number
  readonly sform_code?: number
  readonly descrip?: string
  /** Never replace an existing file (see `AtomicWriteOptions.noReplace`); `path` in the report is the one written. */
  readonly noReplace?: boolean
  /** With `noReplace`: the n-th other path to try when the previous one is taken. */
  readonly alternative?: (n: number) => string | undefined
}

export interface WriteMaskReport {
  readonly path: string
  readonly bytes: number
  readonly datatype: 'uint8' | 'uint16' | 'float32'
  /** Non-zero voxels written. */
  readonly labelVoxels: number
  /** What the re-read of the written bytes compared (it passed, or this threw E_VERIFY). */
  readonly verification: MaskVerification
}

export async function writeMaskNifti(o: WriteMaskOptions): Promise<WriteMaskReport> {
  const [ni, nj, nk] = o.geometry.sizeIJK
  const count = ni * nj * nk
  if (o.labels.length !== count) {
    throw new AppError(
      'E_ARGS',
      `mask has ${o.labels.length} voxels, the grid ${ni}×${nj}×${nk} needs ${count}`,
      { file: o.path },
    )
  }
  if (!/\.nii\.gz$/i.test(o.path)) {
    throw new AppError('E_ARGS', 'mask files are written as .nii.gz', { file: o.path })
  }
  let max = 0
  let labelVoxels = 0
  for (let i = 0; i < count; i++) {
    const v = o.labels[i] as number
    if (v > max) max = v
    if (v !== 0) labelVoxels++
  }
  const datatype = o.labels instanceof Float32Array ? 'float32' : max > 255 ? 'uint16' : 'uint8'
  const header = buildMaskHeader({ ...o, datatype })
  const body =
    datatype === 'float32'
      ? o.labels
      : datatype === 'uint8'
        ? o.labels instanceof Uint8Array
          ? o.labels
          : Uint8Array.from(o.labels)
        : Uint16Array.from(o.labels)
  const raw = new Uint8Array(MASK_VOX_OFFSET + body.byteLength)
  raw.set(header, 0)
  raw.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), MASK_VOX_OFFSET)
  const packed = await gzipAsync(raw, { level: 6 })
  let verification: MaskVerification | undefined
  const written = await writeFileAtomic(o.path, packed, {
    protect: o.sourceFiles,
    ...(o.noReplace ? { noReplace: true } : {}),
    ...(o.alternative ? { alternative: o.alternative } : {}),
    verify: async (temp) => {
      verification = await rereadMask(temp, o.geometry, o.labels)
      if (!verificationPassed(verification)) {
        throw new AppError('E_VERIFY', verifyFailure(verification, o.geometry), {
          file: o.path,
          details: { verification },
        })
      }
    },
  })
  if (verification === undefined) throw new AppError('E_INTERNAL', 'the mask was not re-read')
  return { path: written, bytes: packed.length, datatype, labelVoxels, verification }
}

/**
 * Re-reads the mask file `path` with the NIfTI reader and compares it with what was meant to be
 * written: the index→LPS affine of `geometry` (mm) and every voxel of `labels` (i fastest).
 * Returns the figures; judging them is {@link verificationPassed}'s business.
 */
export async function rereadMask(
  path: string,
  geometry: VolumeGeometry,
  labels: ArrayLike<number>,
): Promise<MaskVerification> {
  const head = await readHead(path, DETECT_HEAD_BYTES)
  const back = (await readNifti(path, gunzipHead(head), true)).volume
  const sameSize = back.sizeIJK.every((n, k) => n === geometry.sizeIJK[k])
  const voxels = back.voxels
  let voxelsEqual = 0
  // Only a grid of the same size can be compared voxel by voxel.
  if (sameSize && voxels.length === labels.length) {
    // Object.is: a float map may hold NaN, which must re-read as NaN.
    for (let i = 0; i < labels.length; i++) if (Object.is(voxels[i], labels[i])) voxelsEqual++
  }
  return {
    reread: 'nifti',
    sizeIJK: back.sizeIJK,
    geometryMaxErrorMm: sameSize
      ? maxAbsDiff(affineLPS(back), affineLPS(geometry))
      : Number.POSITIVE_INFINITY,
    geometryToleranceMm: MASK_GEOMETRY_TOLERANCE_MM,
    voxelsCompared: labels.length,
    voxelsEqual,
    voxelSha256: createHash('sha256')
      .update(new Uint8Array(voxels.buffer, voxels.byteOffset, voxels.byteLength))
      .digest('hex'),
  }
}

/** The sentence of a failed re-read, with its figures. */
function verifyFailure(v: MaskVerification, g: VolumeGeometry): string {
  const why: string[] = []
  if (v.sizeIJK.some((n, k) => n !== g.sizeIJK[k])) {
    why.push(`its grid is ${v.sizeIJK.join('×')}, not ${g.sizeIJK.join('×')}`)
  } else if (!(v.geometryMaxErrorMm <= v.geometryToleranceMm)) {
    why.push(
      `its affine differs by ${v.geometryMaxErrorMm.toExponential(2)} mm ` +
        `(NIfTI float32 allows ${v.geometryToleranceMm.toExponential(0)} mm)`,
    )
  }
  if (v.voxelsEqual !== v.voxelsCompared) {
    why.push(
      `${(v.voxelsCompared - v.voxelsEqual).toLocaleString('en-US')} of ` +
        `${v.voxelsCompared.toLocaleString('en-US')} voxels re-read differently`,
    )
  }
  return `the written mask did not re-read as written: ${why.join('; ')}; nothing was saved`
}

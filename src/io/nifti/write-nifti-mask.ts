/**
 * Writes a label mask as `.nii.gz` on the source grid (qform and sform both set), atomically,
 * and verifies the written bytes by re-reading them before they replace the target: same
 * geometry (1e-4 mm, the float32 header limit) and identical labels.
 */
import { promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { AppError } from '../../shared/errors.js'
import type { VolumeGeometry } from '../../shared/geometry.js'
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
}

export interface WriteMaskReport {
  readonly path: string
  readonly bytes: number
  readonly datatype: 'uint8' | 'uint16' | 'float32'
  /** Largest difference between the re-read and the source affine (mm). */
  readonly affineDiffMm: number
  readonly labelVoxels: number
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
  let affineDiffMm = Number.NaN
  await writeFileAtomic(o.path, packed, {
    protect: o.sourceFiles,
    verify: async (temp) => {
      const head = await readHead(temp, DETECT_HEAD_BYTES)
      const back = await readNifti(temp, gunzipHead(head), true)
      affineDiffMm = maxAbsDiff(affineLPS(back.volume), affineLPS(o.geometry))
      if (
        !(affineDiffMm <= MASK_GEOMETRY_TOLERANCE_MM) ||
        back.volume.sizeIJK.some((n, k) => n !== o.geometry.sizeIJK[k])
      ) {
        throw new AppError(
          'E_VERIFY',
          `the written mask re-reads with a different grid (affine differs by ${affineDiffMm} mm)`,
          { file: o.path },
        )
      }
      const labels = back.volume.voxels
      for (let i = 0; i < count; i++) {
        // Object.is: a float map may hold NaN, which must re-read as NaN.
        if (!Object.is(labels[i], o.labels[i])) {
          throw new AppError(
            'E_VERIFY',
            `the written mask re-reads with a different label at voxel ${i}`,
            { file: o.path },
          )
        }
      }
    },
  })
  return { path: o.path, bytes: packed.length, datatype, affineDiffMm, labelVoxels }
}

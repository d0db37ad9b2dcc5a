/**
 * Memory pre-flight: decide from header numbers alone, before any allocation, whether a volume
 * may be opened.
 */
import { AppError } from '../../shared/errors.js'

/** Default cap on the decoded voxel payload: 2 GiB (wasm32 decoders cap near 4 GiB in all, ITK-Wasm #1312). */
export const DEFAULT_MAX_VOXEL_BYTES = 2 * 1024 ** 3

/**
 * Throws `E_TOO_LARGE` when `sizeIJK × bytesPerVoxel × copies` exceeds `maxBytes`.
 * `copies` counts simultaneous buffers the reader needs (e.g. compressed + decoded).
 */
export function preflightVoxelBytes(
  sizeIJK: readonly number[],
  bytesPerVoxel: number,
  options: { maxBytes?: number; copies?: number; file?: string } = {},
): number {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_VOXEL_BYTES
  let voxels = 1
  for (const n of sizeIJK) voxels *= n
  const bytes = voxels * bytesPerVoxel
  const needed = bytes * (options.copies ?? 1)
  if (!Number.isFinite(needed) || needed > maxBytes) {
    const gib = (needed / 1024 ** 3).toFixed(1)
    throw new AppError(
      'E_TOO_LARGE',
      `the header describes ${sizeIJK.join('×')} voxels of ${bytesPerVoxel} bytes (${gib} GiB to decode), over the ${(maxBytes / 1024 ** 3).toFixed(1)} GiB limit`,
      options.file === undefined ? {} : { file: options.file },
    )
  }
  return bytes
}

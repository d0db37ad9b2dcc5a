/**
 * Cropping to the non-zero bounding box (nnU-Net's `crop_to_nonzero`): the network sees only the
 * box, statistics come from it, and everything outside it is background.
 */
import type { Vec3 } from '../../shared/geometry.js'
import type { TensorAxisPlan } from './reorient.js'
import type { Shape3 } from './resample.js'

/** A box in tensor coordinates: first voxel and size along D, H, W. */
export interface TensorBox {
  readonly start: readonly [number, number, number]
  readonly shape: readonly [number, number, number]
}

/**
 * Bounding box of the voxels ≠ 0 (NaN counts as 0) in source order (i fastest), mapped to tensor
 * coordinates through `plan`. `null` when every voxel is 0.
 */
export function nonzeroTensorBox(
  voxels: ArrayLike<number>,
  sizeIJK: Vec3,
  plan: TensorAxisPlan,
): TensorBox | null {
  const [ni, nj, nk] = sizeIJK
  const lo = [ni, nj, nk]
  const hi = [-1, -1, -1]
  let v = 0
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, v++) {
        const x = voxels[v] as number
        if (x !== 0 && x === x) {
          if (i < (lo[0] as number)) lo[0] = i
          if (i > (hi[0] as number)) hi[0] = i
          if (j < (lo[1] as number)) lo[1] = j
          if (j > (hi[1] as number)) hi[1] = j
          if (k < (lo[2] as number)) lo[2] = k
          if (k > (hi[2] as number)) hi[2] = k
        }
      }
    }
  }
  if ((hi[0] as number) < 0) return null
  const start = [0, 0, 0] as [number, number, number]
  const shape = [0, 0, 0] as [number, number, number]
  for (let t = 0; t < 3; t++) {
    const a = plan.sourceAxis[t] as number
    const n = sizeIJK[a] as number
    const l = lo[a] as number
    const h = hi[a] as number
    start[t] = plan.flip[t] ? n - 1 - h : l
    shape[t] = h - l + 1
  }
  return { start, shape }
}

/** Copies `box` out of a [D, H, W] grid. */
export function cropGrid(grid: Float32Array, shape: Shape3, box: TensorBox): Float32Array {
  const [, nh, nw] = shape
  const [bd, bh, bw] = box.shape
  const out = new Float32Array(bd * bh * bw)
  for (let d = 0; d < bd; d++) {
    for (let h = 0; h < bh; h++) {
      const s = ((box.start[0] + d) * nh + box.start[1] + h) * nw + box.start[2]
      out.set(grid.subarray(s, s + bw), (d * bh + h) * bw)
    }
  }
  return out
}

/** Writes a box-sized grid into `out` (a [D, H, W] grid of `shape`, pre-filled by the caller). */
export function uncropInto<T extends Uint8Array | Uint16Array | Float32Array>(
  small: T,
  box: TensorBox,
  shape: Shape3,
  out: T,
): T {
  const [, nh, nw] = shape
  const [bd, bh, bw] = box.shape
  for (let d = 0; d < bd; d++) {
    for (let h = 0; h < bh; h++) {
      const s = (d * bh + h) * bw
      out.set(
        small.subarray(s, s + bw),
        ((box.start[0] + d) * nh + box.start[1] + h) * nw + box.start[2],
      )
    }
  }
  return out
}

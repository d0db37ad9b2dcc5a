/**
 * Test-time augmentation by mirroring: the tile is flipped along a subset of the allowed tensor
 * axes, predicted, flipped back, and the probabilities averaged (nnU-Net's mirroring TTA).
 */
import type { Shape3 } from './preprocess/resample.js'

/** Every subset of `axes` (including the empty one, first), e.g. [0, 2] → [], [0], [2], [0, 2]. */
export function mirrorCombos(axes: readonly number[]): number[][] {
  const out: number[][] = []
  for (let m = 0; m < 1 << axes.length; m++) {
    out.push(axes.filter((_, b) => (m >> b) & 1))
  }
  return out
}

/**
 * Flips a batch of [n, C, D, H, W] grids along the spatial `axes` (0 = D, 1 = H, 2 = W) into
 * `dst` (must not alias `src`). `groups` = n · C grids of `shape` each.
 */
export function flipGrids(
  src: Float32Array,
  groups: number,
  shape: Shape3,
  axes: readonly number[],
  dst: Float32Array,
): Float32Array {
  const [nd, nh, nw] = shape
  const fd = axes.includes(0)
  const fh = axes.includes(1)
  const fw = axes.includes(2)
  const vox = nd * nh * nw
  for (let g = 0; g < groups; g++) {
    const base = g * vox
    for (let d = 0; d < nd; d++) {
      const sd = fd ? nd - 1 - d : d
      for (let h = 0; h < nh; h++) {
        const sh = fh ? nh - 1 - h : h
        const s = base + (sd * nh + sh) * nw
        const o = base + (d * nh + h) * nw
        if (fw) for (let w = 0; w < nw; w++) dst[o + w] = src[s + nw - 1 - w] as number
        else dst.set(src.subarray(s, s + nw), o)
      }
    }
  }
  return dst
}

/** In-place softmax over channels of a [n, C, voxels] batch of logits. */
export function softmaxChannels(
  data: Float32Array,
  n: number,
  channels: number,
  voxels: number,
): void {
  for (let b = 0; b < n; b++) {
    const base = b * channels * voxels
    for (let v = 0; v < voxels; v++) {
      let max = -Infinity
      for (let c = 0; c < channels; c++) max = Math.max(max, data[base + c * voxels + v] as number)
      let sum = 0
      for (let c = 0; c < channels; c++) {
        const e = Math.exp((data[base + c * voxels + v] as number) - max)
        data[base + c * voxels + v] = e
        sum += e
      }
      for (let c = 0; c < channels; c++) {
        data[base + c * voxels + v] = (data[base + c * voxels + v] as number) / sum
      }
    }
  }
}

/**
 * For TTA variance: adds one pass's probabilities ([n, C, voxels]) into the running mean
 * `pMean` (÷ passes) and Σ_c p_c² into `pSq` ([n, voxels], ÷ passes).
 */
export function addSquares(
  p: Float32Array,
  n: number,
  channels: number,
  voxels: number,
  passes: number,
  pMean: Float32Array,
  pSq: Float32Array,
): void {
  const k = 1 / passes
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < channels; c++) {
      const base = (b * channels + c) * voxels
      for (let v = 0; v < voxels; v++) {
        const q = p[base + v] as number
        pMean[base + v] = (pMean[base + v] as number) + q * k
        pSq[b * voxels + v] = (pSq[b * voxels + v] as number) + q * q * k
      }
    }
  }
}

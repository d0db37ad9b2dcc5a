/**
 * Intensity normalisation of one volume, as the model card's {@link Normalisation} says, matching
 * the reference implementations the cards come from:
 * - `zscore`: nnU-Net v2 `ZScoreNormalization`; with `foregroundOnly` (nnU-Net's
 *   `use_mask_for_norm`) the statistics come from the foreground mask only and every voxel outside
 *   it is 0 in the output.
 * - `ct`: nnU-Net v2 `CTNormalization` (clip, then subtract and divide).
 * - `percentile`: MONAI `ScaleIntensityRangePercentiles` with numpy's default (linear)
 *   percentile definition.
 *
 * Every kind works on the float32 value of each voxel (what nnU-Net and MONAI do by default, and
 * what the model receives); sums are accumulated in float64. Pure: runs in Node and browsers.
 */
import { AppError } from '../../shared/errors.js'
import type { Normalisation } from '../../shared/model-card.js'
import { checkPercentiles, percentiles } from '../../shared/percentiles.js'
import { labelRuns } from '../postprocess/components.js'

// Moved to src/shared (one percentile definition for the project); re-exported for old callers.
export { percentiles }

/** nnU-Net's floor on the standard deviation (`max(std, 1e-8)`), intensity units. */
export const STD_FLOOR = 1e-8

/**
 * What was applied. Every kind is the affine map `out = (x − mean) / std` on the input intensity
 * `x` (card/volume units, e.g. HU), with `x` first clamped to `[lo, hi]` when `clipped`.
 */
export interface NormalisationStats {
  /** Subtracted, in input intensity units (percentile: derived from the mapping). */
  readonly mean: number
  /** Divisor, in input intensity units per output unit, after the 1e-8 floor. */
  readonly std: number
  /**
   * Input intensity window, in input units: the clip range (`ct`), the two percentile values
   * (`percentile`), or `-Infinity`/`Infinity` (`zscore`, `none`).
   */
  readonly lo: number
  readonly hi: number
  /** Whether values were clamped to the window (`ct`; `percentile` with `clip`). */
  readonly clipped: boolean
  /** Voxels the statistics were measured over: the foreground or all voxels; 0 for `ct`/`none`. */
  readonly voxelsUsed: number
  /**
   * Voxels that were NaN or ±Infinity (also float64 values beyond float32's range); each is read
   * as 0 before anything else, because one NaN would poison every tile it reaches.
   */
  readonly nonFinite: number
}

export interface NormalisedVolume {
  /** Normalised voxels, same order and length as the input. */
  readonly data: Float32Array
  readonly stats: NormalisationStats
}

/**
 * Normalises `voxels` (real-world intensities, any order) into a new Float32Array.
 *
 * `sizeXYZ` (voxels, first axis fastest) is used only by `zscore` with `foregroundOnly`: when
 * given, the foreground is nnU-Net's mask exactly, the non-zero voxels plus the zero voxels they
 * enclose (a zero cavity not 6-connected to the volume border, like scipy's `binary_fill_holes`);
 * without it, the foreground is just the non-zero voxels. Pass it for nnU-Net models.
 *
 * Throws `E_ARGS` for a card whose numbers cannot be applied (non-finite, reversed clip range,
 * percentiles outside 0–100) or a `sizeXYZ` that does not match the voxel count.
 */
export function normaliseIntensity(
  voxels: ArrayLike<number>,
  spec: Normalisation,
  sizeXYZ?: readonly [number, number, number],
): NormalisedVolume {
  if (sizeXYZ !== undefined) {
    const [nx, ny, nz] = sizeXYZ
    const ok = sizeXYZ.every((s) => Number.isSafeInteger(s) && s >= 1)
    if (!ok || nx * ny * nz !== voxels.length) {
      throw new AppError(
        'E_ARGS',
        `size ${sizeXYZ.join('×')} does not match ${voxels.length} voxels`,
      )
    }
  }
  // Native conversion (fast for typed arrays); every kind starts from the float32 values.
  const data = new Float32Array(voxels)
  const nonFinite = zeroNonFinite(data)
  const n = data.length
  switch (spec.kind) {
    case 'none':
      return {
        data,
        stats: {
          mean: 0,
          std: 1,
          lo: -Infinity,
          hi: Infinity,
          clipped: false,
          voxelsUsed: 0,
          nonFinite,
        },
      }
    case 'ct': {
      const [lo, hi] = spec.clip
      requireFinite([lo, hi, spec.mean, spec.std], 'ct normalisation')
      if (!(lo <= hi)) throw new AppError('E_ARGS', `ct clip range [${lo}, ${hi}] is reversed`)
      if (spec.std < 0) throw new AppError('E_ARGS', `ct std ${spec.std} is negative`)
      const mean = spec.mean
      const std = Math.max(spec.std, STD_FLOOR)
      for (let i = 0; i < n; i++) {
        const v = data[i]!
        data[i] = ((v < lo ? lo : v > hi ? hi : v) - mean) / std
      }
      return { data, stats: { mean, std, lo, hi, clipped: true, voxelsUsed: 0, nonFinite } }
    }
    case 'zscore':
      return zscore(data, nonFinite, spec.foregroundOnly, sizeXYZ)
    case 'percentile':
      return percentile(data, nonFinite, spec)
  }
}

function zscore(
  data: Float32Array,
  nonFinite: number,
  foregroundOnly: boolean,
  sizeXYZ: readonly [number, number, number] | undefined,
): NormalisedVolume {
  const n = data.length
  const unclipped = { lo: -Infinity, hi: Infinity, clipped: false, nonFinite }
  if (!foregroundOnly) {
    // Two passes (mean, then squared deviations), as numpy: stable for large offsets.
    let sum = 0
    for (let i = 0; i < n; i++) sum += data[i]!
    const mean = n > 0 ? sum / n : 0
    let ss = 0
    for (let i = 0; i < n; i++) {
      const d = data[i]! - mean
      ss += d * d
    }
    const std = Math.max(n > 0 ? Math.sqrt(ss / n) : 0, STD_FLOOR)
    for (let i = 0; i < n; i++) data[i] = (data[i]! - mean) / std
    return { data, stats: { mean, std, voxelsUsed: n, ...unclipped } }
  }
  const inside = foregroundMask(data, sizeXYZ)
  let count = 0
  let sum = 0
  for (let i = 0; i < n; i++) {
    if (inside[i] === 1) {
      sum += data[i]!
      count++
    }
  }
  // An empty foreground (all-zero volume) has no statistics: keep the identity, output all 0.
  const mean = count > 0 ? sum / count : 0
  let ss = 0
  for (let i = 0; i < n; i++) {
    if (inside[i] === 1) {
      const d = data[i]! - mean
      ss += d * d
    }
  }
  const std = Math.max(count > 0 ? Math.sqrt(ss / count) : 1, STD_FLOOR)
  for (let i = 0; i < n; i++) data[i] = inside[i] === 1 ? (data[i]! - mean) / std : 0
  return { data, stats: { mean, std, voxelsUsed: count, ...unclipped } }
}

/**
 * 1 where `data` ≠ 0, plus (when the size is known) the zero cavities enclosed by it: the zero
 * voxels that cannot reach the border through 6-connected zero voxels (nnU-Net's
 * `create_nonzero_mask`, which calls scipy's `binary_fill_holes` with its default 6-connected
 * structure). The zero voxels are labelled as runs (see {@link labelRuns}): no per-voxel queue.
 */
function foregroundMask(
  data: Float32Array,
  sizeXYZ: readonly [number, number, number] | undefined,
): Uint8Array {
  const n = data.length
  const inside = new Uint8Array(n)
  if (sizeXYZ === undefined) {
    for (let i = 0; i < n; i++) if (data[i] !== 0) inside[i] = 1
    return inside
  }
  const [nx, ny, nz] = sizeXYZ
  const zeros = labelRuns(data, sizeXYZ, 0, 6)
  const { rowStart, start, end, comp } = zeros
  // A zero component is outside when one of its runs lies on the volume's border.
  const outside = new Uint8Array(zeros.count + 1)
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const r = y + ny * z
      const borderRow = y === 0 || y === ny - 1 || z === 0 || z === nz - 1
      for (let k = rowStart[r]!; k < rowStart[r + 1]!; k++) {
        if (borderRow || start[k] === 0 || end[k] === nx) outside[comp[k]!] = 1
      }
    }
  }
  inside.fill(1)
  for (let r = 0; r < ny * nz; r++) {
    for (let k = rowStart[r]!; k < rowStart[r + 1]!; k++) {
      if (outside[comp[k]!] === 1) inside.fill(0, r * nx + start[k]!, r * nx + end[k]!)
    }
  }
  return inside
}

function percentile(
  data: Float32Array,
  nonFinite: number,
  spec: Extract<Normalisation, { kind: 'percentile' }>,
): NormalisedVolume {
  const { lower, upper, outMin, outMax, clip } = spec
  requireFinite([lower, upper, outMin, outMax], 'percentile normalisation')
  checkPercentiles(lower, upper)
  // Every voxel would map to one value: a broken card, not something to run a model on.
  if (outMin === outMax) throw new AppError('E_ARGS', `percentile outMin equals outMax (${outMin})`)
  const n = data.length
  if (n === 0) {
    return {
      data,
      stats: { mean: 0, std: 1, lo: NaN, hi: NaN, clipped: clip, voxelsUsed: 0, nonFinite },
    }
  }
  const [lo, hi] = percentiles(data, lower, upper)
  const range = hi - lo
  if (range === 0) {
    // MONAI: a flat window cannot be stretched; it shifts so that `lo` lands on `outMin`, unclipped.
    for (let i = 0; i < n; i++) data[i] = data[i]! - lo + outMin
    const stats = { mean: lo - outMin, std: 1, lo, hi, clipped: false, voxelsUsed: n, nonFinite }
    return { data, stats }
  }
  const scale = outMax - outMin
  // np.clip(img, b_min, b_max), with the bounds ordered so an inverting map (outMin > outMax)
  // still clips to its output range instead of collapsing to one value.
  const cmin = Math.min(outMin, outMax)
  const cmax = Math.max(outMin, outMax)
  for (let i = 0; i < n; i++) {
    const v = ((data[i]! - lo) / range) * scale + outMin
    data[i] = clip ? (v < cmin ? cmin : v > cmax ? cmax : v) : v
  }
  const std = range / scale
  const mean = lo - outMin * std
  return { data, stats: { mean, std, lo, hi, clipped: clip, voxelsUsed: n, nonFinite } }
}

/** Replaces NaN and ±Infinity by 0 in place; returns how many there were. */
function zeroNonFinite(a: Float32Array): number {
  let count = 0
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!
    // v − v is 0 for finite v and NaN for NaN/±Infinity; one test covers both.
    if (v - v !== 0) {
      a[i] = 0
      count++
    }
  }
  return count
}

function requireFinite(values: readonly number[], what: string): void {
  if (!values.every(Number.isFinite)) {
    throw new AppError('E_ARGS', `${what}: every number must be finite (got ${values.join(', ')})`)
  }
}

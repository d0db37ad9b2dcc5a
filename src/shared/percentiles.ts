/**
 * The project's one percentile definition (numpy's default `method='linear'`), used by intensity
 * normalisation, the viewer's default window and the cohort report's robust statistics. Pure.
 */
import { AppError } from './errors.js'

/**
 * The `lower` and `upper` percentiles (0–100) of `a` by numpy's default `method='linear'`: rank
 * `h = (n − 1)·q/100` interpolated between the order statistics ⌊h⌋ and ⌊h⌋ + 1. Exact for any
 * float32 data (`a` must hold no NaN), and `a` is left untouched. O(n): two histogram passes.
 * `[NaN, NaN]` for an empty array; `E_ARGS` unless `0 ≤ lower ≤ upper ≤ 100`.
 */
export function percentiles(a: Float32Array, lower: number, upper: number): [number, number] {
  checkPercentiles(lower, upper)
  const n = a.length
  if (n === 0) return [NaN, NaN]
  const hLo = (n - 1) * (lower / 100)
  const hHi = (n - 1) * (upper / 100)
  const kLo = Math.floor(hLo)
  const kHi = Math.floor(hHi)
  const [loA, loB, hiA, hiB] = orderStatistics(a, [
    kLo,
    Math.min(kLo + 1, n - 1),
    kHi,
    Math.min(kHi + 1, n - 1),
  ])
  return [lerp(loA!, loB!, hLo - kLo), lerp(hiA!, hiB!, hHi - kHi)]
}

/** numpy's `_lerp`: from the nearer end, so `t = 1` gives exactly `b`. */
function lerp(a: number, b: number, t: number): number {
  const d = b - a
  return t >= 0.5 ? b - d * (1 - t) : a + d * t
}

/**
 * The values of rank `ranks[i]` (0-based, ascending order) in `a`, by radix selection on the
 * float32 bit patterns: each float maps to a 32-bit key that sorts like the value (negative: all
 * bits flipped; otherwise: sign bit set). Pass 1 histograms the top 16 key bits over all voxels;
 * pass 2 histograms the low 16 bits of only the few top bins holding a wanted rank. Exact, no
 * copy or permutation of `a`, and the same cost for any data (no quickselect worst case).
 */
function orderStatistics(a: Float32Array, ranks: readonly number[]): number[] {
  const n = a.length
  const bits = new Uint32Array(a.buffer, a.byteOffset, n)
  const top = new Float64Array(65536)
  for (let i = 0; i < n; i++) {
    const u = bits[i]!
    top[u >= 0x80000000 ? 0xffff - (u >>> 16) : (u >>> 16) | 0x8000]!++
  }
  // Which top bin holds each rank, and its rank within that bin.
  const bin: number[] = []
  const within: number[] = []
  for (const r of ranks) {
    let b = 0
    let below = 0
    while (below + top[b]! <= r) below += top[b++]!
    bin.push(b)
    within.push(r - below)
  }
  const slot = new Int32Array(65536).fill(-1)
  let slots = 0
  for (const b of bin) if (slot[b] === -1) slot[b] = slots++
  const low = new Float64Array(65536 * slots)
  for (let i = 0; i < n; i++) {
    const u = bits[i]!
    const neg = u >= 0x80000000
    const s = slot[neg ? 0xffff - (u >>> 16) : (u >>> 16) | 0x8000]!
    if (s >= 0) low[s * 65536 + (neg ? 0xffff - (u & 0xffff) : u & 0xffff)]!++
  }
  const f = new Float32Array(1)
  const fBits = new Uint32Array(f.buffer)
  return ranks.map((_, i) => {
    const b = bin[i]!
    const off = slot[b]! * 65536
    let l = 0
    let below = 0
    while (below + low[off + l]! <= within[i]!) below += low[off + l++]!
    const key = ((b << 16) | l) >>> 0
    // Undo the key map: set sign bit → was non-negative; clear → was negative (bits flipped).
    fBits[0] = key >= 0x80000000 ? key & 0x7fffffff : ~key >>> 0
    return f[0]!
  })
}

/** `E_ARGS` unless `0 ≤ lower ≤ upper ≤ 100`. */
export function checkPercentiles(lower: number, upper: number): void {
  if (!(lower >= 0 && upper <= 100 && lower <= upper)) {
    throw new AppError('E_ARGS', `percentiles ${lower}, ${upper}: need 0 ≤ lower ≤ upper ≤ 100`)
  }
}

/**
 * The `q`-th percentile (0–100, numpy linear) of finite numbers in any order; `NaN` when empty.
 * Float64 in and out (sorts a copy: for small arrays such as one value per cohort case).
 */
export function percentileOf(values: readonly number[], q: number): number {
  checkPercentiles(q, q)
  const s = values.filter(Number.isFinite).sort((a, b) => a - b)
  const n = s.length
  if (n === 0) return NaN
  const h = (n - 1) * (q / 100)
  const k = Math.floor(h)
  return lerp(s[k]!, s[Math.min(k + 1, n - 1)]!, h - k)
}

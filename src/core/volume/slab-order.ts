/**
 * The order in which a viewer fetches a volume's k slices in slabs: the slab holding the slice
 * on screen first, then the others alternating outwards from it, so that scrolling away from the
 * first slice finds its neighbours already there. Pure.
 */

/** A run of whole k slices: `firstK` to `firstK + countK - 1`. */
export interface Slab {
  readonly firstK: number
  readonly countK: number
}

/**
 * Slabs of at most `slabK` slices covering `0 … sizeK - 1` exactly once, the one holding
 * `startK` first, then alternately the next one above and below it. Slab bounds are multiples
 * of `slabK` (the last one may be shorter).
 */
export function slabOrder(sizeK: number, slabK: number, startK: number): Slab[] {
  const n = Math.max(1, Math.floor(slabK))
  const count = Math.ceil(sizeK / n)
  const slab = (s: number): Slab => ({ firstK: s * n, countK: Math.min(n, sizeK - s * n) })
  const first = Math.min(count - 1, Math.max(0, Math.floor(startK / n)))
  const out: Slab[] = sizeK > 0 ? [slab(first)] : []
  for (let d = 1; out.length < count; d++) {
    if (first + d < count) out.push(slab(first + d))
    if (first - d >= 0) out.push(slab(first - d))
  }
  return out
}

/** Slices per slab so that one slab holds about `targetBytes` (at least one slice). */
export function slabSlices(sliceBytes: number, targetBytes: number): number {
  return Math.max(1, Math.floor(targetBytes / Math.max(1, sliceBytes)))
}

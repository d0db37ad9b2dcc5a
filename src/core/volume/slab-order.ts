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
 * Slabs covering `0 … sizeK - 1` exactly once: first the slab of `slabK` slices (bounds multiples
 * of `slabK`) holding `startK`, then alternately the next one above and below it, each of at most
 * `restK` slices (default `slabK`), going outwards; the last one on each side may be shorter.
 * A small first slab draws the views soon; bigger ones after it cut the per-request overhead.
 */
export function slabOrder(sizeK: number, slabK: number, startK: number, restK = slabK): Slab[] {
  if (sizeK <= 0) return []
  const n = Math.max(1, Math.floor(slabK))
  const r = Math.max(1, Math.floor(restK))
  const f = Math.min(Math.ceil(sizeK / n) - 1, Math.max(0, Math.floor(startK / n)))
  const first: Slab = { firstK: f * n, countK: Math.min(n, sizeK - f * n) }
  const out: Slab[] = [first]
  let above = first.firstK + first.countK
  let below = first.firstK
  while (above < sizeK || below > 0) {
    if (above < sizeK) {
      const countK = Math.min(r, sizeK - above)
      out.push({ firstK: above, countK })
      above += countK
    }
    if (below > 0) {
      const countK = Math.min(r, below)
      out.push({ firstK: below - countK, countK })
      below -= countK
    }
  }
  return out
}

/** Slices per slab so that one slab holds about `targetBytes` (at least one slice). */
export function slabSlices(sliceBytes: number, targetBytes: number): number {
  return Math.max(1, Math.floor(targetBytes / Math.max(1, sliceBytes)))
}

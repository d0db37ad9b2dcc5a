/**
 * Review hotspots: the most uncertain connected regions, per label. Seeds are voxels at or above
 * a high threshold (the 99.5th percentile of the non-zero uncertainty, at least half the
 * maximum); each seed's region grows over its 6-connected neighbours down to a low threshold (the
 * 98th percentile, at least half the seed threshold), so that regions differ in extent and in mean uncertainty instead of
 * all being a few saturated voxels (which made every hotspot read "uncertainty 1.00"). A region
 * goes to the non-background label most of its voxels carry (regions touching no label are
 * dropped) and is ranked by its summed uncertainty (voxels × mean: the "uncertain volume").
 */
import type { Hotspot, HotspotRequest } from './hotspot-protocol.js'

const MIN_VOXELS = 4

/** The `q` quantile (0–1) of the non-zero values of `u`, from a 4096-bin histogram. */
function quantileNonZero(u: Float32Array, max: number, q: number): number {
  const bins = new Uint32Array(4096)
  let n = 0
  for (let x = 0; x < u.length; x++) {
    const v = u[x]!
    if (v > 0) {
      bins[Math.min(4095, Math.floor((v / max) * 4096))]!++
      n++
    }
  }
  let acc = 0
  for (let b = 0; b < 4096; b++) {
    acc += bins[b]!
    if (acc >= q * n) return (b / 4096) * max
  }
  return max
}

/** The lowest growing threshold, as a fraction of the seed threshold. */
export const GROW_FRACTION = 0.5

export function findHotspots(r: HotspotRequest): { hotspots: Hotspot[]; threshold: number } {
  const [ni, nj, nk] = r.sizeIJK
  const u = r.uncertainty
  let max = 0
  for (let x = 0; x < u.length; x++) if (u[x]! > max) max = u[x]!
  if (!(max > 0)) return { hotspots: [], threshold: 0 }
  const threshold = Math.max(quantileNonZero(u, max, 0.995), 0.5 * max)
  // Growing stops at the 98th percentile (or half the seed threshold): regions stay local even
  // where a model is unsure over a whole organ.
  const low = Math.max(quantileNonZero(u, max, 0.98), GROW_FRACTION * threshold)
  const seen = new Uint8Array(u.length)
  const stack = new Int32Array(u.length)
  const found: Hotspot[] = []
  const m = r.indexToLPS
  const o = r.originLPS
  const slab = ni * nj
  for (let start = 0; start < u.length; start++) {
    if (seen[start] || u[start]! < threshold) continue
    let top = 0
    stack[top++] = start
    seen[start] = 1
    let count = 0
    let sum = 0
    let si = 0
    let sj = 0
    let sk = 0
    const votes = new Map<number, number>()
    while (top > 0) {
      const n = stack[--top]!
      const i = n % ni
      const j = Math.floor(n / ni) % nj
      const k = Math.floor(n / slab)
      count++
      sum += u[n]!
      si += i
      sj += j
      sk += k
      const l = r.labels[n]!
      if (l !== 0) votes.set(l, (votes.get(l) ?? 0) + 1)
      const push = (q: number): void => {
        if (!seen[q] && u[q]! >= low) {
          seen[q] = 1
          stack[top++] = q
        }
      }
      if (i > 0) push(n - 1)
      if (i < ni - 1) push(n + 1)
      if (j > 0) push(n - ni)
      if (j < nj - 1) push(n + ni)
      if (k > 0) push(n - slab)
      if (k < nk - 1) push(n + slab)
    }
    if (count < MIN_VOXELS || votes.size === 0) continue
    let label = 0
    let best = -1
    for (const [l, c] of votes) if (c > best) [label, best] = [l, c]
    const ci = si / count
    const cj = sj / count
    const ck = sk / count
    found.push({
      label,
      voxels: count,
      meanUncertainty: sum / count,
      centreLPS: [
        o[0] + m[0] * ci + m[1] * cj + m[2] * ck,
        o[1] + m[3] * ci + m[4] * cj + m[5] * ck,
        o[2] + m[6] * ci + m[7] * cj + m[8] * ck,
      ],
    })
  }
  const score = (h: Hotspot): number => h.voxels * h.meanUncertainty
  found.sort((a, b) => score(b) - score(a))
  const kept = new Map<number, number>()
  const hotspots = found.filter((h) => {
    const n = kept.get(h.label) ?? 0
    kept.set(h.label, n + 1)
    return n < r.perLabel
  })
  return { hotspots, threshold }
}

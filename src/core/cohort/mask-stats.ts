/**
 * Per-case figures for cohort QC, from the image, its mask and (optionally) its uncertainty map,
 * all on one voxel grid: per label voxel count, volume (mL), centroid (LPS mm), whether the
 * centroid lies inside the body, and mean uncertainty inside the label; the body's centroid.
 */
import type { Mat3, Vec3, VolumeGeometry } from '../../shared/geometry.js'
import { percentiles } from '../../shared/percentiles.js'
import type { VoxelArray } from '../../shared/volume.js'

export interface LabelStats {
  readonly value: number
  readonly voxels: number
  readonly volumeMl: number
  /** Mean LPS position of the label's voxel centres, mm; absent for an empty label. */
  readonly centroidLPS?: Vec3
  /** The centroid voxel has body on both sides along i, j and k (holes such as ventricles count). */
  readonly centroidInBody?: boolean
  /** Mean of the uncertainty map over the label's voxels (entropy, 0–1), when a map was given. */
  readonly meanUncertainty?: number
}

export interface MaskStats {
  readonly labels: readonly LabelStats[]
  /** Mean LPS position of the body voxels (image above `bodyThreshold`), mm. */
  readonly bodyCentroidLPS?: Vec3
  readonly bodyVoxels: number
  /** Intensity above which a voxel is body: p1 + 0.15·(p99 − p1) of the image, image units. */
  readonly bodyThreshold: number
  /** Mean uncertainty over every foreground voxel, when a map was given. */
  readonly meanUncertainty?: number
}

export interface MaskStatsInput {
  readonly geometry: VolumeGeometry
  readonly image: VoxelArray
  readonly mask: VoxelArray
  readonly uncertainty?: VoxelArray
  /** Foreground label values to report (background excluded). */
  readonly labelValues: readonly number[]
}

/** LPS mm of a (fractional) voxel index: origin + direction · diag(spacing) · ijk. */
export function indexToLPS(g: VolumeGeometry, i: number, j: number, k: number): Vec3 {
  const d: Mat3 = g.directionLPS
  const [si, sj, sk] = g.spacingMm
  const a = i * si
  const b = j * sj
  const c = k * sk
  return [
    g.originLPS[0] + d[0] * a + d[1] * b + d[2] * c,
    g.originLPS[1] + d[3] * a + d[4] * b + d[5] * c,
    g.originLPS[2] + d[6] * a + d[7] * b + d[8] * c,
  ]
}

/** The body threshold (see {@link MaskStats.bodyThreshold}) over ≤ ~1 M strided voxels. */
export function bodyThresholdOf(image: VoxelArray): number {
  const step = Math.max(1, Math.floor(image.length / 1_000_000))
  const s = new Float32Array(Math.ceil(image.length / step))
  let n = 0
  for (let i = 0; i < image.length; i += step) {
    const v = image[i] as number
    if (Number.isFinite(v)) s[n++] = v
  }
  const [lo, hi] = percentiles(s.subarray(0, n), 1, 99)
  return (lo as number) + 0.15 * ((hi as number) - (lo as number))
}

/** Computes {@link MaskStats}; the arrays must all have `sizeI·sizeJ·sizeK` voxels. */
export function maskStats(x: MaskStatsInput): MaskStats {
  const [ni, nj, nk] = x.geometry.sizeIJK
  const count = ni * nj * nk
  for (const [name, a] of [
    ['image', x.image],
    ['mask', x.mask],
    ['uncertainty', x.uncertainty],
  ] as const) {
    if (a !== undefined && a.length !== count) {
      throw new Error(`${name} has ${a.length} voxels, the grid needs ${count}`)
    }
  }
  const slot = new Map<number, number>()
  x.labelValues.forEach((v, s) => slot.set(v, s))
  const L = x.labelValues.length
  const n = new Float64Array(L)
  const si = new Float64Array(L)
  const sj = new Float64Array(L)
  const sk = new Float64Array(L)
  const su = new Float64Array(L)
  const thr = bodyThresholdOf(x.image)
  const body = new Uint8Array(count)
  let bn = 0
  let bi = 0
  let bj = 0
  let bk = 0
  let fgU = 0
  let fgN = 0
  const u = x.uncertainty
  for (let k = 0, p = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, p++) {
        if ((x.image[p] as number) > thr) {
          body[p] = 1
          bn++
          bi += i
          bj += j
          bk += k
        }
        const m = x.mask[p] as number
        if (m === 0) continue
        const s = slot.get(m)
        if (s === undefined) continue
        n[s]!++
        si[s]! += i
        sj[s]! += j
        sk[s]! += k
        if (u) {
          const uv = u[p] as number
          su[s]! += uv
          fgU += uv
          fgN++
        }
      }
    }
  }
  const g = x.geometry
  const voxelMl = (g.spacingMm[0] * g.spacingMm[1] * g.spacingMm[2]) / 1000
  const inBody = (ci: number, cj: number, ck: number): boolean => {
    const I = Math.round(ci)
    const J = Math.round(cj)
    const K = Math.round(ck)
    const at = (i: number, j: number, k: number): number => body[i + ni * (j + nj * k)] as number
    if (at(I, J, K) === 1) return true
    // A hole (a ventricle, an airway) is inside when body encloses it along every axis.
    const ray = (len: number, f: (t: number) => number, from: number): boolean => {
      let lo = false
      let hi = false
      for (let t = 0; t < from && !lo; t++) lo = f(t) === 1
      for (let t = from + 1; t < len && !hi; t++) hi = f(t) === 1
      return lo && hi
    }
    return (
      ray(ni, (t) => at(t, J, K), I) &&
      ray(nj, (t) => at(I, t, K), J) &&
      ray(nk, (t) => at(I, J, t), K)
    )
  }
  const labels: LabelStats[] = x.labelValues.map((value, s) => {
    const c = n[s] as number
    if (c === 0) return { value, voxels: 0, volumeMl: 0 }
    const ci = (si[s] as number) / c
    const cj = (sj[s] as number) / c
    const ck = (sk[s] as number) / c
    return {
      value,
      voxels: c,
      volumeMl: c * voxelMl,
      centroidLPS: indexToLPS(g, ci, cj, ck),
      centroidInBody: inBody(ci, cj, ck),
      ...(u ? { meanUncertainty: (su[s] as number) / c } : {}),
    }
  })
  return {
    labels,
    bodyVoxels: bn,
    bodyThreshold: thr,
    ...(bn > 0 ? { bodyCentroidLPS: indexToLPS(g, bi / bn, bj / bn, bk / bn) } : {}),
    ...(u && fgN > 0 ? { meanUncertainty: fgU / fgN } : {}),
  }
}

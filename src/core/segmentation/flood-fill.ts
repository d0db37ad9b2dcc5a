/**
 * Flood fill / region grow from a seed voxel over voxels whose intensity is in [lo, hi],
 * 6-connected (face neighbours only: ±i, ±j, ±k), in 3-D or within the seed's slice of one
 * axis (2-D, then 4-connected in that slice). Iterative with an explicit typed-array stack and a
 * visited bitset (n/8 bytes); linear in the grown region.
 */
import type { Vec3 } from '../../shared/geometry.js'
import { assertOnGrid, type IntensityArray, type LabelVolume } from './label-volume.js'
import { IndexList, writeIndexed, type LabelDelta } from './label-delta.js'

/** Options of {@link floodFill}. */
export interface FloodFillOptions {
  /** Seed voxel index (i, j, k), integers inside the grid. */
  readonly seedIJK: Vec3
  /** Intensity volume on the grid; growth only through voxels with lo ≤ v ≤ hi. */
  readonly intensity: IntensityArray
  readonly range: readonly [number, number]
  /** Label value written to the grown region. */
  readonly value: number
  /** Restrict to the slice through the seed normal to this voxel axis (0 = i, 1 = j, 2 = k). */
  readonly sliceAxis?: 0 | 1 | 2
  /** Only grow through voxels currently of this label (e.g. 0 = unlabelled only). */
  readonly onlyLabel?: number
}

/** Result of {@link floodFill}. */
export interface FloodFillResult {
  readonly delta: LabelDelta
  /** Voxels in the grown region (including those already of `value`). */
  readonly regionVoxels: number
}

/** Grows the region and writes `value` into it, in place. */
export function floodFill(vol: LabelVolume, o: FloodFillOptions): FloodFillResult {
  const g = vol.geometry
  assertOnGrid(g, o.intensity, 'intensity')
  const [ni, nj, nk] = g.sizeIJK
  const [si, sj, sk] = o.seedIJK
  if (!(si >= 0 && sj >= 0 && sk >= 0 && si < ni && sj < nj && sk < nk)) {
    throw new RangeError('seed is outside the grid')
  }
  const [lo, hi] = o.range
  const lab = vol.labels
  const inten = o.intensity
  const ok = (n: number): boolean => {
    const v = inten[n]!
    return v >= lo && v <= hi && (o.onlyLabel === undefined || lab[n] === o.onlyLabel)
  }
  const seen = new Uint32Array(Math.ceil((ni * nj * nk) / 32))
  const stack = new IndexList()
  const region = new IndexList()
  const seed = si + ni * (sj + nj * sk)
  const visit = (n: number): void => {
    const w = n >>> 5
    const b = 1 << (n & 31)
    if (seen[w]! & b) return
    seen[w]! |= b
    if (ok(n)) stack.push(n)
  }
  visit(seed)
  const ax = o.sliceAxis
  const nij = ni * nj
  while (stack.length > 0) {
    const n = stack.data[--stack.length]!
    region.push(n)
    const i = n % ni
    const j = ((n - i) / ni) % nj
    const k = (n - i - ni * j) / nij
    if (ax !== 0) {
      if (i > 0) visit(n - 1)
      if (i < ni - 1) visit(n + 1)
    }
    if (ax !== 1) {
      if (j > 0) visit(n - ni)
      if (j < nj - 1) visit(n + ni)
    }
    if (ax !== 2) {
      if (k > 0) visit(n - nij)
      if (k < nk - 1) visit(n + nij)
    }
  }
  return {
    delta: writeIndexed(vol, region.data, region.length, o.value),
    regionVoxels: region.length,
  }
}

/**
 * Per-label statistics of a label map on its image's grid: voxel count, volume, intensity
 * summary on the source image, bounding box and centroid in LPS millimetres. Surface area is
 * added by the caller from {@link labelSurfaceLPS} (it needs the mesh).
 */
import type { LabelChangeRecord } from '../../shared/export.js'
import type { Vec3, VolumeGeometry } from '../../shared/geometry.js'
import { affineLPS } from '../geometry/affine.js'
import type { IntensityArray, LabelArray } from './label-volume.js'
import { voxelVolumeMm3 } from './label-volume.js'

/** Statistics of one label value. */
export interface LabelStatistics {
  readonly value: number
  readonly voxels: number
  /** voxels × voxel volume (mm³) / 1000. */
  readonly volumeMl: number
  /** Source image intensities under the label (real-world values, rescale applied). */
  readonly intensity: {
    readonly mean: number
    /** Population standard deviation (divides by n). */
    readonly std: number
    readonly min: number
    /** Middle value; the mean of the two middle values for an even count (numpy's median). */
    readonly median: number
    readonly max: number
  }
  /** Smallest and largest voxel index of the label along i, j, k (inclusive). */
  readonly bboxIJK: { readonly min: Vec3; readonly max: Vec3 }
  /** Smallest and largest LPS coordinate (mm) of the label's voxel centres. */
  readonly bboxLPS: { readonly min: Vec3; readonly max: Vec3 }
  /** Mean LPS position (mm) of the label's voxel centres. */
  readonly centroidLPS: Vec3
}

/**
 * Statistics of every value in `values` (each present at least once in `labels`; absent values
 * are skipped). `labels` and `image` lie on `geometry` (i fastest); throws on a length mismatch.
 */
export function labelStatistics(
  labels: LabelArray,
  image: IntensityArray,
  geometry: VolumeGeometry,
  values: readonly number[],
): LabelStatistics[] {
  const [ni, nj, nk] = geometry.sizeIJK
  const n = ni * nj * nk
  if (labels.length !== n || image.length !== n) {
    throw new Error(
      `labels (${labels.length}) and image (${image.length}) must both have ${n} voxels`,
    )
  }
  const wanted = new Int32Array(labels instanceof Uint8Array ? 256 : 65536).fill(-1)
  values.forEach((v, idx) => (wanted[v] = idx))
  const m = values.length
  const count = new Float64Array(m)
  const sumI = new Float64Array(m * 3)
  const lo = new Int32Array(m * 3).fill(0x7fffffff)
  const hi = new Int32Array(m * 3).fill(-1)
  const A = affineLPS(geometry)
  const loL = new Float64Array(m * 3).fill(Infinity)
  const hiL = new Float64Array(m * 3).fill(-Infinity)
  let p = 0
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, p++) {
        const w = wanted[labels[p]!]!
        if (w < 0) continue
        count[w]!++
        const ijk = [i, j, k]
        for (let a = 0; a < 3; a++) {
          const c = ijk[a]!
          sumI[3 * w + a]! += c
          if (c < lo[3 * w + a]!) lo[3 * w + a] = c
          if (c > hi[3 * w + a]!) hi[3 * w + a] = c
          const x = A[4 * a]! * i + A[4 * a + 1]! * j + A[4 * a + 2]! * k + A[4 * a + 3]!
          if (x < loL[3 * w + a]!) loL[3 * w + a] = x
          if (x > hiL[3 * w + a]!) hiL[3 * w + a] = x
        }
      }
    }
  }
  // Intensities per label, gathered into one buffer (offsets by count) for the median.
  const offset = new Float64Array(m + 1)
  for (let w = 0; w < m; w++) offset[w + 1] = offset[w]! + count[w]!
  const gathered = new Float64Array(offset[m]!)
  const fill = Float64Array.from(offset.subarray(0, m))
  for (let q = 0; q < n; q++) {
    const w = wanted[labels[q]!]!
    if (w >= 0) gathered[fill[w]!++] = image[q]!
  }
  const mm3 = voxelVolumeMm3(geometry)
  const out: LabelStatistics[] = []
  for (let w = 0; w < m; w++) {
    const c = count[w]!
    if (c === 0) continue
    const xs = gathered.subarray(offset[w]!, offset[w + 1]!).sort()
    let sum = 0
    for (const x of xs) sum += x
    const mean = sum / c
    let ss = 0
    for (const x of xs) ss += (x - mean) * (x - mean)
    const mid = Math.floor(c / 2)
    const median = c % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2
    const mi = sumI.subarray(3 * w, 3 * w + 3).map((s) => s / c)
    const centroid = [0, 1, 2].map(
      (r) => A[4 * r]! * mi[0]! + A[4 * r + 1]! * mi[1]! + A[4 * r + 2]! * mi[2]! + A[4 * r + 3]!,
    )
    const v3 = (a: ArrayLike<number>, at: number): Vec3 => [a[at]!, a[at + 1]!, a[at + 2]!]
    out.push({
      value: values[w]!,
      voxels: c,
      volumeMl: (c * mm3) / 1000,
      intensity: { mean, std: Math.sqrt(ss / c), min: xs[0]!, median, max: xs[c - 1]! },
      bboxIJK: { min: v3(lo, 3 * w), max: v3(hi, 3 * w) },
      bboxLPS: { min: v3(loL, 3 * w), max: v3(hiL, 3 * w) },
      centroidLPS: v3(centroid, 0),
    })
  }
  return out
}

/**
 * How a final label map differs from the model's output, per label value: voxels the human
 * added and removed, and the Dice coefficient 2|A∩F| / (|A| + |F|) (1 when both are empty). The
 * record the exports carry (`src/shared/export.ts`), by its core name.
 */
export type LabelChange = LabelChangeRecord

/** {@link LabelChange} for every value present in either map (background excluded), ascending. */
export function labelChanges(ai: LabelArray, final: LabelArray): LabelChange[] {
  if (ai.length !== final.length) {
    throw new Error(`the model's map has ${ai.length} voxels, the final one ${final.length}`)
  }
  const size = 65536
  const a = new Float64Array(size)
  const f = new Float64Array(size)
  const both = new Float64Array(size)
  for (let q = 0; q < ai.length; q++) {
    const x = ai[q]!
    const y = final[q]!
    a[x]!++
    f[y]!++
    if (x === y) both[x]!++
  }
  const out: LabelChange[] = []
  for (let v = 1; v < size; v++) {
    if (a[v] === 0 && f[v] === 0) continue
    const inter = both[v]!
    out.push({
      value: v,
      aiVoxels: a[v]!,
      finalVoxels: f[v]!,
      added: f[v]! - inter,
      removed: a[v]! - inter,
      dice: (2 * inter) / (a[v]! + f[v]!),
    })
  }
  return out
}

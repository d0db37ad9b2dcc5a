/**
 * Where to show a label when triage moves to it: one voxel of that label near its centre of mass.
 * A label's centroid can lie outside it (a ring, a C-shaped organ, two separate lesions), so the
 * voxel returned is always one of the label's own.
 */
import type { Vec3 } from '../../shared/geometry.js'
import type { LabelArray } from './label-volume.js'

/**
 * The voxel (i, j, k indices) of label `value` closest, in millimetres, to the label's centroid;
 * undefined when no voxel holds `value`. `sizeIJK` is the grid (i fastest), `spacingMm` its voxel
 * spacing (distance is measured in mm so anisotropic grids pick the visually nearest voxel).
 * Two linear passes over the grid.
 */
export function labelFocusIJK(
  labels: LabelArray,
  sizeIJK: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  value: number,
): Vec3 | undefined {
  const [ni, nj] = sizeIJK
  const nij = ni * nj
  let n = 0
  let si = 0
  let sj = 0
  let sk = 0
  for (let x = 0; x < labels.length; x++) {
    if (labels[x] !== value) continue
    const k = Math.floor(x / nij)
    const r = x - k * nij
    const j = Math.floor(r / ni)
    si += r - j * ni
    sj += j
    sk += k
    n++
  }
  if (n === 0) return undefined
  const ci = si / n
  const cj = sj / n
  const ck = sk / n
  const [di, dj, dk] = spacingMm
  let best = Infinity
  let at: Vec3 = [0, 0, 0]
  for (let x = 0; x < labels.length; x++) {
    if (labels[x] !== value) continue
    const k = Math.floor(x / nij)
    const r = x - k * nij
    const j = Math.floor(r / ni)
    const i = r - j * ni
    const d = ((i - ci) * di) ** 2 + ((j - cj) * dj) ** 2 + ((k - ck) * dk) ** 2
    if (d < best) {
      best = d
      at = [i, j, k]
    }
  }
  return at
}

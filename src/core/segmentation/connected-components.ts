/**
 * Connected components of equal non-zero label values, 6- or 26-connected, visited one at a time
 * with an explicit stack and a visited bitset (no per-voxel id array, so memory is n/8 bytes plus
 * the largest component). Linear in the volume. Shared by the island operations.
 */
import type { LabelVolume } from './label-volume.js'
import { IndexList } from './label-delta.js'

/** 6: face neighbours; 26: faces, edges and corners. */
export type Connectivity = 6 | 26

/**
 * Calls `onComponent(label, voxels, count)` for each component (of label `only`, or of every
 * non-zero label), in order of its first voxel in memory. `voxels` is reused between calls.
 */
export function forEachComponent(
  vol: LabelVolume,
  connectivity: Connectivity,
  onComponent: (label: number, voxels: Int32Array, count: number) => void,
  only?: number,
): void {
  const [ni, nj, nk] = vol.geometry.sizeIJK
  const lab = vol.labels
  const seen = new Uint32Array(Math.ceil((ni * nj * nk) / 32))
  const offs: [number, number, number][] = []
  for (let dk = -1; dk <= 1; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const m = Math.abs(di) + Math.abs(dj) + Math.abs(dk)
        if (m === 0 || (connectivity === 6 && m > 1)) continue
        offs.push([di, dj, dk])
      }
    }
  }
  const flat = Int32Array.from(offs, ([di, dj, dk]) => di + ni * (dj + nj * dk))
  const stack = new IndexList()
  const comp = new IndexList()
  const mark = (n: number): boolean => {
    const w = n >>> 5
    const b = 1 << (n & 31)
    if (seen[w]! & b) return false
    seen[w]! |= b
    return true
  }
  for (let s = 0; s < lab.length; s++) {
    const L = lab[s]!
    if (L === 0 || (only !== undefined && L !== only) || !mark(s)) continue
    stack.length = 0
    comp.length = 0
    stack.push(s)
    while (stack.length > 0) {
      const n = stack.data[--stack.length]!
      comp.push(n)
      const i = n % ni
      const j = ((n - i) / ni) % nj
      const k = (n - i - ni * j) / (ni * nj)
      if (i > 0 && j > 0 && k > 0 && i < ni - 1 && j < nj - 1 && k < nk - 1) {
        // Interior voxel: flat offsets, no bounds checks (the common, hot case).
        for (let x = 0; x < flat.length; x++) {
          const m = n + flat[x]!
          if (lab[m] === L && mark(m)) stack.push(m)
        }
        continue
      }
      for (const [di, dj, dk] of offs) {
        const a = i + di,
          b = j + dj,
          c = k + dk
        if (a < 0 || b < 0 || c < 0 || a >= ni || b >= nj || c >= nk) continue
        const m = a + ni * (b + nj * c)
        if (lab[m] === L && mark(m)) stack.push(m)
      }
    }
    onComponent(L, comp.data, comp.length)
  }
}

/**
 * Synthetic label maps for the viewer bench. Each function is self-contained (no imports, no
 * module-level helpers) because the bench also runs it inside the page with `page.evaluate`,
 * which sends the function's source text.
 */

export interface Mask {
  readonly size: [number, number, number]
  readonly labels: Uint8Array
  /** Label value → name, in painting order. */
  readonly names: Record<number, string>
}

/**
 * Ten organ-like ellipsoids on a 512×512×300 grid (0.7×0.7×1 mm), of realistic sizes: three large
 * (liver ~2.9 M voxels, lungs ~1.8 M each), five medium (spleen, kidneys, aorta, bladder) and two
 * small lesions (r = 10 and 4 voxels). Later labels overwrite earlier ones where they overlap.
 */
export function organMask(): Mask {
  const size: [number, number, number] = [512, 512, 300]
  const [ni, nj] = size
  // value, name, centre (fraction of the grid), radii (voxels)
  const organs: [number, string, number, number, number, number, number, number][] = [
    [1, 'liver', 0.36, 0.48, 0.42, 110, 90, 70],
    [2, 'lung right', 0.32, 0.5, 0.74, 72, 100, 60],
    [3, 'lung left', 0.68, 0.5, 0.74, 72, 100, 60],
    [4, 'spleen', 0.74, 0.58, 0.45, 40, 50, 40],
    [5, 'kidney right', 0.36, 0.66, 0.3, 30, 35, 45],
    [6, 'kidney left', 0.64, 0.66, 0.3, 30, 35, 45],
    [7, 'aorta', 0.52, 0.56, 0.5, 14, 14, 120],
    [8, 'bladder', 0.5, 0.45, 0.1, 45, 40, 30],
    [9, 'lesion', 0.4, 0.42, 0.45, 10, 10, 10],
    [10, 'nodule', 0.62, 0.45, 0.78, 4, 4, 4],
  ]
  const labels = new Uint8Array(size[0] * size[1] * size[2])
  const names: Record<number, string> = {}
  for (const [value, name, fi, fj, fk, ri, rj, rk] of organs) {
    names[value] = name
    const c = [fi * size[0], fj * size[1], fk * size[2]]
    const r = [ri, rj, rk]
    const lo = [0, 1, 2].map((a) => Math.max(0, Math.floor(c[a]! - r[a]!)))
    const hi = [0, 1, 2].map((a) => Math.min(size[a]! - 1, Math.ceil(c[a]! + r[a]!)))
    for (let k = lo[2]!; k <= hi[2]!; k++) {
      const dk = (k - c[2]!) / rk
      for (let j = lo[1]!; j <= hi[1]!; j++) {
        const dj = (j - c[1]!) / rj
        const base = ni * (j + nj * k)
        for (let i = lo[0]!; i <= hi[0]!; i++) {
          const di = (i - c[0]!) / ri
          if (di * di + dj * dj + dk * dk <= 1) labels[base + i] = value
        }
      }
    }
  }
  return { size, labels, names }
}

/**
 * What an untrained model gives on ch2 (181×217×181): two labels speckled through the head, in
 * blocks of 1–2 voxels, about 30 % and 50 % of the voxels inside a head-sized ellipsoid, so each
 * label is tens of thousands of small islands spanning the whole grid.
 */
export function noisyMask(): Mask {
  const size: [number, number, number] = [181, 217, 181]
  const [ni, nj, nk] = size
  const labels = new Uint8Array(ni * nj * nk)
  let n = 0
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, n++) {
        const di = (i - ni / 2) / (0.45 * ni)
        const dj = (j - nj / 2) / (0.45 * nj)
        const dk = (k - nk / 2) / (0.45 * nk)
        if (di * di + dj * dj + dk * dk > 1) continue
        // blocky hash (2-voxel cells) mixed with a per-voxel one
        let h = Math.imul(
          (i >> 1) * 73856093 + (j >> 1) * 19349663 + (k >> 1) * 83492791,
          0x9e3779b1,
        )
        h ^= h >>> 15
        let g = Math.imul(i * 2654435761 + j * 40503 + k * 2246822519, 0x85ebca6b)
        g ^= g >>> 13
        const u = (((h >>> 8) & 0xffff) * 0.7 + ((g >>> 8) & 0xffff) * 0.3) / 0x10000
        labels[n] = u < 0.2 ? 0 : u < 0.5 ? 1 : 2
      }
    }
  }
  return { size, labels, names: { 1: 'a', 2: 'b' } }
}

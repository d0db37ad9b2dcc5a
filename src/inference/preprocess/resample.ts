/**
 * Resampling between the tensor grid at source spacing and the model grid at target spacing.
 * Both grids cover the same physical box (voxel centres at `(x + 0.5) · n_src / n_dst − 0.5`,
 * "half-pixel" mapping), so a round trip at the same size is the identity and the mask comes
 * back exactly on the source grid. Linear, separable (three 1-D passes), float32.
 */
export type Shape3 = readonly [number, number, number]

/** Number of voxels in a grid of `shape`. */
export const voxelCount = (shape: Shape3): number => shape[0] * shape[1] * shape[2]

/**
 * Model-grid size for a tensor grid of `shape` at `spacingMm` resampled to `targetMm`
 * (nnU-Net: `round(shape · spacing / target)`, at least 1). `null` keeps the grid.
 */
export function targetShape(
  shape: Shape3,
  spacingMm: Shape3,
  targetMm: Shape3 | null,
): [number, number, number] {
  if (targetMm === null) return [shape[0], shape[1], shape[2]]
  return [0, 1, 2].map((t) =>
    Math.max(
      1,
      Math.round(((shape[t] as number) * (spacingMm[t] as number)) / (targetMm[t] as number)),
    ),
  ) as [number, number, number]
}

/** Per output position: lower source index, upper source index, weight of the upper one. */
function axisTaps(nSrc: number, nDst: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(nDst)
  const i1 = new Int32Array(nDst)
  const w = new Float32Array(nDst)
  const scale = nSrc / nDst
  for (let x = 0; x < nDst; x++) {
    const p = Math.min(nSrc - 1, Math.max(0, (x + 0.5) * scale - 0.5))
    const lo = Math.floor(p)
    i0[x] = lo
    i1[x] = Math.min(nSrc - 1, lo + 1)
    w[x] = p - lo
  }
  return { i0, i1, w }
}

/** Resamples along one axis (0 = D, 1 = H, 2 = W) of a [D, H, W] grid. */
function resampleAxis(src: Float32Array, shape: Shape3, axis: number, nDst: number): Float32Array {
  const nSrc = shape[axis] as number
  if (nSrc === nDst) return src
  const out = [shape[0], shape[1], shape[2]]
  out[axis] = nDst
  const [od, oh, ow] = out as [number, number, number]
  const dst = new Float32Array(od * oh * ow)
  const { i0, i1, w } = axisTaps(nSrc, nDst)
  const [, sh, sw] = shape
  if (axis === 2) {
    for (let row = 0, r = 0; row < od * oh; row++, r += sw) {
      const o = row * ow
      for (let x = 0; x < ow; x++) {
        const a = src[r + (i0[x] as number)] as number
        const b = src[r + (i1[x] as number)] as number
        dst[o + x] = a + (b - a) * (w[x] as number)
      }
    }
  } else if (axis === 1) {
    for (let d = 0; d < od; d++) {
      for (let y = 0; y < oh; y++) {
        const ra = (d * sh + (i0[y] as number)) * sw
        const rb = (d * sh + (i1[y] as number)) * sw
        const wy = w[y] as number
        const o = (d * oh + y) * ow
        for (let x = 0; x < ow; x++) {
          const a = src[ra + x] as number
          dst[o + x] = a + ((src[rb + x] as number) - a) * wy
        }
      }
    }
  } else {
    const plane = sh * sw
    for (let z = 0; z < od; z++) {
      const pa = (i0[z] as number) * plane
      const pb = (i1[z] as number) * plane
      const wz = w[z] as number
      const o = z * plane
      for (let x = 0; x < plane; x++) {
        const a = src[pa + x] as number
        dst[o + x] = a + ((src[pb + x] as number) - a) * wz
      }
    }
  }
  return dst
}

/**
 * Linear resampling of a [D, H, W] float32 grid to `dstShape` (same physical box). Returns the
 * input itself when the shapes are equal.
 */
export function resampleLinear(src: Float32Array, shape: Shape3, dstShape: Shape3): Float32Array {
  let cur = src
  const s = [shape[0], shape[1], shape[2]] as [number, number, number]
  for (const axis of [2, 1, 0]) {
    cur = resampleAxis(cur, s, axis, dstShape[axis] as number)
    s[axis] = dstShape[axis] as number
  }
  return cur
}

/** Why the engine resamples with linear interpolation; recorded in results. */
export const RESAMPLING_NOTE = 'linear (separable, half-pixel centres)'

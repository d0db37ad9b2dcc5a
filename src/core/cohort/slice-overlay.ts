/**
 * One axial slice of a case for the cohort montage, with the mask's outline: the voxel axis
 * closest to LPS z is the slice axis; the image is shown in radiological convention (patient
 * Left on the screen's right, i.e. screen x along LPS +x; anterior up, i.e. screen y along
 * LPS +y), whatever the storage order, so a left-right flip looks like one.
 */
import type { VolumeGeometry } from '../../shared/geometry.js'
import { percentiles } from '../../shared/percentiles.js'
import type { VoxelArray } from '../../shared/volume.js'

export interface RgbImage {
  readonly width: number
  readonly height: number
  /** width·height·3 bytes, row-major from the top-left. */
  readonly rgb: Uint8Array
}

export interface SliceOverlayInput {
  readonly geometry: VolumeGeometry
  readonly image: VoxelArray
  readonly mask: VoxelArray
  /** Outline colour per label value. */
  readonly colors: ReadonlyMap<number, readonly [number, number, number]>
  /** Largest width or height in pixels (integer down-sampling above it). Default 256. */
  readonly maxSize?: number
}

/** The slice through the mask's centroid (the volume's middle slice when the mask is empty). */
export function sliceOverlay(x: SliceOverlayInput): RgbImage {
  const g = x.geometry
  const d = g.directionLPS
  const col = (a: number): [number, number, number] => [d[a]!, d[3 + a]!, d[6 + a]!]
  const axes = [0, 1, 2]
  const s = axes.reduce((b, a) => (Math.abs(col(a)[2]) > Math.abs(col(b)[2]) ? a : b))
  const inPlane = axes.filter((a) => a !== s)
  const c = inPlane.reduce((b, a) => (Math.abs(col(a)[0]) > Math.abs(col(b)[0]) ? a : b))
  const r = inPlane.find((a) => a !== c) as number
  const size = g.sizeIJK
  const stride = [1, size[0], size[0] * size[1]]
  const flipC = col(c)[0] < 0
  const flipR = col(r)[1] < 0
  // Slice index: the mask's centroid along the slice axis.
  let sum = 0
  let cnt = 0
  for (let p = 0; p < x.mask.length; p++) {
    if ((x.mask[p] as number) !== 0) {
      sum += Math.floor(p / stride[s]!) % size[s]!
      cnt++
    }
  }
  const si = cnt > 0 ? Math.round(sum / cnt) : Math.floor(size[s]! / 2)
  const nc = size[c]!
  const nr = size[r]!
  const step = Math.max(1, Math.ceil(Math.max(nc, nr) / (x.maxSize ?? 256)))
  const w = Math.ceil(nc / step)
  const h = Math.ceil(nr / step)
  const at = (ci: number, ri: number): number =>
    si * stride[s]! +
    (flipC ? nc - 1 - ci : ci) * stride[c]! +
    (flipR ? nr - 1 - ri : ri) * stride[r]!
  const grey = new Float32Array(w * h)
  const lab = new Float64Array(w * h)
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      const p = at(xx * step, y * step)
      grey[y * w + xx] = x.image[p] as number
      lab[y * w + xx] = x.mask[p] as number
    }
  }
  const finite = grey.filter(Number.isFinite)
  const [lo, hi] = finite.length > 0 ? percentiles(finite, 1, 99) : [0, 1]
  const span = (hi as number) - (lo as number) || 1
  const rgb = new Uint8Array(w * h * 3)
  for (let q = 0; q < w * h; q++) {
    const v = Math.round((((grey[q] as number) - (lo as number)) / span) * 255)
    const b = Number.isFinite(v) ? Math.max(0, Math.min(255, v)) : 0
    rgb[q * 3] = b
    rgb[q * 3 + 1] = b
    rgb[q * 3 + 2] = b
  }
  // Outline: a labelled pixel with a 4-neighbour of another value (or at the edge).
  for (let y = 0; y < h; y++) {
    for (let xx = 0; xx < w; xx++) {
      const q = y * w + xx
      const l = lab[q] as number
      if (l === 0) continue
      const edge =
        xx === 0 ||
        y === 0 ||
        xx === w - 1 ||
        y === h - 1 ||
        lab[q - 1] !== l ||
        lab[q + 1] !== l ||
        lab[q - w] !== l ||
        lab[q + w] !== l
      if (!edge) continue
      const color = x.colors.get(l) ?? [255, 0, 0]
      rgb[q * 3] = color[0]
      rgb[q * 3 + 1] = color[1]
      rgb[q * 3 + 2] = color[2]
    }
  }
  return { width: w, height: h, rgb }
}

/**
 * Which pixels of a slice view show a box of voxels: a view redraws only those after an edit
 * in that box. Pure (no DOM): a view's pixel (x, y) samples the voxel nearest to the LPS point
 * `p0 + x·pxMm·right + y·pxMm·down`, with `p0` the centre of its top-left pixel.
 */
import type { IndexBox } from '../../../src/core/segmentation/label-volume.js'
import type { Vec3 } from '../../../src/shared/geometry.js'
import { add, dot, scale, sub, type GridTransform, type ViewFrame } from '../app/view-geometry.js'

/** A rectangle of canvas pixels, max exclusive. */
export interface PixelRect {
  readonly x0: number
  readonly y0: number
  readonly x1: number
  readonly y1: number
}

/**
 * LPS (mm) of the centre of the top-left pixel of a `w`×`h` view of frame `f` centred on
 * `centreLPS`, at `pxMm` millimetres per canvas pixel.
 */
export function firstPixelLPS(
  centreLPS: Vec3,
  f: ViewFrame,
  pxMm: number,
  w: number,
  h: number,
): Vec3 {
  return add(
    centreLPS,
    add(scale(f.right, (0.5 - w / 2) * pxMm), scale(f.down, (0.5 - h / 2) * pxMm)),
  )
}

/**
 * The pixels that sample a voxel of `box` (voxel indices, max exclusive), grown by `pad` pixels
 * on every side (label outlines look `pad` pixels away) and clipped to the canvas; 'none' when
 * the view's plane misses the box or the box is empty. Conservative: the rectangle bounds the
 * projection of the box onto the plane, which holds its section.
 */
export function pixelRectOfBox(
  grid: GridTransform,
  f: ViewFrame,
  p0LPS: Vec3,
  pxMm: number,
  w: number,
  h: number,
  box: IndexBox,
  pad: number,
): PixelRect | 'none' {
  if (box[3] <= box[0] || box[4] <= box[1] || box[5] <= box[2]) return 'none'
  // A voxel i covers the continuous indices [i − ½, i + ½): the corners are half a voxel out.
  let above = 0
  let below = 0
  let xMin = Infinity
  let xMax = -Infinity
  let yMin = Infinity
  let yMax = -Infinity
  for (let c = 0; c < 8; c++) {
    const ijk: Vec3 = [
      (c & 1 ? box[3] : box[0]) - 0.5,
      (c & 2 ? box[4] : box[1]) - 0.5,
      (c & 4 ? box[5] : box[2]) - 0.5,
    ]
    const d = sub(grid.toLPS(ijk), p0LPS)
    const off = dot(d, f.normal)
    if (off > 1e-6) above++
    else if (off < -1e-6) below++
    const x = dot(d, f.right) / pxMm
    const y = dot(d, f.down) / pxMm
    xMin = Math.min(xMin, x)
    xMax = Math.max(xMax, x)
    yMin = Math.min(yMin, y)
    yMax = Math.max(yMax, y)
  }
  if (above === 8 || below === 8) return 'none'
  const x0 = Math.max(0, Math.floor(xMin) - pad)
  const y0 = Math.max(0, Math.floor(yMin) - pad)
  const x1 = Math.min(w, Math.ceil(xMax) + pad + 1)
  const y1 = Math.min(h, Math.ceil(yMax) + pad + 1)
  return x1 > x0 && y1 > y0 ? { x0, y0, x1, y1 } : 'none'
}

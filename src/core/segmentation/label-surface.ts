/**
 * One label's surface in patient millimetres: the surface the 3-D view draws (marching cubes of
 * the label's padded bounding box, then windowed-sinc smoothing with the view's settings), with
 * its points carried from voxel indices to LPS mm through the grid. Used by the mesh export and
 * the surface-area statistic, so both describe what the viewer shows.
 */
import type { VolumeGeometry } from '../../shared/geometry.js'
import { affineLPS } from '../geometry/affine.js'
import type { LabelArray } from './label-volume.js'
import { binaryBox, marchingCubes, windowedSinc, type LabelBox } from './surfaces.js'

/** Smoothing of the 3-D view (renderer/src/workers/surface-worker.ts): iterations, pass band. */
export const VIEW_SMOOTHING = { iterations: 15, passBand: 0.1 } as const

/** A triangle mesh in LPS millimetres. */
export interface SurfaceLPS {
  /** x, y, z per point, LPS mm (float32, as the view and the file formats hold them). */
  readonly pointsLPS: Float32Array
  /** Triangles as vtk.js polys: `3, a, b, c` per triangle (point indices). */
  readonly polys: Uint32Array
}

/**
 * The surface of label `value` inside `box` (voxel indices, inclusive), at full resolution
 * (stride 1). `smooth`: the view's windowed-sinc smoothing ({@link VIEW_SMOOTHING}); without it,
 * the raw marching-cubes surface (points on voxel edges, half a voxel outside the label's voxel
 * centres). Points are in LPS mm: `originLPS + directionLPS·diag(spacingMm)·ijk`.
 */
export function labelSurfaceLPS(
  labels: LabelArray,
  geometry: VolumeGeometry,
  value: number,
  box: LabelBox,
  smooth: boolean,
): SurfaceLPS {
  const { bin, dims } = binaryBox(labels, geometry.sizeIJK, value, box, 1)
  const mesh = marchingCubes(bin, dims)
  const points = smooth
    ? windowedSinc(mesh, VIEW_SMOOTHING.iterations, VIEW_SMOOTHING.passBand)
    : mesh.points.slice()
  const m = affineLPS(geometry)
  // Sub-image point (x, y, z) → voxel index lo + (p − 1) → LPS, in place (as the view does).
  for (let p = 0; p < points.length; p += 3) {
    const i = box.lo[0] + points[p]! - 1
    const j = box.lo[1] + points[p + 1]! - 1
    const k = box.lo[2] + points[p + 2]! - 1
    points[p] = m[0]! * i + m[1]! * j + m[2]! * k + m[3]!
    points[p + 1] = m[4]! * i + m[5]! * j + m[6]! * k + m[7]!
    points[p + 2] = m[8]! * i + m[9]! * j + m[10]! * k + m[11]!
  }
  return { pointsLPS: points, polys: mesh.polys }
}

/** Total area of a triangle mesh (mm² for LPS mm points), summed in float64. */
export function surfaceAreaMm2(s: SurfaceLPS): number {
  const p = s.pointsLPS
  let area = 0
  for (let c = 0; c < s.polys.length; c += 4) {
    const a = 3 * s.polys[c + 1]!
    const b = 3 * s.polys[c + 2]!
    const d = 3 * s.polys[c + 3]!
    const ux = p[b]! - p[a]!
    const uy = p[b + 1]! - p[a + 1]!
    const uz = p[b + 2]! - p[a + 2]!
    const vx = p[d]! - p[a]!
    const vy = p[d + 1]! - p[a + 1]!
    const vz = p[d + 2]! - p[a + 2]!
    const cx = uy * vz - uz * vy
    const cy = uz * vx - ux * vz
    const cz = ux * vy - uy * vx
    area += 0.5 * Math.sqrt(cx * cx + cy * cy + cz * cz)
  }
  return area
}

/**
 * Geometry of the slice views, all in the LPS patient frame in millimetres (+x Left, +y
 * Posterior, +z Superior). A view is a plane given by two unit LPS vectors: `right` (screen +x)
 * and `down` (screen +y); its normal `right × down` points away from the viewer.
 *
 * Display convention (radiological, as most PACS and 3D Slicer): the axial view is seen from the
 * feet and the coronal view from the front, so the patient's right is on the screen's left; the
 * sagittal view is seen from the patient's left, anterior on the screen's left. The edge letters
 * are computed from the LPS direction of each screen axis ({@link edgeLetters}), never hard-coded,
 * so they stay right for flipped and oblique volumes and in acquisition-aligned mode.
 */
import type { Mat3, Vec3, VolumeGeometry } from '../../../src/shared/geometry.js'

export type ViewName = 'axial' | 'coronal' | 'sagittal'
export const VIEW_NAMES: readonly ViewName[] = ['axial', 'coronal', 'sagittal']

/** How slice planes are chosen: patient axes (true axial…), or the volume's own voxel axes. */
export type Alignment = 'patient' | 'acquisition'

export interface ViewFrame {
  /** LPS unit vector of screen +x. */
  readonly right: Vec3
  /** LPS unit vector of screen +y (downwards). */
  readonly down: Vec3
  /** `right × down`: the slice step direction (away from the viewer). */
  readonly normal: Vec3
}

export const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
export const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
export const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s]
export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
export const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
]

/** The screen axes in patient-aligned mode (radiological convention, see the module comment). */
export const PATIENT_FRAMES: Readonly<Record<ViewName, { right: Vec3; down: Vec3 }>> = {
  axial: { right: [1, 0, 0], down: [0, 1, 0] },
  coronal: { right: [1, 0, 0], down: [0, 0, -1] },
  sagittal: { right: [0, 1, 0], down: [0, 0, -1] },
}

function frame(right: Vec3, down: Vec3): ViewFrame {
  return { right, down, normal: cross(right, down) }
}

/** Column c of a row-major 3×3 matrix (for `directionLPS`: the LPS unit vector of axis c). */
export function column(m: Mat3, c: number): Vec3 {
  return [m[c]!, m[3 + c]!, m[6 + c]!]
}

/**
 * The frame of `view`: the patient axes, or in acquisition mode the voxel axes of `directionLPS`
 * closest to them (the slice axis is the one closest to the view normal; each kept axis is signed
 * to point the same way as its patient target, so letters stay in the familiar places).
 */
export function viewFrame(view: ViewName, alignment: Alignment, directionLPS: Mat3): ViewFrame {
  const target = PATIENT_FRAMES[view]
  if (alignment === 'patient') return frame(target.right, target.down)
  const normal = cross(target.right, target.down)
  const axes = [0, 1, 2].map((c) => column(directionLPS, c))
  const closest = (t: Vec3, among: number[]): number =>
    among.reduce((b, c) => (Math.abs(dot(axes[c]!, t)) > Math.abs(dot(axes[b]!, t)) ? c : b))
  const sliceAxis = closest(normal, [0, 1, 2])
  const rest = [0, 1, 2].filter((c) => c !== sliceAxis)
  const rightAxis = closest(target.right, rest)
  const downAxis = rest.find((c) => c !== rightAxis)!
  const signed = (c: number, t: Vec3): Vec3 => {
    const a = axes[c]!
    return dot(a, t) < 0 ? scale(a, -1) : a
  }
  return frame(signed(rightAxis, target.right), signed(downAxis, target.down))
}

const LETTERS: readonly (readonly [string, string])[] = [
  ['L', 'R'],
  ['P', 'A'],
  ['S', 'I'],
]

/**
 * Patient direction letters of an LPS vector: the dominant one first, then any other component
 * of at least `minor` (default 0.3, about 17°), as oblique-aware viewers do (e.g. `LP`).
 */
export function directionLetters(v: Vec3, minor = 0.3): string {
  const order = [0, 1, 2].sort((a, b) => Math.abs(v[b]!) - Math.abs(v[a]!))
  let out = ''
  for (const [n, c] of order.entries()) {
    const x = v[c]!
    if (n > 0 && Math.abs(x) < minor) break
    out += LETTERS[c]![x >= 0 ? 0 : 1]
  }
  return out
}

const SIDE_NAMES: Readonly<Record<string, string>> = {
  L: 'left',
  R: 'right',
  P: 'posterior',
  A: 'anterior',
  S: 'superior',
  I: 'inferior',
}

/**
 * The 3-D view's name from where the camera stands: `fromLPS` is the camera position minus the
 * focal point (LPS, any length). Within about 20° of an axis: "anterior view", "left view", …;
 * otherwise "oblique view from AR" (dominant side first), so the title never claims a side the
 * user has rotated away from.
 */
export function viewFromName(fromLPS: Vec3): string {
  const n = Math.hypot(fromLPS[0], fromLPS[1], fromLPS[2])
  if (!(n > 0)) return 'view'
  const letters = directionLetters(scale(fromLPS, 1 / n), 0.34)
  return letters.length === 1 ? `${SIDE_NAMES[letters]} view` : `oblique view from ${letters}`
}

/** The letters at the four edges of a view: what lies that way in the patient. */
export function edgeLetters(f: ViewFrame): {
  left: string
  right: string
  top: string
  bottom: string
} {
  return {
    left: directionLetters(scale(f.right, -1)),
    right: directionLetters(f.right),
    top: directionLetters(scale(f.down, -1)),
    bottom: directionLetters(f.down),
  }
}

/** Index ↔ LPS transforms of a volume grid. */
export interface GridTransform {
  /** LPS of index (i, j, k). */
  toLPS(ijk: Vec3): Vec3
  /** Continuous index of an LPS point. */
  toIJK(p: Vec3): Vec3
  /** `M` = direction · diag(spacing) (row-major, mm per index step): `p = origin + M · ijk`. */
  readonly matrix: Mat3
  /** `M⁻¹` (row-major) so that `ijk = M⁻¹ · (p − origin)`. */
  readonly inverse: Mat3
  readonly origin: Vec3
}

function invert3(m: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, h, i] = m
  const A = e * i - f * h
  const B = -(d * i - f * g)
  const C = d * h - e * g
  const det = a * A + b * B + c * C
  if (Math.abs(det) < 1e-12) throw new Error('singular voxel-to-patient matrix')
  const s = 1 / det
  return [
    A * s,
    -(b * i - c * h) * s,
    (b * f - c * e) * s,
    B * s,
    (a * i - c * g) * s,
    -(a * f - c * d) * s,
    C * s,
    -(a * h - b * g) * s,
    (a * e - b * d) * s,
  ]
}

export function gridTransform(g: VolumeGeometry): GridTransform {
  const d = g.directionLPS
  const [si, sj, sk] = g.spacingMm
  const m: Mat3 = [
    d[0] * si,
    d[1] * sj,
    d[2] * sk,
    d[3] * si,
    d[4] * sj,
    d[5] * sk,
    d[6] * si,
    d[7] * sj,
    d[8] * sk,
  ]
  const inv = invert3(m)
  const o = g.originLPS
  return {
    matrix: m,
    inverse: inv,
    origin: o,
    toLPS: ([i, j, k]) => [
      o[0] + m[0] * i + m[1] * j + m[2] * k,
      o[1] + m[3] * i + m[4] * j + m[5] * k,
      o[2] + m[6] * i + m[7] * j + m[8] * k,
    ],
    toIJK: (p) => {
      const x = p[0] - o[0]
      const y = p[1] - o[1]
      const z = p[2] - o[2]
      return [
        inv[0] * x + inv[1] * y + inv[2] * z,
        inv[3] * x + inv[4] * y + inv[5] * z,
        inv[6] * x + inv[7] * y + inv[8] * z,
      ]
    },
  }
}

/** The eight corner voxel centres of a grid, in LPS. */
export function cornersLPS(g: VolumeGeometry): Vec3[] {
  const t = gridTransform(g)
  const [ni, nj, nk] = g.sizeIJK
  const out: Vec3[] = []
  for (const i of [0, ni - 1]) {
    for (const j of [0, nj - 1]) for (const k of [0, nk - 1]) out.push(t.toLPS([i, j, k]))
  }
  return out
}

/** LPS centre of the grid. */
export function centreLPS(g: VolumeGeometry): Vec3 {
  const [ni, nj, nk] = g.sizeIJK
  return gridTransform(g).toLPS([(ni - 1) / 2, (nj - 1) / 2, (nk - 1) / 2])
}

/**
 * One slice along `normal`, mm: the distance after which the plane has moved by one voxel along
 * some grid axis (`min_c spacing_c / |cos(normal, axis_c)|`). For a view parallel to the slices
 * that is the slice spacing (7 mm for a 7 mm series: one wheel notch, one slice); an oblique view
 * never skips a voxel of any axis.
 */
export function sliceStepMm(g: VolumeGeometry, normal: Vec3): number {
  let step = Infinity
  for (let c = 0; c < 3; c++) {
    const cos = Math.abs(dot(column(g.directionLPS, c), normal))
    if (cos > 1e-6) step = Math.min(step, g.spacingMm[c]! / cos)
  }
  return Number.isFinite(step) && step > 0 ? step : 1
}

/**
 * Which slice `pointLPS` is on along `normal`, counted along the grid axis closest to the
 * normal: 1-based `index` (clamped to the grid) of `count`, for a "12 / 20" counter.
 */
export function sliceIndex(
  g: VolumeGeometry,
  normal: Vec3,
  pointLPS: Vec3,
): { readonly index: number; readonly count: number } {
  let axis = 0
  let best = -1
  for (let c = 0; c < 3; c++) {
    const cos = Math.abs(dot(column(g.directionLPS, c), normal))
    if (cos > best) [axis, best] = [c, cos]
  }
  const count = g.sizeIJK[axis]!
  const at = Math.round(gridTransform(g).toIJK(pointLPS)[axis]!)
  return { index: Math.min(count, Math.max(1, at + 1)), count }
}

/** Half-extent (mm) of the grid's corners along `axis` around `centre`. */
export function extentAlong(g: VolumeGeometry, axis: Vec3, centre: Vec3): number {
  let half = 0
  for (const c of cornersLPS(g)) half = Math.max(half, Math.abs(dot(sub(c, centre), axis)))
  return half
}

/** A round scale-bar length (mm) no longer than `maxMm`. */
export function niceLengthMm(maxMm: number): number {
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 500]
  let best = 1
  for (const s of steps) if (s <= maxMm) best = s
  return best
}

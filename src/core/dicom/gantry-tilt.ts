/**
 * Gantry tilt: a CT gantry tilted about the patient's left-right axis gives slices whose
 * ImageOrientationPatient is still the in-plane axes but whose positions step sideways, along the
 * column direction, from slice to slice (a sheared grid). This module finds that shear from the
 * positions and resamples the stack onto an orthogonal grid the way dcm2niix v1.0.20220720 writes
 * its `_Tilt` copy (`nii_saveNII3Dtilt`): every slice stays where it is along the normal and is
 * shifted within its plane, along the column direction, by linear interpolation between its own
 * rows; the grid gets as many extra rows as the largest shift needs, so no slice is cut; voxels
 * no slice covers take the Pixel Padding Value, else the volume's minimum, and a pair of rows
 * where one is padding is sampled nearest-neighbour (dcm2niix #262).
 *
 * Unlike dcm2niix, the shift direction comes from the geometry alone. dcm2niix takes it from the
 * sign of a world-axis cross product: it shears `dicom/tilted` (column direction anterior) the
 * wrong way, and when the column direction points posterior and the slices step posterior it
 * moves its origin by whole rows but the slices by fractional ones (up to a row off). Pure.
 */
import { AppError } from '../../shared/errors.js'
import type { GantryTilt } from '../../shared/gantry-tilt.js'
import type { Vec3, VolumeGeometry } from '../../shared/geometry.js'
import type { VoxelArray } from '../../shared/volume.js'
import { column3, dot3 } from '../geometry/affine.js'

/**
 * Largest sideways drift of the slice positions per mm along the normal that we ignore (the slope
 * of a least-squares line, so positions rounded to 0.1 mm do not count as drift).
 */
export const MAX_TILT_RATIO = 1e-3
/** Sideways drift over the whole stack that we ignore whatever its slope (rounded positions). */
export const MIN_TILT_DRIFT_MM = 0.1

/**
 * Row positions are quantised to this many steps per row before interpolating: positions come
 * from decimal strings, so finer digits are noise, and rounding ties then fall the same way on
 * every machine instead of by the last bit of a product.
 */
const ROW_STEPS = 1e6
/** A shift within this fraction of a row of a whole row needs no extra row. */
const ROW_SNAP = 1 / ROW_STEPS

/** What the reader needs to resample a tilted stack. */
export interface TiltPlan {
  /** What the read result keeps about the source. */
  readonly tilt: GantryTilt
  /** The orthogonal grid the stack is resampled onto (same axes, more rows). */
  readonly geometry: VolumeGeometry
  /** Per source slice k: its row r lies at row `r + rowShift[k]` of the source's first slice. */
  readonly rowShift: readonly number[]
  /** Pixel Padding Value in real-world units, when the series has one. */
  readonly padding?: number
  /** The warning the reader reports. */
  readonly warning: string
}

function fmt(x: number, digits = 4): string {
  return Number(x.toFixed(digits)).toString()
}

/**
 * Finds gantry tilt in a sorted stack. `source` is the stack's grid as the slice checks built it
 * (origin = first slice position, directions = row, column, normal, spacing along the normal);
 * `ipps` are the slices' ImagePositionPatient in k order (LPS mm); `padding` is the Pixel Padding
 * Value in real-world units, if any. Returns undefined when the positions do not drift sideways
 * (more than {@link MAX_TILT_RATIO} mm per mm along the normal and {@link MIN_TILT_DRIFT_MM} over
 * the stack). Throws `E_SERIES_GEOMETRY` when they drift along the row direction, which no gantry
 * tilt does.
 */
export function planGantryTilt(
  source: VolumeGeometry,
  ipps: readonly Vec3[],
  file?: string,
  padding?: number,
): TiltPlan | undefined {
  const nk = ipps.length
  if (nk < 2) return undefined
  const [ni, nj] = source.sizeIJK
  const [dx, dy, dz] = source.spacingMm
  const row = column3(source.directionLPS, 0)
  const col = column3(source.directionLPS, 1)
  const normal = column3(source.directionLPS, 2)
  const p0 = ipps[0] as Vec3
  const rel = ipps.map((p) => [p[0] - p0[0], p[1] - p0[1], p[2] - p0[2]] as Vec3)
  const along = rel.map((d) => dot3(d, normal))
  const height = Math.abs((along[nk - 1] as number) - (along[0] as number))
  const alongRow = rel.map((d) => dot3(d, row))
  const alongCol = rel.map((d) => dot3(d, col))
  // Least-squares slope of a sideways offset against the position along the normal.
  const mean = (a: readonly number[]): number => a.reduce((x, y) => x + y, 0) / a.length
  const tm = mean(along)
  const slope = (y: readonly number[]): number => {
    const ym = mean(y)
    let sxy = 0
    let sxx = 0
    for (let k = 0; k < nk; k++) {
      sxy += ((along[k] as number) - tm) * ((y[k] as number) - ym)
      sxx += ((along[k] as number) - tm) ** 2
    }
    return sxx > 0 ? sxy / sxx : 0
  }
  const deg = (s: number): number => (Math.atan(Math.abs(s)) * 180) / Math.PI
  const drifts = (s: number): boolean =>
    Math.abs(s) > MAX_TILT_RATIO && Math.abs(s) * height > MIN_TILT_DRIFT_MM
  const rowSlope = slope(alongRow)
  if (drifts(rowSlope)) {
    throw new AppError(
      'E_SERIES_GEOMETRY',
      `slice positions drift ${fmt(Math.abs(rowSlope) * height)} mm along the row direction over the stack (shear of ${fmt(deg(rowSlope))}°); VolSeg resamples gantry tilt, which drifts along the column direction, only`,
      file === undefined ? {} : { file },
    )
  }
  const colSlope = slope(alongCol)
  if (!drifts(colSlope)) return undefined
  // Each slice moves by its own offset (rounding included): the resampling follows the headers.
  const rowShift = alongCol.map((c) => c / dy)
  // Extra rows where the slices move to; a shift within ROW_SNAP of whole rows needs no more.
  const rowsBefore = Math.max(0, Math.ceil(-Math.min(...rowShift) - ROW_SNAP))
  const rowsAfter = Math.max(0, Math.ceil(Math.max(...rowShift) - ROW_SNAP))
  const step = colSlope * dz
  const angleDeg = deg(colSlope)
  const tilt: GantryTilt = {
    angleDeg,
    shearPerSliceLPS: [step * col[0], step * col[1], step * col[2]],
    sliceIPPsLPS: ipps.map((p) => [p[0], p[1], p[2]] as Vec3),
    sourceGeometry: source,
    rowsBefore,
    rowsAfter,
  }
  const geometry: VolumeGeometry = {
    sizeIJK: [ni, nj + rowsBefore + rowsAfter, nk],
    spacingMm: [dx, dy, dz],
    originLPS: [
      p0[0] - rowsBefore * dy * col[0],
      p0[1] - rowsBefore * dy * col[1],
      p0[2] - rowsBefore * dy * col[2],
    ],
    directionLPS: source.directionLPS,
  }
  const added = rowsBefore + rowsAfter
  const warning =
    `gantry tilt ${angleDeg.toFixed(1)}° (slices step ${fmt(Math.abs(step), 3)} mm sideways each): ` +
    `resampled onto an orthogonal grid as dcm2niix's _Tilt output, ${added} row${added === 1 ? '' : 's'} added; ` +
    'masks are saved on this grid'
  return { tilt, geometry, rowShift, warning, ...(padding === undefined ? {} : { padding }) }
}

/** Smallest finite voxel value (0 when there is none). */
function finiteMin(v: VoxelArray): number {
  let m = Infinity
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number
    if (x < m) m = x
  }
  return Number.isFinite(m) ? m : 0
}

/**
 * Resamples a tilted stack (voxels on `plan.tilt.sourceGeometry`'s sizes, i fastest) onto
 * `plan.geometry`. Output row r of slice k samples source row `x = r − rowsBefore − rowShift[k]`
 * (to 1e-6 of a row) of slice k, linearly between rows ⌊x⌋ and ⌊x⌋+1 along the column direction
 * (nearest, the lower row on a tie, when either is `plan.padding`); −1 < x < 0 takes row 0 and x
 * beyond the last row, or ≤ −1, takes `plan.padding`, else the volume's minimum — dcm2niix's
 * rules, in source row order (it works bottom-up, clamping its upper neighbour). Integer types
 * are rounded half away from zero, like dcm2niix's `round`; float types are not rounded.
 * Returns a new array of the same type.
 */
export function resampleGantryTilt<T extends VoxelArray>(voxels: T, plan: TiltPlan): T {
  const [ni, nj, nk] = plan.tilt.sourceGeometry.sizeIJK
  const njOut = plan.geometry.sizeIJK[1]
  if (voxels.length !== ni * nj * nk) {
    throw new AppError(
      'E_INTERNAL',
      `tilt resampling got ${voxels.length} voxels, expected ${ni}×${nj}×${nk}`,
    )
  }
  const make = voxels.constructor as new (n: number) => T
  const out = new make(ni * njOut * nk)
  // The padding as this array stores it (rounded or float32), so equality tests are exact.
  const cast = new make(1)
  cast[0] = plan.padding ?? Number.NaN
  const pad = plan.padding === undefined ? undefined : (cast[0] as number)
  out.fill(pad ?? finiteMin(voxels))
  const round = !(voxels instanceof Float32Array || voxels instanceof Float64Array)
  const before = plan.tilt.rowsBefore
  for (let k = 0; k < nk; k++) {
    const shift = plan.rowShift[k] as number
    for (let r = 0; r < njOut; r++) {
      const x = Math.floor((r - before - shift) * ROW_STEPS + 0.5) / ROW_STEPS
      if (!(x > -1 && x <= nj - 1)) continue
      const lo = Math.floor(x)
      const f = x - lo
      const a = (k * nj + Math.max(lo, 0)) * ni
      const dst = (k * njOut + r) * ni
      if (f === 0 || lo < 0) {
        out.set(voxels.subarray(a, a + ni), dst)
        continue
      }
      const b = (k * nj + lo + 1) * ni
      for (let i = 0; i < ni; i++) {
        const va = voxels[a + i] as number
        const vb = voxels[b + i] as number
        if (va === pad || vb === pad) {
          out[dst + i] = f <= 0.5 ? va : vb
          continue
        }
        const v = va + (vb - va) * f
        out[dst + i] = round ? (v < 0 ? -Math.round(-v) : Math.round(v)) : v
      }
    }
  }
  return out
}

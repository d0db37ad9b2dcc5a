/**
 * 2-D brush dab on a view plane: a disc of radius `radiusMm` centred at `centreLPS` on the plane
 * with unit normal `normalLPS`, one slice of the view thick. Distances in patient mm (true circle
 * on anisotropic or oblique grids). Work proportional to the disc's bounding box.
 */
import type { Vec3 } from '../../shared/geometry.js'
import type { LabelVolume } from './label-volume.js'
import type { LabelDelta } from './label-delta.js'
import type { IntensityGate, PaintAction } from './paint-mode.js'
import { clipBox, lpsToIndex, paintBox } from './brush-sphere.js'

/** Options of {@link brushDisc}. */
export interface BrushDiscOptions {
  /** Disc centre (a point on the view plane), LPS mm. */
  readonly centreLPS: Vec3
  /** View plane normal in LPS (normalised here). */
  readonly normalLPS: Vec3
  /** Radius in mm within the plane. */
  readonly radiusMm: number
  /**
   * Slab thickness in mm; default one slice of the view: the voxel's extent along the normal,
   * Σ |n·axis| · spacing (= the slice spacing for an axis-aligned view).
   */
  readonly thicknessMm?: number
  readonly action: PaintAction
  readonly gate?: IntensityGate
}

/** Paints or erases a disc in place; returns the undo delta. */
export function brushDisc(vol: LabelVolume, o: BrushDiscOptions): LabelDelta {
  if (!(o.radiusMm > 0)) throw new RangeError('radiusMm must be > 0')
  const { directionLPS: d, spacingMm: s } = vol.geometry
  const len = Math.hypot(o.normalLPS[0], o.normalLPS[1], o.normalLPS[2])
  if (!(len > 0)) throw new RangeError('normalLPS must be non-zero')
  const n: Vec3 = [o.normalLPS[0] / len, o.normalLPS[1] / len, o.normalLPS[2] / len]
  // Normal component along each voxel axis (column a of D · n).
  const m = [0, 1, 2].map((a) => d[a]! * n[0] + d[3 + a]! * n[1] + d[6 + a]! * n[2]) as [
    number,
    number,
    number,
  ]
  const t = o.thicknessMm ?? Math.abs(m[0]) * s[0] + Math.abs(m[1]) * s[1] + Math.abs(m[2]) * s[2]
  const h = t / 2
  // Half-open along the normal, so a centre exactly between two slices (the grid centre of an
  // even size, where the viewer's crosshair starts) takes one of them, not neither: the one the
  // slice view draws, index floor(c + 0.5) along the axis nearest the normal.
  const near = [0, 1, 2].reduce((a, b) => (Math.abs(m[b]!) > Math.abs(m[a]!) ? b : a))
  const sign = m[near]! < 0 ? -1 : 1
  const r2 = o.radiusMm * o.radiusMm
  const c = lpsToIndex(vol, o.centreLPS)
  const R = Math.hypot(o.radiusMm, h)
  const box = clipBox(vol, c, [R / s[0], R / s[1], R / s[2]])
  return paintBox(
    vol,
    box,
    c,
    (a, b, e) => {
      const along = a * m[0] + b * m[1] + e * m[2]
      const u = along * sign
      return u <= h && u > -h && a * a + b * b + e * e - along * along <= r2
    },
    o.action,
    o.gate,
  )
}

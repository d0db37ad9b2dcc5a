/**
 * 3-D brush dab: a sphere of radius `radiusMm` around `centreLPS`, a true sphere in patient
 * millimetres (anisotropic spacing and oblique `directionLPS` are taken into account). Work is
 * proportional to the sphere's bounding box in voxels, never the volume.
 * Assumes `directionLPS` is orthonormal (as every grid VolSeg builds is).
 */
import type { Vec3 } from '../../shared/geometry.js'
import { assertOnGrid, type IndexBox, type LabelVolume } from './label-volume.js'
import { makeDelta, readBox, type LabelDelta } from './label-delta.js'
import { newLabel, type IntensityGate, type PaintAction } from './paint-mode.js'

/** Options of {@link brushSphere}. */
export interface BrushSphereOptions {
  /** Centre in LPS mm. */
  readonly centreLPS: Vec3
  /** Radius in mm (> 0). A voxel is inside when its centre is within the radius. */
  readonly radiusMm: number
  readonly action: PaintAction
  /** Optional intensity range; only in-range voxels change. */
  readonly gate?: IntensityGate
}

/** Continuous voxel index (i, j, k) of an LPS point: Sᐨ¹·Dᵀ·(x − origin), D orthonormal. */
export function lpsToIndex(vol: LabelVolume, p: Vec3): Vec3 {
  const { originLPS: o, directionLPS: d, spacingMm: s } = vol.geometry
  const x = p[0] - o[0],
    y = p[1] - o[1],
    z = p[2] - o[2]
  return [
    (d[0] * x + d[3] * y + d[6] * z) / s[0],
    (d[1] * x + d[4] * y + d[7] * z) / s[1],
    (d[2] * x + d[5] * y + d[8] * z) / s[2],
  ]
}

/** Index box around continuous index `c` with half extents `h` (voxels), clipped to the grid. */
export function clipBox(vol: LabelVolume, c: Vec3, h: Vec3): IndexBox {
  const sz = vol.geometry.sizeIJK
  const lo = (a: 0 | 1 | 2): number => Math.max(0, Math.ceil(c[a] - h[a]))
  const hi = (a: 0 | 1 | 2): number => Math.min(sz[a], Math.floor(c[a] + h[a]) + 1)
  return [lo(0), lo(1), lo(2), hi(0), hi(1), hi(2)]
}

/**
 * Applies `action` to every voxel of `box` for which `inside(di, dj, dk)` holds, where dX are the
 * voxel's offsets from `c` in mm along the i, j, k axes. Returns the delta over the box.
 */
export function paintBox(
  vol: LabelVolume,
  box: IndexBox,
  c: Vec3,
  inside: (di: number, dj: number, dk: number) => boolean,
  action: PaintAction,
  gate: IntensityGate | undefined,
): LabelDelta {
  if (gate) assertOnGrid(vol.geometry, gate.intensity, 'intensity')
  const [ni, nj] = vol.geometry.sizeIJK
  const s = vol.geometry.spacingMm
  const before = readBox(vol, box)
  const [i0, j0, k0, i1, j1, k1] = box
  for (let k = k0; k < k1; k++) {
    const dk = (k - c[2]) * s[2]
    for (let j = j0; j < j1; j++) {
      const dj = (j - c[1]) * s[1]
      const row = ni * (j + nj * k)
      for (let i = i0; i < i1; i++) {
        if (!inside((i - c[0]) * s[0], dj, dk)) continue
        const n = i + row
        const v = newLabel(action, gate, vol.labels[n]!, n)
        if (v >= 0) vol.labels[n] = v
      }
    }
  }
  return makeDelta(box, before, readBox(vol, box))
}

/** Paints or erases a sphere in place; returns the undo delta (its bounding box). */
export function brushSphere(vol: LabelVolume, o: BrushSphereOptions): LabelDelta {
  if (!(o.radiusMm > 0)) throw new RangeError('radiusMm must be > 0')
  const s = vol.geometry.spacingMm
  const c = lpsToIndex(vol, o.centreLPS)
  const r = o.radiusMm
  const r2 = r * r
  const box = clipBox(vol, c, [r / s[0], r / s[1], r / s[2]])
  return paintBox(vol, box, c, (a, b, d) => a * a + b * b + d * d <= r2, o.action, o.gate)
}

/**
 * Affine helpers between voxel indices and patient millimetres. All matrices are row-major.
 * LPS and RAS differ by negating x and y: `RAS = diag(-1, -1, 1) · LPS`.
 */
import type { Mat3, Mat4, Vec3, VolumeGeometry } from '../../shared/geometry.js'

/** Element `i` of a fixed-length vector (indices are always in range here). */
export function el(v: readonly number[], i: number): number {
  return v[i] as number
}

export const IDENTITY3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]

/** Element (r, c) of a row-major 3×3 matrix. */
export function at3(m: Mat3, r: number, c: number): number {
  return m[r * 3 + c] as number
}

/** Column c of a row-major 3×3 matrix (for `directionLPS`: the LPS unit vector of axis c). */
export function column3(m: Mat3, c: number): Vec3 {
  return [at3(m, 0, c), at3(m, 1, c), at3(m, 2, c)]
}

export function mat3FromColumns(a: Vec3, b: Vec3, c: Vec3): Mat3 {
  return [a[0], b[0], c[0], a[1], b[1], c[1], a[2], b[2], c[2]]
}

export function dot3(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

export function cross3(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

export function norm3(a: Vec3): number {
  return Math.hypot(a[0], a[1], a[2])
}

export function det3(m: Mat3): number {
  return dot3(column3(m, 0), cross3(column3(m, 1), column3(m, 2)))
}

/**
 * Largest deviation of `mᵀm` from the identity: 0 for a rotation or reflection, larger for shear
 * or scaled columns.
 */
export function orthonormalityError(m: Mat3): number {
  let worst = 0
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      const d = dot3(column3(m, a), column3(m, b)) - (a === b ? 1 : 0)
      worst = Math.max(worst, Math.abs(d))
    }
  }
  return worst
}

/** Index (i, j, k) → LPS mm, as a row-major 4×4. */
export function affineLPS(g: VolumeGeometry): Mat4 {
  const out: number[] = []
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out.push(at3(g.directionLPS, r, c) * el(g.spacingMm, c))
    out.push(el(g.originLPS, r))
  }
  out.push(0, 0, 0, 1)
  return out
}

/** Index (i, j, k) → RAS mm, as a row-major 4×4 (the NIfTI `sform`/nibabel `affine` convention). */
export function affineRAS(g: VolumeGeometry): Mat4 {
  return lpsRasFlip(affineLPS(g))
}

/** Negates rows 0 and 1 of a 4×4: converts an index→LPS affine to index→RAS and back. */
export function lpsRasFlip(m: Mat4): Mat4 {
  return m.map((v, idx) => (idx < 8 ? -v : v) + 0)
}

/**
 * Splits an index→LPS 4×4 into spacing, direction and origin. Columns must be non-zero; shear is
 * kept in `directionLPS` (check {@link orthonormalityError} on the result).
 */
export function geometryFromAffineLPS(m: Mat4, sizeIJK: Vec3): VolumeGeometry {
  const col = (c: number): Vec3 => [m[c] as number, m[4 + c] as number, m[8 + c] as number]
  const cols = [col(0), col(1), col(2)] as const
  const spacing = cols.map(norm3) as unknown as Vec3
  // "+ 0" turns -0 into 0 so printed and compared directions stay clean.
  const unit = cols.map((v, c) => v.map((x) => x / (spacing[c] as number) + 0) as unknown as Vec3)
  return {
    sizeIJK,
    spacingMm: spacing,
    originLPS: [m[3] as number, m[7] as number, m[11] as number],
    directionLPS: mat3FromColumns(unit[0] as Vec3, unit[1] as Vec3, unit[2] as Vec3),
  }
}

/** As {@link geometryFromAffineLPS}, from an index→RAS affine (e.g. a NIfTI sform). */
export function geometryFromAffineRAS(m: Mat4, sizeIJK: Vec3): VolumeGeometry {
  return geometryFromAffineLPS(lpsRasFlip(m), sizeIJK)
}

/** LPS mm of the centre of voxel (i, j, k). */
export function indexToLPS(g: VolumeGeometry, ijk: Vec3): Vec3 {
  const out = [0, 0, 0]
  for (let r = 0; r < 3; r++) {
    let v = el(g.originLPS, r)
    for (let c = 0; c < 3; c++) v += at3(g.directionLPS, r, c) * el(g.spacingMm, c) * el(ijk, c)
    out[r] = v
  }
  return out as unknown as Vec3
}

/** Largest absolute element difference between two 4×4 matrices. */
export function maxAbsDiff(a: Mat4, b: Mat4): number {
  let worst = 0
  for (let i = 0; i < 16; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)))
  return worst
}

/**
 * Largest distance (mm) between the positions two geometries give to the eight corner voxel
 * centres of the first grid. Zero means the grids coincide.
 */
export function cornerDistanceMm(a: VolumeGeometry, b: VolumeGeometry): number {
  let worst = 0
  const [ni, nj, nk] = a.sizeIJK
  for (const i of [0, ni - 1]) {
    for (const j of [0, nj - 1]) {
      for (const k of [0, nk - 1]) {
        const p = indexToLPS(a, [i, j, k])
        const q = indexToLPS(b, [i, j, k])
        worst = Math.max(worst, norm3([p[0] - q[0], p[1] - q[1], p[2] - q[2]]))
      }
    }
  }
  return worst
}

/** Largest angle (degrees) between corresponding axis directions of two geometries. */
export function axisAngleDeg(a: VolumeGeometry, b: VolumeGeometry): number {
  let worst = 0
  for (let c = 0; c < 3; c++) {
    const u = column3(a.directionLPS, c)
    const v = column3(b.directionLPS, c)
    const cos = dot3(u, v) / (norm3(u) * norm3(v))
    worst = Math.max(worst, (Math.acos(Math.min(1, Math.max(-1, cos))) * 180) / Math.PI)
  }
  return worst
}

/** True when the two geometries have the same size and affines equal within `tol` (mm). */
export function sameGeometry(a: VolumeGeometry, b: VolumeGeometry, tol = 1e-5): boolean {
  return (
    a.sizeIJK.every((n, i) => n === b.sizeIJK[i]) && maxAbsDiff(affineLPS(a), affineLPS(b)) <= tol
  )
}

const LPS_LETTERS: readonly (readonly [string, string])[] = [
  ['L', 'R'],
  ['P', 'A'],
  ['S', 'I'],
]

/**
 * Three letters naming, for axes i, j, k, the patient direction each points *towards*, by the
 * closest LPS axis (e.g. `RAS` for a standard NIfTI, `LPS` for a standard axial DICOM).
 */
export function orientationLetters(directionLPS: Mat3): string {
  let out = ''
  for (let c = 0; c < 3; c++) {
    const v = column3(directionLPS, c)
    let best = 0
    for (let r = 1; r < 3; r++) if (Math.abs(el(v, r)) > Math.abs(el(v, best))) best = r
    const pair = LPS_LETTERS[best] as readonly [string, string]
    out += el(v, best) >= 0 ? pair[0] : pair[1]
  }
  return out
}

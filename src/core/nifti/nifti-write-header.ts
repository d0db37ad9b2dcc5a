/**
 * Builds a NIfTI-1 header (+ empty extension flag, 352 bytes) for a label mask on a given grid,
 * with both qform and sform set (as nibabel and FSL expect), `scl_slope` 1 and intent "label".
 */
import type { VolumeGeometry } from '../../shared/geometry.js'
import { affineRAS, at3, det3, el } from '../geometry/affine.js'

export interface MaskHeaderOptions {
  readonly geometry: VolumeGeometry
  /** uint8/uint16 label masks (intent "label"); float32 for maps such as uncertainty. */
  readonly datatype: 'uint8' | 'uint16' | 'float32'
  /** Codes to write; defaults 1 (scanner anatomical). Keep the source's codes when it had them. */
  readonly qform_code?: number
  readonly sform_code?: number
  readonly descrip?: string
}

export const MASK_VOX_OFFSET = 352
const NIFTI_INTENT_LABEL = 1002

/**
 * Quaternion (b, c, d) and qfac for a direction matrix in RAS (columns = axis directions), after
 * nifti1_io's `nifti_mat44_to_quatern` for an orthonormal input.
 */
export function quaternFromDirection(rasDir: readonly number[]): {
  b: number
  c: number
  d: number
  qfac: 1 | -1
} {
  const r = (i: number, j: number): number => el(rasDir, (i - 1) * 3 + (j - 1))
  const det = det3(rasDir as unknown as Parameters<typeof det3>[0])
  const qfac: 1 | -1 = det < 0 ? -1 : 1
  // A reflection is stored as qfac = -1 with the third column negated.
  const m = (i: number, j: number): number => (j === 3 ? qfac * r(i, j) : r(i, j))
  let a = m(1, 1) + m(2, 2) + m(3, 3) + 1
  let b: number
  let c: number
  let d: number
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a)
    b = (0.25 * (m(3, 2) - m(2, 3))) / a
    c = (0.25 * (m(1, 3) - m(3, 1))) / a
    d = (0.25 * (m(2, 1) - m(1, 2))) / a
  } else {
    const xd = 1 + m(1, 1) - (m(2, 2) + m(3, 3))
    const yd = 1 + m(2, 2) - (m(1, 1) + m(3, 3))
    const zd = 1 + m(3, 3) - (m(1, 1) + m(2, 2))
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd)
      c = (0.25 * (m(1, 2) + m(2, 1))) / b
      d = (0.25 * (m(1, 3) + m(3, 1))) / b
      a = (0.25 * (m(3, 2) - m(2, 3))) / b
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd)
      b = (0.25 * (m(1, 2) + m(2, 1))) / c
      d = (0.25 * (m(2, 3) + m(3, 2))) / c
      a = (0.25 * (m(1, 3) - m(3, 1))) / c
    } else {
      d = 0.5 * Math.sqrt(zd)
      b = (0.25 * (m(1, 3) + m(3, 1))) / d
      c = (0.25 * (m(2, 3) + m(3, 2))) / d
      a = (0.25 * (m(2, 1) - m(1, 2))) / d
    }
    if (a < 0) {
      b = -b
      c = -c
      d = -d
    }
  }
  return { b, c, d, qfac }
}

/** Returns the 352-byte little-endian header for a mask on `geometry`. */
export function buildMaskHeader(o: MaskHeaderOptions): Uint8Array {
  const g = o.geometry
  const bytes = new Uint8Array(MASK_VOX_OFFSET)
  const v = new DataView(bytes.buffer)
  const le = true
  v.setInt32(0, 348, le)
  const dim = [3, g.sizeIJK[0], g.sizeIJK[1], g.sizeIJK[2], 1, 1, 1, 1]
  dim.forEach((n, k) => v.setInt16(40 + 2 * k, n, le))
  const code = { uint8: [2, 8], uint16: [512, 16], float32: [16, 32] }[o.datatype]
  if (o.datatype !== 'float32') v.setInt16(68, NIFTI_INTENT_LABEL, le)
  v.setInt16(70, code[0] as number, le)
  v.setInt16(72, code[1] as number, le)
  // Direction in RAS: negate rows 0 and 1 of the LPS direction.
  const rasDir = Array.from(
    { length: 9 },
    (_, idx) => (idx < 6 ? -1 : 1) * at3(g.directionLPS, Math.floor(idx / 3), idx % 3),
  )
  const q = quaternFromDirection(rasDir)
  const pixdim = [q.qfac, g.spacingMm[0], g.spacingMm[1], g.spacingMm[2], 0, 0, 0, 0]
  pixdim.forEach((p, k) => v.setFloat32(76 + 4 * k, p, le))
  v.setFloat32(108, MASK_VOX_OFFSET, le)
  v.setFloat32(112, 1, le) // scl_slope: labels are stored as they are
  v.setFloat32(116, 0, le)
  bytes[123] = 2 // xyzt_units: NIFTI_UNITS_MM
  const descrip = (o.descrip ?? 'VolSeg label mask').slice(0, 79)
  for (let k = 0; k < descrip.length; k++) bytes[148 + k] = descrip.charCodeAt(k) & 0x7f
  v.setInt16(252, o.qform_code ?? 1, le)
  v.setInt16(254, o.sform_code ?? 1, le)
  v.setFloat32(256, q.b, le)
  v.setFloat32(260, q.c, le)
  v.setFloat32(264, q.d, le)
  const a = affineRAS(g)
  v.setFloat32(268, el(a, 3), le)
  v.setFloat32(272, el(a, 7), le)
  v.setFloat32(276, el(a, 11), le)
  for (let k = 0; k < 12; k++) v.setFloat32(280 + 4 * k, el(a, k), le)
  bytes.set([0x6e, 0x2b, 0x31, 0], 344) // "n+1\0"
  return bytes
}

/**
 * NIfTI-1 / NIfTI-2 header parsing and checks, on bytes only (no I/O). Field names follow
 * nifti1.h / nifti2.h. Used to report qform/sform, validate before any large allocation, and to
 * decide whether `scl_slope` applies.
 */
import type { Mat4, Vec3, VolumeGeometry } from '../../shared/geometry.js'
import { AppError } from '../../shared/errors.js'
import {
  axisAngleDeg,
  cornerDistanceMm,
  geometryFromAffineRAS,
  orthonormalityError,
} from '../geometry/affine.js'

export interface NiftiHeader {
  readonly version: 1 | 2
  readonly littleEndian: boolean
  /** `dim[0..7]`. */
  readonly dim: readonly number[]
  readonly datatype: number
  readonly bitpix: number
  /** `pixdim[0..7]`; `pixdim[0]` is qfac. */
  readonly pixdim: readonly number[]
  readonly vox_offset: number
  readonly scl_slope: number
  readonly scl_inter: number
  readonly qform_code: number
  readonly sform_code: number
  readonly quatern_b: number
  readonly quatern_c: number
  readonly quatern_d: number
  readonly qoffset: Vec3
  /** `srow_x`, `srow_y`, `srow_z` as a row-major 4×4 with last row 0 0 0 1 (index → RAS mm). */
  readonly sformRAS: Mat4
  readonly descrip: string
  /** The header length in bytes (348 or 540). */
  readonly sizeofHdr: number
}

/** NIfTI datatype code → our pixel type, bytes per voxel. Types we refuse are absent. */
export const NIFTI_DATATYPES: Readonly<
  Record<number, { name: string; bytes: number; supported: boolean }>
> = {
  2: { name: 'uint8', bytes: 1, supported: true },
  4: { name: 'int16', bytes: 2, supported: true },
  8: { name: 'int32', bytes: 4, supported: true },
  16: { name: 'float32', bytes: 4, supported: true },
  64: { name: 'float64', bytes: 8, supported: true },
  256: { name: 'int8', bytes: 1, supported: true },
  512: { name: 'uint16', bytes: 2, supported: true },
  768: { name: 'uint32', bytes: 4, supported: true },
  1024: { name: 'int64', bytes: 8, supported: false },
  1280: { name: 'uint64', bytes: 8, supported: false },
  32: { name: 'complex64', bytes: 8, supported: false },
  128: { name: 'rgb24', bytes: 3, supported: false },
  1536: { name: 'float128', bytes: 16, supported: false },
  1792: { name: 'complex128', bytes: 16, supported: false },
  2048: { name: 'complex256', bytes: 32, supported: false },
  2304: { name: 'rgba32', bytes: 4, supported: false },
}

/** True when the first bytes look like a NIfTI-1 or NIfTI-2 header (either byte order). */
export function looksLikeNifti(head: Uint8Array): boolean {
  if (head.length < 4) return false
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const le = view.getInt32(0, true)
  const be = view.getInt32(0, false)
  return le === 348 || be === 348 || le === 540 || be === 540
}

function readString(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset
  while (end < offset + length && bytes[end] !== 0) end++
  return String.fromCharCode(...bytes.subarray(offset, end))
}

/**
 * Parses a NIfTI-1 or NIfTI-2 header. Throws `E_BAD_HEADER` (or `E_TRUNCATED` when fewer bytes
 * than the header) naming `file`.
 */
export function parseNiftiHeader(bytes: Uint8Array, file?: string): NiftiHeader {
  const where = file === undefined ? {} : { file }
  if (bytes.length < 4) {
    throw new AppError('E_TRUNCATED', 'the file ends before the NIfTI header', where)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let littleEndian = true
  let size = view.getInt32(0, true)
  if (size !== 348 && size !== 540) {
    littleEndian = false
    size = view.getInt32(0, false)
  }
  if (size !== 348 && size !== 540) {
    throw new AppError(
      'E_BAD_HEADER',
      `sizeof_hdr is ${view.getInt32(0, true)}, not 348 or 540`,
      where,
    )
  }
  if (bytes.length < size) {
    throw new AppError('E_TRUNCATED', `the file ends inside the ${size}-byte NIfTI header`, where)
  }
  const le = littleEndian
  const i16 = (o: number): number => view.getInt16(o, le)
  const i32 = (o: number): number => view.getInt32(o, le)
  const f32 = (o: number): number => view.getFloat32(o, le)
  const f64 = (o: number): number => view.getFloat64(o, le)
  const i64 = (o: number): number => Number(view.getBigInt64(o, le))
  if (size === 348) {
    const magic = readString(bytes, 344, 4)
    if (magic !== 'n+1' && magic !== 'ni1') {
      throw new AppError('E_BAD_HEADER', `NIfTI-1 magic is "${magic}", not "n+1" or "ni1"`, where)
    }
    const srow = (o: number): number[] => [f32(o), f32(o + 4), f32(o + 8), f32(o + 12)]
    return {
      version: 1,
      littleEndian,
      sizeofHdr: 348,
      dim: Array.from({ length: 8 }, (_, k) => i16(40 + 2 * k)),
      datatype: i16(70),
      bitpix: i16(72),
      pixdim: Array.from({ length: 8 }, (_, k) => f32(76 + 4 * k)),
      vox_offset: f32(108),
      scl_slope: f32(112),
      scl_inter: f32(116),
      descrip: readString(bytes, 148, 80),
      qform_code: i16(252),
      sform_code: i16(254),
      quatern_b: f32(256),
      quatern_c: f32(260),
      quatern_d: f32(264),
      qoffset: [f32(268), f32(272), f32(276)],
      sformRAS: [...srow(280), ...srow(296), ...srow(312), 0, 0, 0, 1],
    }
  }
  const magic = readString(bytes, 4, 8)
  if (magic !== 'n+2' && magic !== 'ni2') {
    throw new AppError('E_BAD_HEADER', `NIfTI-2 magic is "${magic}", not "n+2" or "ni2"`, where)
  }
  const srow = (o: number): number[] => [f64(o), f64(o + 8), f64(o + 16), f64(o + 24)]
  return {
    version: 2,
    littleEndian,
    sizeofHdr: 540,
    datatype: i16(12),
    bitpix: i16(14),
    dim: Array.from({ length: 8 }, (_, k) => i64(16 + 8 * k)),
    pixdim: Array.from({ length: 8 }, (_, k) => f64(104 + 8 * k)),
    vox_offset: i64(168),
    scl_slope: f64(176),
    scl_inter: f64(184),
    descrip: readString(bytes, 240, 80),
    qform_code: i32(344),
    sform_code: i32(348),
    quatern_b: f64(352),
    quatern_c: f64(360),
    quatern_d: f64(368),
    qoffset: [f64(376), f64(384), f64(392)],
    sformRAS: [...srow(400), ...srow(432), ...srow(464), 0, 0, 0, 1],
  }
}

/** The 3-D grid size from `dim`, treating absent trailing dimensions as 1. */
export function niftiSizeIJK(h: NiftiHeader): Vec3 {
  const d = (k: number): number => (k <= (h.dim[0] ?? 0) ? (h.dim[k] ?? 1) : 1)
  return [d(1), d(2), d(3)]
}

/** Number of 3-D volumes (product of dim[4..7]). */
export function niftiVolumeCount(h: NiftiHeader): number {
  let n = 1
  for (let k = 4; k <= Math.min(7, h.dim[0] ?? 0); k++) n *= Math.max(1, h.dim[k] ?? 1)
  return n
}

/**
 * Checks the header for contradictions and returns the expected voxel payload in bytes. Throws
 * `E_BAD_HEADER` or `E_UNSUPPORTED`, naming `file`.
 */
export function checkNiftiHeader(h: NiftiHeader, file?: string): { payloadBytes: number } {
  const where = file === undefined ? {} : { file }
  const nd = h.dim[0] ?? 0
  if (nd < 1 || nd > 7) throw new AppError('E_BAD_HEADER', `dim[0] is ${nd}, not 1..7`, where)
  for (let k = 1; k <= nd; k++) {
    const n = h.dim[k] ?? 0
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new AppError('E_BAD_HEADER', `dim[${k}] is ${n}; every dimension must be ≥ 1`, where)
    }
  }
  const type = NIFTI_DATATYPES[h.datatype]
  if (type === undefined) {
    throw new AppError('E_BAD_HEADER', `datatype ${h.datatype} is not a NIfTI type`, where)
  }
  if (!type.supported) {
    throw new AppError(
      'E_UNSUPPORTED',
      `NIfTI datatype ${type.name} (${h.datatype}) is not supported`,
      where,
    )
  }
  if (h.bitpix !== type.bytes * 8) {
    throw new AppError(
      'E_BAD_HEADER',
      `bitpix ${h.bitpix} does not match datatype ${type.name}`,
      where,
    )
  }
  for (let k = 1; k <= Math.min(3, nd); k++) {
    const p = h.pixdim[k] ?? 0
    if (!Number.isFinite(p)) throw new AppError('E_BAD_HEADER', `pixdim[${k}] is ${p}`, where)
  }
  if (!Number.isFinite(h.vox_offset) || h.vox_offset < 0) {
    throw new AppError('E_BAD_HEADER', `vox_offset is ${h.vox_offset}`, where)
  }
  const volumes = niftiVolumeCount(h)
  if (volumes > 1) {
    throw new AppError(
      'E_UNSUPPORTED',
      `this is a 4-D image with ${volumes} volumes; VolSeg opens 3-D images`,
      where,
    )
  }
  const [ni, nj, nk] = niftiSizeIJK(h)
  return { payloadBytes: ni * nj * nk * type.bytes }
}

/**
 * Whether `scl_slope`/`scl_inter` must be applied: only when the slope is finite and non-zero,
 * and not the identity (nifti1.h: "If the scl_slope field is nonzero, then each voxel value in the
 * dataset should be scaled"; NaN/0 mean "no scaling", see fmriprep #2507).
 */
export function niftiScaling(h: NiftiHeader): { slope: number; inter: number } | undefined {
  const slope = h.scl_slope
  if (!Number.isFinite(slope) || slope === 0) return undefined
  const inter = Number.isFinite(h.scl_inter) ? h.scl_inter : 0
  if (slope === 1 && inter === 0) return undefined
  return { slope, inter }
}

/**
 * The qform as an index → RAS 4×4 (nifti1.h "method 2"), or undefined when `qform_code` is 0.
 * Mirrors nifti1_io's `nifti_quatern_to_mat44`.
 */
export function niftiQformRAS(h: NiftiHeader): Mat4 | undefined {
  if (h.qform_code <= 0) return undefined
  const b = h.quatern_b
  const c = h.quatern_c
  const d = h.quatern_d
  let a = 1 - (b * b + c * c + d * d)
  let bb = b
  let cc = c
  let dd = d
  if (a < 1e-7) {
    // nifti1_io: a 180° rotation; renormalise (b, c, d) and set a = 0.
    const s = 1 / Math.sqrt(b * b + c * c + d * d)
    bb *= s
    cc *= s
    dd *= s
    a = 0
  } else {
    a = Math.sqrt(a)
  }
  const xd = (h.pixdim[1] ?? 0) > 0 ? (h.pixdim[1] as number) : 1
  const yd = (h.pixdim[2] ?? 0) > 0 ? (h.pixdim[2] as number) : 1
  let zd = (h.pixdim[3] ?? 0) > 0 ? (h.pixdim[3] as number) : 1
  if ((h.pixdim[0] ?? 1) < 0) zd = -zd
  const r = [
    [a * a + bb * bb - cc * cc - dd * dd, 2 * (bb * cc - a * dd), 2 * (bb * dd + a * cc)],
    [2 * (bb * cc + a * dd), a * a + cc * cc - bb * bb - dd * dd, 2 * (cc * dd - a * bb)],
    [2 * (bb * dd - a * cc), 2 * (cc * dd + a * bb), a * a + dd * dd - cc * cc - bb * bb],
  ] as const
  const out: number[] = []
  for (let row = 0; row < 3; row++) {
    const rr = r[row] as readonly number[]
    out.push(
      (rr[0] as number) * xd,
      (rr[1] as number) * yd,
      (rr[2] as number) * zd,
      h.qoffset[row] as number,
    )
  }
  out.push(0, 0, 0, 1)
  return out
}

/** The sform as an index → RAS 4×4, or undefined when `sform_code` is 0. */
export function niftiSformRAS(h: NiftiHeader): Mat4 | undefined {
  return h.sform_code > 0 ? h.sformRAS : undefined
}

export interface NiftiXformReport {
  readonly qform_code: number
  readonly sform_code: number
  readonly qformRAS: Mat4 | undefined
  readonly sformRAS: Mat4 | undefined
  /** Whether the sform's 3×3 part has shear (not a scaled rotation). */
  readonly sformSheared: boolean
  /** Largest corner-voxel distance (mm) between qform and sform, when both are set. */
  readonly disagreementMm: number | undefined
  /** Largest axis angle (degrees) between qform and sform, when both are set. */
  readonly disagreementDeg: number | undefined
  readonly warnings: readonly string[]
}

/**
 * Compares qform and sform. Warns when they disagree by more than 0.1 mm at a grid corner or 1°,
 * when the sform is sheared, and when neither is set (then the geometry is a guess).
 */
export function reportNiftiXforms(h: NiftiHeader): NiftiXformReport {
  const size = niftiSizeIJK(h)
  const q = niftiQformRAS(h)
  const s = niftiSformRAS(h)
  const warnings: string[] = []
  let sformSheared = false
  if (s !== undefined) {
    const g = geometryFromAffineRAS(s, size)
    sformSheared = !g.spacingMm.every((x) => x > 0) || orthonormalityError(g.directionLPS) > 1e-4
    if (sformSheared) {
      warnings.push(
        'the sform has shear (its axes are not perpendicular); the qform is used instead',
      )
    }
  }
  let disagreementMm: number | undefined
  let disagreementDeg: number | undefined
  if (q !== undefined && s !== undefined) {
    const gq = geometryFromAffineRAS(q, size)
    const gs = geometryFromAffineRAS(s, size)
    disagreementMm = cornerDistanceMm(gq, gs)
    disagreementDeg = axisAngleDeg(gq, gs)
    if (disagreementMm > 0.1 || disagreementDeg > 1) {
      warnings.push(
        `qform and sform disagree by up to ${disagreementMm.toFixed(2)} mm and ${disagreementDeg.toFixed(2)}°` +
          ` (qform_code ${h.qform_code}, sform_code ${h.sform_code})`,
      )
    }
  }
  if (q === undefined && s === undefined) {
    warnings.push(
      'qform_code and sform_code are both 0: the header has no patient orientation, so L/R and position are unknown',
    )
  }
  return {
    qform_code: h.qform_code,
    sform_code: h.sform_code,
    qformRAS: q,
    sformRAS: s,
    sformSheared,
    disagreementMm,
    disagreementDeg,
    warnings,
  }
}

/** Returns the geometry the header's preferred transform gives (sform if usable, else qform). */
export function niftiHeaderGeometry(
  h: NiftiHeader,
  report: NiftiXformReport,
): VolumeGeometry | undefined {
  const size = niftiSizeIJK(h)
  if (report.sformRAS !== undefined && !report.sformSheared) {
    return geometryFromAffineRAS(report.sformRAS, size)
  }
  if (report.qformRAS !== undefined) return geometryFromAffineRAS(report.qformRAS, size)
  return undefined
}

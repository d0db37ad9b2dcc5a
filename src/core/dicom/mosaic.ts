/**
 * Siemens mosaics: one DICOM image (Rows×Columns R×C) holding N slices of r×c tiled row by row,
 * m = ⌈√N⌉ tiles per side (ImageType contains MOSAIC; N from the CSA Image Header). Tile t sits
 * at mosaic tile row ⌊t/m⌋, tile column t mod m and is slice k = t. Geometry as nibabel
 * `MosaicWrapper` and dcm2niix: ImagePositionPatient describes a fictitious R×C slice centred
 * on the real one, so the first slice's corner is shifted by (R − R/m)/2 rows and (C − C/m)/2
 * columns. Pure.
 */
import { AppError } from '../../shared/errors.js'
import type { Vec3 } from '../../shared/geometry.js'
import type { Volume, VoxelArray } from '../../shared/volume.js'
import { cross3, dot3, mat3FromColumns, norm3 } from '../geometry/affine.js'
import type { DicomSliceHeader } from './dicom-slice.js'
import type { SeriesGroup } from './group-series.js'
import { checkPixelFormat, pixelSpacingMm, type CheckedStack } from './stack-geometry.js'

/** How the slices are tiled in the mosaic image. */
export interface MosaicLayout {
  /** DICOM Rows and Columns of the mosaic image (R, C). */
  readonly mosaicRows: number
  readonly mosaicColumns: number
  /** Rows and columns of one slice (r = ⌊R/m⌋, c = ⌊C/m⌋). */
  readonly tileRows: number
  readonly tileColumns: number
  /** Tiles per mosaic row and per mosaic column (m = ⌈√N⌉). */
  readonly tilesPerSide: number
  /** Slices in the mosaic (N ≤ m²; the remaining tiles are blank). */
  readonly slices: number
}

/** A checked mosaic: geometry of the de-tiled r×c×N volume plus the tiling. */
export interface MosaicStack extends CheckedStack {
  readonly mosaic: MosaicLayout
}

/** True when the header is a Siemens mosaic (ImageType contains MOSAIC). */
export function isMosaic(h: DicomSliceHeader): boolean {
  return h.siemensMosaic !== undefined
}

/**
 * Tiling of an R×C mosaic of N slices. Throws `E_BAD_HEADER` when N is not a positive integer or
 * the tiles would be smaller than one pixel.
 */
export function mosaicLayout(rows: number, columns: number, slices: number): MosaicLayout {
  if (!Number.isInteger(slices) || slices < 1) {
    throw new AppError('E_BAD_HEADER', `NumberOfImagesInMosaic ${slices} is not a positive integer`)
  }
  const m = Math.ceil(Math.sqrt(slices))
  const tileRows = Math.floor(rows / m)
  const tileColumns = Math.floor(columns / m)
  if (tileRows < 1 || tileColumns < 1) {
    throw new AppError(
      'E_BAD_HEADER',
      `a ${rows}×${columns} mosaic cannot hold ${slices} slices (${m}×${m} tiles)`,
    )
  }
  return {
    mosaicRows: rows,
    mosaicColumns: columns,
    tileRows,
    tileColumns,
    tilesPerSide: m,
    slices,
  }
}

/**
 * De-tiles a mosaic image stored row-major (index = row·C + column, as decoded: i fastest along
 * a row) into an r×c×N volume with i fastest (column in tile), then j (row in tile), then k
 * (tile). Tile (y, x) starts at pixel y·⌊R·C/m⌋ + x·⌊C/m⌋ of the flat image, as in dcm2niix
 * (`nii_demosaic`): that is row y·r, column x·c whenever R and C are multiples of m (every real
 * Siemens mosaic), and dcm2niix's reading of a mosaic whose tiles are not whole pixels
 * (nibabel's 0.dcm: 256 = 7 × 36.57; nibabel's own reader refuses it). Returns a new array of the
 * same type.
 */
export function detileMosaic<T extends VoxelArray>(mosaic: T, layout: MosaicLayout): T {
  const { mosaicRows: R, mosaicColumns: C, tileRows: r, tileColumns: c } = layout
  const { tilesPerSide: m, slices: n } = layout
  if (mosaic.length !== R * C) {
    throw new AppError('E_INTERNAL', `mosaic has ${mosaic.length} pixels, expected ${R}×${C}`)
  }
  const tileRowStride = Math.floor((R * C) / m)
  const Ctor = mosaic.constructor as new (length: number) => T
  const out = new Ctor(r * c * n)
  for (let k = 0; k < n; k++) {
    const start = Math.floor(k / m) * tileRowStride + (k % m) * c
    for (let y = 0; y < r; y++) {
      const from = start + y * C
      const to = (k * r + y) * c
      for (let x = 0; x < c; x++) out[to + x] = mosaic[from + x] as number
    }
  }
  return out
}

/** True when R and C are whole multiples of the tiles per side, as Siemens writes them. */
export function tilesArePixelAligned(layout: MosaicLayout): boolean {
  return (
    layout.mosaicRows % layout.tilesPerSide === 0 &&
    layout.mosaicColumns % layout.tilesPerSide === 0
  )
}

function unit(v: Vec3): Vec3 {
  const n = norm3(v)
  return [v[0] / n, v[1] / n, v[2] / n]
}

/**
 * `normal` (unit, LPS) or its opposite, whichever points along the positive LPS axis it is
 * closest to: the direction Siemens numbers a mosaic's tiles in by default (its slice axis runs
 * from R, A, F towards L, P, H; the largest component names the orientation, as in "Tra>Cor").
 */
export function siemensDefaultNumbering(normal: Vec3): Vec3 {
  const a = [0, 1, 2].reduce((best, i) =>
    Math.abs(normal[i] as number) > Math.abs(normal[best] as number) ? i : best,
  )
  return (normal[a] as number) < 0 ? [-normal[0], -normal[1], -normal[2]] : normal
}

function fmt(x: number): string {
  return Number(x.toFixed(4)).toString()
}

/**
 * Checks one mosaic file and computes the geometry of its de-tiled volume (LPS mm, voxel
 * centres): size c×r×N, spacing (column spacing, row spacing, SpacingBetweenSlices or else
 * SliceThickness), origin = centre of voxel (0,0) of tile 0, directions (row, column, slice
 * normal). The normal is row × column with the sign of the CSA SliceNormalVector (nibabel's
 * choice: the cross product is the most orthogonal, the CSA vector says which way the tiles run;
 * dcm2niix's too: the sign of det[row, column, SliceNormalVector]). Without that vector (a
 * stripped CSA header) the sign is Siemens' default image numbering, with a warning: dcm2niix
 * then takes det[row, column, (0, 0, 1)], right for transverse slices, a coin toss on the tilt
 * for sagittal and coronal ones. CSA ProtocolSliceNumber, ASCCONV ucImageNumb and
 * MosaicRefAcqTimes are not read: tiles are stored in spatial order along SliceNormalVector
 * whatever the acquisition order, and dcm2niix's reversal for ProtocolSliceNumber > 1 only
 * reorders its output, not where the slices are.
 * Throws `E_UNSUPPORTED` (no slice count, several files), `E_SERIES_GEOMETRY` (no position or
 * orientation, CSA normal not along row × column), `E_BAD_HEADER`, and whatever
 * {@link checkPixelFormat} throws.
 */
export function checkMosaic(series: SeriesGroup): MosaicStack {
  const h = series.slices[0]
  if (!h) throw new AppError('E_NO_IMAGES', 'the series has no slices')
  const where = { file: h.file }
  if (series.slices.length !== 1) {
    throw new AppError(
      'E_UNSUPPORTED',
      `${series.slices.length} Siemens mosaic files in one stack; open one volume at a time`,
      where,
    )
  }
  checkPixelFormat(h)
  const info = h.siemensMosaic
  const n = info?.imagesInMosaic
  if (n === undefined) {
    throw new AppError(
      'E_UNSUPPORTED',
      `a Siemens mosaic (ImageType MOSAIC) without NumberOfImagesInMosaic in the CSA header or (0019,100A)${info?.csaProblem ? ` (${info.csaProblem})` : ''}: the slice count is unknown`,
      where,
    )
  }
  const iop = h.imageOrientationPatient
  const ipp = h.imagePositionPatient
  if (!iop || iop.length !== 6 || !ipp) {
    throw new AppError(
      'E_SERIES_GEOMETRY',
      'a Siemens mosaic without ImagePositionPatient/ImageOrientationPatient: its slices cannot be placed',
      where,
    )
  }
  const R = h.rows as number
  const C = h.columns as number
  let layout: MosaicLayout
  try {
    layout = mosaicLayout(R, C, n)
  } catch (e) {
    throw e instanceof AppError ? new AppError(e.code, e.message, where) : e
  }
  const row = unit([iop[0] as number, iop[1] as number, iop[2] as number])
  const col = unit([iop[3] as number, iop[4] as number, iop[5] as number])
  if (
    !row.every(Number.isFinite) ||
    !col.every(Number.isFinite) ||
    Math.abs(dot3(row, col)) > 1e-3
  ) {
    throw new AppError(
      'E_SERIES_GEOMETRY',
      `ImageOrientationPatient ${iop.join('\\')} is not two perpendicular unit vectors`,
      where,
    )
  }
  const warnings: string[] = []
  let normal = unit(cross3(row, col))
  const csaNormal = info?.sliceNormalVector
  if (!csaNormal) {
    normal = siemensDefaultNumbering(normal)
    warnings.push(
      `a mosaic without the CSA SliceNormalVector: its ${n} slices are assumed in Siemens' default image numbering (sagittal R→L, coronal A→P, transverse F→H); had the scanner's Image Numbering been reversed, they are upside down along the slice axis`,
    )
  } else {
    const d = dot3(csaNormal, normal)
    if (Math.abs(Math.abs(d) - 1) > 1e-3) {
      throw new AppError(
        'E_SERIES_GEOMETRY',
        `the CSA SliceNormalVector ${csaNormal.map(fmt).join(', ')} is ${fmt((Math.acos(Math.min(1, Math.abs(d))) * 180) / Math.PI)}° off the row × column normal`,
        where,
      )
    }
    if (d < 0) normal = [-normal[0], -normal[1], -normal[2]]
  }
  const [rowSpacing, colSpacing] = pixelSpacingMm(h, warnings)
  let sliceSpacing = 1
  if (h.spacingBetweenSlices !== undefined && h.spacingBetweenSlices > 0) {
    sliceSpacing = h.spacingBetweenSlices
  } else if (h.sliceThickness !== undefined && h.sliceThickness > 0) {
    sliceSpacing = h.sliceThickness
  } else {
    warnings.push(
      'a mosaic without SpacingBetweenSlices or SliceThickness: slice spacing assumed 1 mm',
    )
  }
  // nibabel MosaicWrapper.image_position: ipp + Q·((R,C) − (R,C)/m)/2, Q = [col·rowSpacing, row·colSpacing].
  const dr = ((R - R / layout.tilesPerSide) / 2) * rowSpacing
  const dc = ((C - C / layout.tilesPerSide) / 2) * colSpacing
  const origin: Vec3 = [
    ipp[0] + col[0] * dr + row[0] * dc,
    ipp[1] + col[1] * dr + row[1] * dc,
    ipp[2] + col[2] * dr + row[2] * dc,
  ]
  warnings.push(
    `a Siemens mosaic: ${n} slices of ${layout.tileColumns}×${layout.tileRows} de-tiled from the ${C}×${R} image`,
  )
  if (!tilesArePixelAligned(layout)) {
    const m = layout.tilesPerSide
    warnings.push(
      `the ${C}×${R} mosaic is not a whole number of ${m}×${m} tiles (${fmt(C / m)}×${fmt(R / m)} px each; resampled?): slices cut as dcm2niix does, they may not be the acquired ones`,
    )
  }
  return {
    slices: [h],
    geometry: {
      sizeIJK: [layout.tileColumns, layout.tileRows, n],
      spacingMm: [colSpacing, rowSpacing, sliceSpacing],
      originLPS: origin,
      directionLPS: mat3FromColumns(row, col, normal),
    },
    perSliceRescale: false,
    transferSyntaxes: [h.transferSyntaxUID as string],
    warnings,
    mosaic: layout,
  }
}

/**
 * Turns the decoder's R×C×1 image of a mosaic into the de-tiled volume with the geometry of
 * `stack`. Throws `E_DECODE` when the decoded size is not the mosaic's, and `E_INTERNAL` when the
 * decoder put the mosaic's corner anywhere but ImagePositionPatient (> 0.01 mm).
 */
export function detileDecoded(decoded: Volume, stack: MosaicStack, file: string): Volume {
  const { mosaicRows: R, mosaicColumns: C } = stack.mosaic
  const [ni, nj, nk] = decoded.sizeIJK
  if (ni !== C || nj !== R || nk !== 1) {
    throw new AppError(
      'E_DECODE',
      `decoder returned ${ni}×${nj}×${nk} voxels for a ${C}×${R} mosaic`,
      { file },
    )
  }
  const ipp = stack.slices[0]?.imagePositionPatient as Vec3
  const o = decoded.originLPS
  if (Math.hypot(o[0] - ipp[0], o[1] - ipp[1], o[2] - ipp[2]) > 1e-2) {
    throw new AppError(
      'E_INTERNAL',
      'the decoder placed the mosaic away from its ImagePositionPatient; refusing rather than risk a misplaced volume',
      { file },
    )
  }
  return {
    ...stack.geometry,
    pixelType: decoded.pixelType,
    voxels: detileMosaic(decoded.voxels, stack.mosaic),
  }
}

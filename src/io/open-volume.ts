/**
 * The one entry point for opening an image: a NIfTI/NRRD/MetaImage file, a DICOM file, folder,
 * or list of DICOM files. Format is detected from content. Every failure is an AppError naming
 * the file and the reason.
 */
import { basename } from 'node:path'
import { AppError, toAppError } from '../shared/errors.js'
import type { Volume } from '../shared/volume.js'
import { countNonFinite, intensityRange } from '../core/volume/intensity.js'
import { DETECT_HEAD_BYTES, detectFormat, type FileFormat } from './detect-format.js'
import { notRegularFile, readHead, statPath } from './read-head.js'
import { readNifti, type NiftiInfo, type VoxelProgress } from './nifti/read-nifti.js'
import { readItkImage } from './itk/read-itk-image.js'
import { readDicom, type DicomSeriesSummary } from './dicom/read-dicom.js'
import type { SkippedFile } from '../core/dicom/dicom-slice.js'
import type { GantryTilt } from '../shared/gantry-tilt.js'

export interface OpenOptions {
  /** Which DICOM series to open (key or 1-based index) when the input holds several. */
  readonly seriesKey?: string
  /** Cap on decoded voxel bytes. */
  readonly maxVoxelBytes?: number
  /**
   * A folder every detached data file (NRRD `data file`, MetaImage `ElementDataFile`) must stay
   * under (the service's `--data` root); absent: beside the header, wherever it points (CLI).
   */
  readonly confineTo?: string
  /**
   * Called as the voxels are decoded, in k order, by readers that decode a slice after another
   * (NIfTI); others answer only at the end.
   */
  readonly onVoxels?: (p: VoxelProgress) => void
}

export type { VoxelProgress }

export interface OpenedVolume {
  readonly volume: Volume
  readonly format: Exclude<FileFormat, 'unknown'>
  /** Files read, in k order for DICOM. */
  readonly files: readonly string[]
  readonly intensityRange: readonly [number, number]
  readonly warnings: readonly string[]
  readonly nifti?: NiftiInfo
  readonly dicom?: {
    readonly series: readonly DicomSeriesSummary[]
    readonly chosen: DicomSeriesSummary
    readonly skipped: readonly SkippedFile[]
    readonly transferSyntaxes: readonly string[]
    /** Gantry tilt resampled away; the source's sheared geometry (see `GantryTilt`). */
    readonly tilt?: GantryTilt
  }
}

/** Opens `inputs` (one path, or several DICOM files/folders). */
export async function openVolume(
  inputs: string | readonly string[],
  options: OpenOptions = {},
): Promise<OpenedVolume> {
  const list = typeof inputs === 'string' ? [inputs] : [...inputs]
  if (list.length === 0) throw new AppError('E_ARGS', 'no input given')
  const first = list[0] as string
  const s = await statPath(first)
  // What the reader found; the intensity range is computed once, below, for every format.
  let result: Omit<OpenedVolume, 'intensityRange'>
  if (list.length > 1 || s.isDirectory) {
    result = await openDicom(list, options)
  } else {
    // Opening a FIFO blocks until a writer comes (the whole job timeout), so refuse it first.
    const odd = await notRegularFile(first)
    if (odd !== undefined) {
      throw new AppError('E_UNSUPPORTED', `not a regular file (${odd})`, { file: first })
    }
    if (s.size === 0) throw new AppError('E_EMPTY', 'the file is empty (0 bytes)', { file: first })
    const head = await readHead(first, DETECT_HEAD_BYTES)
    const { format, gzip, inner, why } = detectFormat(head, basename(first))
    try {
      switch (format) {
        case 'nifti': {
          const r = await readNifti(first, inner, gzip, options)
          result = {
            volume: r.volume,
            format,
            files: [first],
            warnings: r.warnings,
            nifti: r.nifti,
          }
          break
        }
        case 'nrrd':
        case 'meta': {
          const r = await readItkImage(first, format, inner, options)
          result = {
            volume: r.volume,
            format,
            files: [first],
            warnings: r.warnings,
          }
          break
        }
        case 'dicom':
          result = await openDicom(list, options)
          break
        default:
          throw new AppError(
            'E_UNKNOWN_FORMAT',
            `not a recognised format (${why ?? (gzip ? 'a gzip file that does not hold a NIfTI image' : 'not a NIfTI, NRRD, MetaImage or DICOM file')})`,
            { file: first },
          )
      }
    } catch (e) {
      throw toAppError(e, 'E_DECODE', first)
    }
  }
  const range = intensityRange(result.volume.voxels)
  const warnings = [...result.warnings]
  const nonFinite = countNonFinite(result.volume.voxels)
  if (nonFinite > 0) warnings.push(`${nonFinite} voxels are NaN or infinite`)
  return { ...result, intensityRange: range, warnings }
}

async function openDicom(
  list: string[],
  options: OpenOptions,
): Promise<Omit<OpenedVolume, 'intensityRange'>> {
  const r = await readDicom(list, options)
  return {
    volume: r.volume,
    format: 'dicom',
    files: r.files,
    warnings: r.warnings,
    dicom: {
      series: r.series,
      chosen: r.chosen,
      skipped: r.skipped,
      transferSyntaxes: r.transferSyntaxes,
      ...(r.tilt ? { tilt: r.tilt } : {}),
    },
  }
}

import type { Vec3 } from '../../shared/geometry.js'

/**
 * What we need from one DICOM file's header, already parsed (by `src/io/dicom`). Everything the
 * series logic decides on is here, so it can be tested on synthetic tag tables.
 */
export interface DicomSliceHeader {
  readonly file: string
  readonly fileSize: number
  readonly transferSyntaxUID: string | undefined
  readonly sopClassUID: string | undefined
  readonly sopInstanceUID: string | undefined
  readonly seriesInstanceUID: string | undefined
  readonly seriesDescription: string | undefined
  readonly seriesNumber: number | undefined
  readonly modality: string | undefined
  /** (0010,0010) PN, (0010,0020), (0008,0020) DA, (0008,1030): shown in the header, never decided on. */
  readonly patientName?: string | undefined
  readonly patientId?: string | undefined
  readonly studyDate?: string | undefined
  readonly studyDescription?: string | undefined
  readonly rows: number | undefined
  readonly columns: number | undefined
  readonly bitsAllocated: number | undefined
  readonly bitsStored: number | undefined
  readonly pixelRepresentation: number | undefined
  readonly samplesPerPixel: number | undefined
  readonly numberOfFrames: number
  /** (0020,0032) in LPS mm. */
  readonly imagePositionPatient: Vec3 | undefined
  /** (0020,0037): row direction (x3) then column direction (x3), LPS. */
  readonly imageOrientationPatient: readonly number[] | undefined
  /** (0028,0030): [spacing between rows (mm), spacing between columns (mm)]. */
  readonly pixelSpacing: readonly [number, number] | undefined
  readonly sliceThickness: number | undefined
  readonly rescaleSlope: number
  readonly rescaleIntercept: number
  /** (0028,0120) Pixel Padding Value, as a stored value (before rescale), when present. */
  readonly pixelPaddingValue?: number
  readonly echoNumber: number | undefined
  readonly temporalPosition: number | undefined
  /** Pixel Data (7FE0,0010) found. */
  readonly hasPixelData: boolean
  /** Byte offset of the Pixel Data value and its declared length (undefined length: encapsulated). */
  readonly pixelDataOffset: number | undefined
  readonly pixelDataLength: number | undefined
  /** Zero bytes after the end of the data set (some writers pad files); decoded from a trimmed copy. */
  readonly trailingZeroBytes: number
  /** (0020,0012) and (0020,0013): order the volumes of a 4-D series of mosaics. */
  readonly acquisitionNumber?: number | undefined
  readonly instanceNumber?: number | undefined
  /** (0018,0088) SpacingBetweenSlices in mm (used for mosaics). */
  readonly spacingBetweenSlices?: number | undefined
  /** Present when ImageType (0008,0008) contains MOSAIC: one file holds a whole volume. */
  readonly siemensMosaic?: SiemensMosaicHeader | undefined
  /**
   * The file lacks the 128-byte preamble and "DICM" (legal before DICOM 3.0 Part 10): `preamble`
   * when it starts with its File Meta group, `preamble-and-meta` when it starts with the data set
   * (its transfer syntax is then inferred from the first elements). Decoded from a copy with them.
   */
  readonly missingPart10Header?: 'preamble' | 'preamble-and-meta' | undefined
}

/** What a Siemens mosaic's private headers say. */
export interface SiemensMosaicHeader {
  /** Slices in the mosaic: CSA Image Header "NumberOfImagesInMosaic", else (0019,100A). */
  readonly imagesInMosaic: number | undefined
  /** CSA "SliceNormalVector" (unit, LPS), if present. */
  readonly sliceNormalVector: Vec3 | undefined
  /** Why the CSA Image Header could not be read, if it could not. */
  readonly csaProblem?: string | undefined
}

/** A file that is not used, and why (non-image object, empty file, not DICOM, ...). */
export interface SkippedFile {
  readonly file: string
  readonly reason: string
  /** The error this would be if the file had been opened on its own. */
  readonly code: 'E_EMPTY' | 'E_UNKNOWN_FORMAT' | 'E_BAD_HEADER' | 'E_NO_IMAGES' | 'E_UNSUPPORTED'
}

export const TRANSFER_SYNTAXES: Readonly<
  Record<string, { name: string; encapsulated: boolean; lossy: boolean }>
> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', encapsulated: false, lossy: false },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', encapsulated: false, lossy: false },
  '1.2.840.10008.1.2.1.99': {
    name: 'Deflated Explicit VR Little Endian',
    encapsulated: false,
    lossy: false,
  },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', encapsulated: false, lossy: false },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline (lossy)', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended (lossy)', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless SV1', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', encapsulated: true, lossy: false },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', encapsulated: true, lossy: true },
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', encapsulated: true, lossy: false },
}

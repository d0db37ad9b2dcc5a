/**
 * Scans DICOM headers with daikon: a folder (recursively) or a list of files. Reads only the
 * head of each file (the Pixel Data element's offset and declared length are enough), growing it
 * up to {@link MAX_HEADER_BYTES} when the head does not reach Pixel Data; never the whole of a
 * large file. FIFOs, sockets and devices are skipped before they are opened (opening one blocks).
 */
import { open, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import daikon from 'daikon'
import type { Vec3 } from '../../shared/geometry.js'
import type { DicomSliceHeader, SkippedFile } from '../../core/dicom/dicom-slice.js'
import { TRANSFER_SYNTAXES } from '../../core/dicom/dicom-slice.js'
import { notRegularFile, readPrefix, statPath } from '../read-head.js'
import {
  EXPLICIT_BE,
  hasPart10Preamble,
  part10Prefix,
  sniffDataSet,
} from '../../core/dicom/part10-header.js'
import { isMosaicImageType, readSiemensMosaic } from './scan-siemens.js'

/** Head bytes read per file; image headers are a few kB, so Pixel Data's tag is almost always inside. */
const HEAD_BYTES = 64 * 1024

/** Most bytes read to find Pixel Data: files whose header runs past this are skipped, not read whole. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024

export interface ScanResult {
  readonly headers: readonly DicomSliceHeader[]
  readonly skipped: readonly SkippedFile[]
}

/** Lists regular files under a folder, recursively, in name order, skipping hidden entries. */
export async function listFilesRecursive(dir: string): Promise<string[]> {
  const out: string[] = []
  const entries = await readdir(dir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await listFilesRecursive(p)))
    // FIFOs, sockets and devices are listed so the scan reports them as skipped (never opened).
    else if (!e.isSymbolicLink()) out.push(p)
  }
  return out
}

/** Length of the tail after `from` if it is all zero bytes, else 0 (real trailing elements). */
async function countTrailingZeros(file: string, from: number, size: number): Promise<number> {
  if (size - from > 64 * 1024 * 1024) return 0
  const fh = await open(file, 'r')
  try {
    const tail = new Uint8Array(size - from)
    await fh.read(tail, 0, tail.length, from)
    return tail.every((b) => b === 0) ? tail.length : 0
  } finally {
    await fh.close()
  }
}

function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined
}

function first(x: unknown): unknown {
  return Array.isArray(x) ? x[0] : x
}

/** (0028,0120) is US or SS like the pixels; daikon guesses the VR in implicit files. */
function padding(img: Parsed): number | undefined {
  const raw = (img.tags['00280120']?.value as unknown[] | undefined)?.[0]
  const v = num(raw)
  const bits = num(img.getBitsAllocated())
  if (v === undefined || (bits !== 8 && bits !== 16)) return v
  const signed = img.getPixelRepresentation() === 1
  const half = 2 ** (bits - 1)
  return signed && v >= half ? v - 2 * half : !signed && v < 0 ? v + 2 * half : v
}

/**
 * A text tag's value as stored: daikon turns PN `DOE^JOHN` into `DOE JOHN` and DA into a Date,
 * losing the components the header formats. Latin-1 is enough for display of the value bytes.
 */
function rawText(img: Parsed, buf: Uint8Array, tag: string): string | undefined {
  const t = img.tags[tag]
  if (!t) return undefined
  const src = img.inflated instanceof ArrayBuffer ? new Uint8Array(img.inflated) : buf
  if (t.offsetEnd > src.length || t.offsetValue > t.offsetEnd) return str(t.value)
  let text = ''
  for (let i = t.offsetValue; i < t.offsetEnd; i++) text += String.fromCharCode(src[i] as number)
  return str(text)
}

function str(x: unknown): string | undefined {
  if (Array.isArray(x)) x = x[0]
  return typeof x === 'string' ? x.replace(/\0/g, '').trim() : undefined
}

type Parsed = NonNullable<ReturnType<typeof daikon.Series.parseImage>>

function parse(bytes: Uint8Array): Parsed | Error {
  try {
    const img = daikon.Series.parseImage(new DataView(bytes.buffer, 0, bytes.byteLength))
    if (img === null) {
      const e = daikon.Series.parserError
      return new Error(typeof e === 'string' ? e : (e?.message ?? 'not a DICOM file'))
    }
    return img
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e))
  }
}

/** `bytes` with `prefix` in front, in a fresh ArrayBuffer (daikon ignores byteOffset). */
function withPrefix(prefix: Uint8Array, bytes: Uint8Array): Uint8Array {
  if (prefix.length === 0) return bytes
  const out = new Uint8Array(prefix.length + bytes.length)
  out.set(prefix)
  out.set(bytes, prefix.length)
  return out
}

/** Parses one file's header, or returns why it is skipped. */
export async function scanDicomFile(path: string): Promise<DicomSliceHeader | SkippedFile> {
  const file = resolve(path)
  const odd = await notRegularFile(file)
  if (odd !== undefined) {
    return { file, code: 'E_UNSUPPORTED', reason: `not a regular file (${odd})` }
  }
  // readPrefix gives a fresh ArrayBuffer per file: daikon ignores DataView.byteOffset.
  let { bytes, fileSize: size } = await readPrefix(file, HEAD_BYTES)
  if (size === 0) return { file, code: 'E_EMPTY', reason: 'empty file (0 bytes)' }
  // Some writers omit the preamble or the whole File Meta group; accept a data set that starts
  // with a group 0002 or 0008 element that parses, refuse everything else without parsing.
  const start = hasPart10Preamble(bytes) ? undefined : sniffDataSet(bytes)
  if (!hasPart10Preamble(bytes) && start === undefined) {
    return {
      file,
      code: 'E_UNKNOWN_FORMAT',
      reason: 'not a DICOM file (no "DICM" marker and no DICOM data set at the start)',
    }
  }
  // daikon needs the Part 10 header (without File Meta it guesses VRs and loses its way in
  // sequences), so parse a copy with the one the file lacks; offsets below are of the file.
  const prefix =
    start === undefined
      ? new Uint8Array(0)
      : part10Prefix(start.hasFileMeta ? undefined : start.transferSyntaxUID)
  let buf = withPrefix(prefix, bytes)
  let img = parse(buf)
  // Grow the head (x4 each time) up to the cap; a file whose header needs more is skipped.
  while ((img instanceof Error || !img.getPixelData()) && size > bytes.length) {
    if (bytes.length >= MAX_HEADER_BYTES) {
      return {
        file,
        code: 'E_UNSUPPORTED',
        reason: `no Pixel Data in the first ${MAX_HEADER_BYTES / 1024 / 1024} MiB of a ${(size / 2 ** 20).toFixed(0)} MiB file (a header that large is not read)`,
      }
    }
    ;({ bytes, fileSize: size } = await readPrefix(
      file,
      Math.min(bytes.length * 4, MAX_HEADER_BYTES),
    ))
    buf = withPrefix(prefix, bytes)
    img = parse(buf)
  }
  if (img instanceof Error) {
    return { file, code: 'E_BAD_HEADER', reason: `unreadable DICOM header (${img.message})` }
  }
  const shift = prefix.length
  const ts = str(img.getTransferSyntax())
  const pixel = img.getPixelData()
  const encapsulated = ts !== undefined && (TRANSFER_SYNTAXES[ts]?.encapsulated ?? false)
  const inflated = img.inflated !== undefined
  const ipp = img.getImagePosition()
  const ps = img.getPixelSpacing()
  const frames = num(img.getNumberOfFrames()) ?? 1
  const pixelEnd = pixel && !inflated && !encapsulated ? pixel.offsetEnd - shift : undefined
  const trailingZeroBytes =
    pixelEnd !== undefined && pixelEnd < size ? await countTrailingZeros(file, pixelEnd, size) : 0
  return {
    file,
    fileSize: size,
    transferSyntaxUID: ts,
    sopClassUID: str(img.tags['00080016']?.value),
    sopInstanceUID: str(img.tags['00080018']?.value),
    seriesInstanceUID: str(img.getSeriesInstanceUID()),
    seriesDescription: str(img.getSeriesDescription()),
    seriesNumber: num(img.getSeriesNumber()),
    modality: str(img.getModality()),
    patientName: rawText(img, buf, '00100010'),
    patientId: str(img.tags['00100020']?.value),
    studyDate: rawText(img, buf, '00080020'),
    studyDescription: str(img.tags['00081030']?.value),
    rows: num(img.getRows()),
    columns: num(img.getCols()),
    bitsAllocated: num(img.getBitsAllocated()),
    bitsStored: num(img.getBitsStored()),
    pixelRepresentation: num(img.getPixelRepresentation()),
    samplesPerPixel: num(img.getNumberOfSamplesPerPixel()) ?? 1,
    numberOfFrames: frames,
    imagePositionPatient:
      ipp && ipp.length === 3 && ipp.every(Number.isFinite) ? (ipp as unknown as Vec3) : undefined,
    imageOrientationPatient: img.getImageDirections()?.every(Number.isFinite)
      ? (img.getImageDirections() as number[])
      : undefined,
    pixelSpacing:
      ps && ps.length === 2 && ps.every(Number.isFinite)
        ? [ps[0] as number, ps[1] as number]
        : undefined,
    sliceThickness: num(img.getSliceThickness()),
    rescaleSlope: num(img.getDataScaleSlope()) || 1,
    rescaleIntercept: num(img.getDataScaleIntercept()) ?? 0,
    ...(padding(img) === undefined ? {} : { pixelPaddingValue: padding(img) }),
    echoNumber: num(img.getEchoNumber()),
    temporalPosition: num(img.getTemporalPosition()),
    hasPixelData: pixel !== undefined,
    // Offsets of a deflated file refer to the inflated stream, and encapsulated data has no declared length.
    pixelDataOffset: pixel && !inflated ? pixel.offsetValue - shift : undefined,
    pixelDataLength:
      pixel && !inflated && !encapsulated ? pixel.offsetEnd - pixel.offsetValue : undefined,
    trailingZeroBytes,
    acquisitionNumber: num(first(img.tags['00200012']?.value)),
    instanceNumber: num(first(img.tags['00200013']?.value)),
    spacingBetweenSlices: num(first(img.tags['00180088']?.value)),
    ...(isMosaicImageType(img.tags['00080008']?.value)
      ? {
          // A deflated file's tag offsets point into daikon's inflated copy, not the file.
          siemensMosaic: readSiemensMosaic(
            img,
            img.inflated instanceof ArrayBuffer ? new Uint8Array(img.inflated) : buf,
            ts !== EXPLICIT_BE,
          ),
        }
      : {}),
    ...(start === undefined
      ? {}
      : { missingPart10Header: start.hasFileMeta ? 'preamble' : 'preamble-and-meta' }),
  }
}

/** Scans a folder (recursively) or a list of files. Files that are not image DICOM are listed as skipped. */
export async function scanDicom(inputs: readonly string[]): Promise<ScanResult> {
  const files: string[] = []
  for (const p of inputs) {
    const s = await statPath(p)
    if (s.isDirectory) files.push(...(await listFilesRecursive(p)))
    else files.push(p)
  }
  const headers: DicomSliceHeader[] = []
  const skipped: SkippedFile[] = []
  // Bounded concurrency: overlaps file reads without opening thousands of handles.
  let next = 0
  const results: (DicomSliceHeader | SkippedFile)[] = new Array(files.length)
  await Promise.all(
    Array.from({ length: Math.min(16, files.length) }, async () => {
      while (next < files.length) {
        const i = next++
        results[i] = await scanDicomFile(files[i] as string)
      }
    }),
  )
  for (const r of results) {
    if ('reason' in r) skipped.push(r)
    else headers.push(r)
  }
  return { headers, skipped }
}

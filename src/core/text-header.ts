/**
 * Tiny parsers for the text headers of NRRD and MetaImage (MHA/MHD), enough to pre-flight the
 * size before handing the file to itk-wasm.
 */
import { AppError } from '../shared/errors.js'

export interface TextHeaderInfo {
  readonly sizes: readonly number[]
  readonly bytesPerComponent: number
  readonly components: number
  /** `raw` when the payload is stored uncompressed (so file length can be checked). */
  readonly encoding: 'raw' | 'compressed' | 'other'
  /** For detached data (MHD `ElementDataFile`, NRRD `data file`), the referenced file name. */
  readonly dataFile: string | undefined
  /** Bytes from the start of the file to the payload, when the payload is in the same file. */
  readonly headerBytes: number | undefined
  /** MetaImage `CompressedDataSize` in bytes, when given (MetaIO cannot inflate without it). */
  readonly compressedDataSize?: number
}

const NRRD_TYPES: Record<string, number> = {
  'signed char': 1,
  int8: 1,
  int8_t: 1,
  uchar: 1,
  'unsigned char': 1,
  uint8: 1,
  uint8_t: 1,
  short: 2,
  'short int': 2,
  'signed short': 2,
  'signed short int': 2,
  int16: 2,
  int16_t: 2,
  ushort: 2,
  'unsigned short': 2,
  'unsigned short int': 2,
  uint16: 2,
  uint16_t: 2,
  int: 4,
  'signed int': 4,
  int32: 4,
  int32_t: 4,
  uint: 4,
  'unsigned int': 4,
  uint32: 4,
  uint32_t: 4,
  longlong: 8,
  'long long': 8,
  int64: 8,
  int64_t: 8,
  ulonglong: 8,
  uint64: 8,
  uint64_t: 8,
  float: 4,
  double: 8,
}

const META_TYPES: Record<string, number> = {
  MET_CHAR: 1,
  MET_UCHAR: 1,
  MET_SHORT: 2,
  MET_USHORT: 2,
  MET_INT: 4,
  MET_UINT: 4,
  MET_LONG: 4,
  MET_ULONG: 4,
  MET_LONG_LONG: 8,
  MET_ULONG_LONG: 8,
  MET_FLOAT: 4,
  MET_DOUBLE: 8,
}

function parseSizes(text: string | undefined, what: string, file: string | undefined): number[] {
  const sizes = (text ?? '').trim().split(/\s+/).map(Number)
  if (sizes.length === 0 || sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    throw new AppError(
      'E_BAD_HEADER',
      `${what} "${text ?? ''}" is not a list of positive integers`,
      file === undefined ? {} : { file },
    )
  }
  return sizes
}

/** Parses a NRRD header (up to the first blank line). `text` is the decoded head of the file. */
export function parseNrrdHeader(text: string, file?: string): TextHeaderInfo {
  const where = file === undefined ? {} : { file }
  const end = text.search(/\r?\n\r?\n/)
  if (end < 0) {
    throw new AppError('E_TRUNCATED', 'the NRRD header has no end (no blank line)', where)
  }
  const fields = new Map<string, string>()
  for (const line of text.slice(0, end).split(/\r?\n/).slice(1)) {
    if (line.startsWith('#')) continue
    const m = /^([^:]+):=?\s*(.*)$/.exec(line)
    if (m) fields.set((m[1] as string).trim().toLowerCase(), (m[2] as string).trim())
  }
  const sizes = parseSizes(fields.get('sizes'), 'NRRD sizes', file)
  const type = fields.get('type')
  const bytes = type === undefined ? undefined : NRRD_TYPES[type.toLowerCase()]
  if (bytes === undefined) {
    throw new AppError('E_BAD_HEADER', `NRRD type "${type ?? ''}" is unknown`, where)
  }
  const kinds = (fields.get('kinds') ?? '').split(/\s+/)
  const components =
    kinds.length === sizes.length && /vector|rgb|list|covariant|3-color/i.test(kinds[0] ?? '')
      ? (sizes[0] as number)
      : 1
  const enc = (fields.get('encoding') ?? '').toLowerCase()
  const encoding =
    enc === 'raw'
      ? 'raw'
      : enc === 'gzip' || enc === 'gz' || enc === 'bzip2' || enc === 'bz2'
        ? 'compressed'
        : 'other'
  const dataFile = fields.get('data file') ?? fields.get('datafile')
  const headerBytes =
    latin1Length(text.slice(0, end)) + (text.slice(end).startsWith('\r\n\r\n') ? 4 : 2)
  return {
    sizes: components > 1 ? sizes.slice(1) : sizes,
    bytesPerComponent: bytes,
    components,
    encoding,
    dataFile,
    headerBytes: dataFile === undefined ? headerBytes : undefined,
  }
}

/** Parses a MetaImage (MHA/MHD) header. */
export function parseMetaHeader(text: string, file?: string): TextHeaderInfo {
  const where = file === undefined ? {} : { file }
  const fields = new Map<string, string>()
  let headerBytes: number | undefined
  let offset = 0
  for (const line of text.split('\n')) {
    offset += latin1Length(line) + 1
    const m = /^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$/.exec(line)
    if (!m) continue
    fields.set(m[1] as string, m[2] as string)
    if (m[1] === 'ElementDataFile') {
      headerBytes = offset
      break
    }
  }
  if (!fields.has('ElementDataFile')) {
    throw new AppError('E_TRUNCATED', 'the MetaImage header has no ElementDataFile line', where)
  }
  const sizes = parseSizes(fields.get('DimSize'), 'MetaImage DimSize', file)
  const type = fields.get('ElementType') ?? ''
  const bytes = META_TYPES[type]
  if (bytes === undefined) {
    throw new AppError('E_BAD_HEADER', `MetaImage ElementType "${type}" is unknown`, where)
  }
  const components = Number(fields.get('ElementNumberOfChannels') ?? '1')
  const compressed = /true/i.test(fields.get('CompressedData') ?? 'false')
  const dataFile = fields.get('ElementDataFile') as string
  const local = dataFile.toUpperCase() === 'LOCAL'
  const zSize = Number(fields.get('CompressedDataSize') ?? NaN)
  return {
    ...(Number.isSafeInteger(zSize) && zSize > 0 ? { compressedDataSize: zSize } : {}),
    sizes,
    bytesPerComponent: bytes,
    components: Number.isSafeInteger(components) && components > 0 ? components : 1,
    encoding: compressed ? 'compressed' : 'raw',
    dataFile: local ? undefined : dataFile,
    headerBytes: local ? headerBytes : undefined,
  }
}

/** Byte length of header text decoded as latin1 (one byte per character, as the readers decode it). */
function latin1Length(s: string): number {
  return s.length
}

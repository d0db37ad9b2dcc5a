/**
 * The two large parts of a SEG file written without dcmjs' writer, in Explicit VR Little Endian
 * (PS3.5 7.1.2): the Per-frame Functional Groups Sequence (5200,9230) and the Pixel Data
 * (7FE0,0010). dcmjs writes an element through a new stream object, copied into its parent at
 * every nesting level; for 1,790 frames of 512² that took longer than writing the NIfTI. They are
 * the dataset's last two elements (ascending tag order, PS3.5 7.1), so dcmjs writes everything
 * before them and the two are appended in the encoding dcmjs itself uses: sequences and items of
 * undefined length with delimiters, strings padded to even length (UI with NUL, others with a
 * space), DS formatted by dcmjs' own DS rules, pixel data as OW (as dcmjs writes it; PS3.5 A.2
 * allows OB or OW for 1-bit BINARY frames) padded to even length: the bytes are dcmjs' own.
 */
import dcmjs, { type NaturalDataset } from 'dcmjs'
import { AppError } from '../../shared/errors.js'

const PER_FRAME_TAG = 0x52009230
const PIXEL_DATA_TAG = 0x7fe00010
/** VRs with a 32-bit length in explicit VR (PS3.5 Table 7.1-1); none is written here but SQ, OB. */
const LONG_VRS = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
])
const STRING_VRS = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'SH',
  'ST',
  'TM',
  'UI',
])
const DS = dcmjs.data.ValueRepresentation.createByTypeString('DS')

/** A growing byte buffer, little-endian. */
class Bytes {
  #buf = new Uint8Array(1 << 16)
  #view = new DataView(this.#buf.buffer)
  length = 0

  #room(n: number): void {
    if (this.length + n <= this.#buf.length) return
    let size = this.#buf.length * 2
    while (size < this.length + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.#buf.subarray(0, this.length))
    this.#buf = next
    this.#view = new DataView(next.buffer)
  }

  u16(v: number): void {
    this.#room(2)
    this.#view.setUint16(this.length, v, true)
    this.length += 2
  }

  u32(v: number): void {
    this.#room(4)
    this.#view.setUint32(this.length, v, true)
    this.length += 4
  }

  i16(v: number): void {
    this.#room(2)
    this.#view.setInt16(this.length, v, true)
    this.length += 2
  }

  i32(v: number): void {
    this.#room(4)
    this.#view.setInt32(this.length, v, true)
    this.length += 4
  }

  f32(v: number): void {
    this.#room(4)
    this.#view.setFloat32(this.length, v, true)
    this.length += 4
  }

  f64(v: number): void {
    this.#room(8)
    this.#view.setFloat64(this.length, v, true)
    this.length += 8
  }

  ascii(s: string): void {
    this.#room(s.length)
    for (let n = 0; n < s.length; n++) this.#buf[this.length + n] = s.charCodeAt(n)
    this.length += s.length
  }

  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.length)
  }
}

/** Group and element of a keyword's tag, as one number (`0xGGGGEEEE`), and its VR. */
function entry(keyword: string): { tag: number; vr: string } {
  const e = dcmjs.data.DicomMetaDictionary.nameMap[keyword]
  if (!e) throw new AppError('E_INTERNAL', `no DICOM dictionary entry for ${keyword}`)
  return { tag: parseInt(e.tag.slice(1, 5) + e.tag.slice(6, 10), 16), vr: e.vr }
}

function tagHeader(out: Bytes, tag: number, vr: string, length: number): void {
  out.u16(tag >>> 16)
  out.u16(tag & 0xffff)
  out.ascii(vr)
  if (LONG_VRS.has(vr)) {
    out.u16(0)
    out.u32(length)
  } else {
    if (length > 0xffff) {
      throw new AppError('E_INTERNAL', `a ${vr} value of ${length} bytes does not fit its length`)
    }
    out.u16(length)
  }
}

const asList = (v: unknown): unknown[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]

/** One element of a naturalized item (keyword → value), appended to `out`. */
function element(out: Bytes, tag: number, vr: string, value: unknown, keyword: string): void {
  if (vr === 'SQ') {
    tagHeader(out, tag, vr, 0xffffffff)
    for (const item of asList(value)) {
      out.u32(0xe000fffe) // (FFFE,E000) Item, undefined length
      out.u32(0xffffffff)
      itemElements(out, item as NaturalDataset)
      out.u32(0xe00dfffe) // (FFFE,E00D) Item Delimitation Item
      out.u32(0)
    }
    out.u32(0xe0ddfffe) // (FFFE,E0DD) Sequence Delimitation Item
    out.u32(0)
    return
  }
  const values = asList(value)
  if (STRING_VRS.has(vr)) {
    const text = values.map((x) => (vr === 'DS' ? DS.convertToString(x) : String(x))).join('\\')
    // eslint-disable-next-line no-control-regex -- what it refuses is what is not 7-bit ASCII
    if (/[^\x00-\x7f]/.test(text)) {
      throw new AppError('E_INTERNAL', `${keyword} holds text other than ASCII`)
    }
    const odd = text.length % 2
    tagHeader(out, tag, vr, text.length + odd)
    out.ascii(text)
    if (odd) out.ascii(vr === 'UI' ? '\0' : ' ')
    return
  }
  const write: Record<string, [number, (v: number) => void]> = {
    US: [2, (v) => out.u16(v)],
    UL: [4, (v) => out.u32(v)],
    SS: [2, (v) => out.i16(v)],
    SL: [4, (v) => out.i32(v)],
    FL: [4, (v) => out.f32(v)],
    FD: [8, (v) => out.f64(v)],
  }
  const w = write[vr]
  if (!w) throw new AppError('E_INTERNAL', `${keyword}: VR ${vr} is not written by the SEG encoder`)
  tagHeader(out, tag, vr, w[0] * values.length)
  for (const x of values) w[1](Number(x))
}

/** The elements of a naturalized item, in ascending tag order. */
function itemElements(out: Bytes, item: NaturalDataset): void {
  const list = Object.keys(item)
    .filter((k) => !k.startsWith('_') && item[k] !== undefined)
    .map((k) => ({ k, ...entry(k) }))
    .sort((a, b) => a.tag - b.tag)
  for (const { k, tag, vr } of list) element(out, tag, vr, item[k], k)
}

/**
 * The SEG `dataset` (naturalized, with `_meta`) as a Part 10 file: dcmjs writes the file meta and
 * every element before (5200,9230); the Per-frame Functional Groups Sequence and the BINARY pixel
 * data (`PixelData`: one ArrayBuffer of packed bits) follow. Throws `E_INTERNAL` when the dataset
 * has an element after (5200,9230) other than the pixel data, or a value this encoder does not
 * write (a VR other than SQ, strings and binary numbers; non-ASCII text).
 */
export function segFileBytes(dataset: NaturalDataset): Uint8Array {
  const { PerFrameFunctionalGroupsSequence: perFrame, PixelData: pixels, ...rest } = dataset
  for (const k of Object.keys(rest)) {
    if (k.startsWith('_')) continue
    const { tag } = entry(k)
    if (tag >= PER_FRAME_TAG) {
      throw new AppError('E_INTERNAL', `the SEG has ${k} after its per-frame groups`)
    }
  }
  const raw = pixels instanceof ArrayBuffer ? pixels : (asList(pixels)[0] as ArrayBuffer)
  if (!(raw instanceof ArrayBuffer)) throw new AppError('E_INTERNAL', 'the SEG has no pixel data')
  const head = new Uint8Array(dcmjs.data.datasetToBuffer(rest))
  const tail = new Bytes()
  element(tail, PER_FRAME_TAG, 'SQ', perFrame, 'PerFrameFunctionalGroupsSequence')
  const pad = raw.byteLength % 2
  tagHeader(tail, PIXEL_DATA_TAG, 'OW', raw.byteLength + pad)
  const groups = tail.bytes()
  const file = new Uint8Array(head.length + groups.length + raw.byteLength + pad)
  file.set(head, 0)
  file.set(groups, head.length)
  file.set(new Uint8Array(raw), head.length + groups.length)
  return file
}

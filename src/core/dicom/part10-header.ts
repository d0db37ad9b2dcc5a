/**
 * Recognises DICOM files with and without the Part 10 header (128-byte preamble + "DICM"), as
 * dcmtk and GDCM do: a file without it must start with a group 0x0002 (File Meta) or 0x0008
 * element whose first elements parse with one transfer syntax (explicit VR with a known VR, or
 * implicit VR with lengths that fit). Also builds the header such a file lacks, so decoders that
 * insist on it can read a copy. Pure.
 */

export const EXPLICIT_LE = '1.2.840.10008.1.2.1'
export const EXPLICIT_BE = '1.2.840.10008.1.2.2'
export const IMPLICIT_LE = '1.2.840.10008.1.2'

/** Value representations of DICOM PS3.5 (2023). */
const VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(
    ' ',
  ),
)
/** Explicit VRs with a 2-byte reserved field and a 4-byte length. */
const LONG_VRS = new Set('OB OD OF OL OV OW SQ UC UN UR UT SV UV'.split(' '))
const UNDEFINED_LENGTH = 0xffffffff

/** What {@link sniffDataSet} found at the start of a file without the Part 10 header. */
export interface DataSetStart {
  /** The file starts with its File Meta group (0002,xxxx), which names the transfer syntax. */
  readonly hasFileMeta: boolean
  /** Transfer syntax of the data set as inferred from its first elements (no File Meta). */
  readonly transferSyntaxUID: string | undefined
}

/** True when bytes 128..131 are "DICM" (a DICOM Part 10 file). */
export function hasPart10Preamble(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  )
}

/**
 * Number of elements that parse from offset 0 with the given encoding before one does not (up to
 * `max`); `Infinity` when, after at least one element, the walk reaches the end of `bytes` or an
 * undefined length.
 */
function walk(bytes: Uint8Array, explicit: boolean, little: boolean, max: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let pos = 0
  let last = -1
  for (let n = 0; n < max; n++) {
    if (pos + 8 > bytes.length) return n > 0 ? Infinity : 0
    const group = view.getUint16(pos, little)
    const element = view.getUint16(pos + 2, little)
    const tag = group * 0x10000 + element
    // Tags ascend in a data set; the first is File Meta or group 0008 (Identifying).
    if (tag <= last || (n === 0 && group !== 0x0002 && group !== 0x0008)) return n
    last = tag
    let length: number
    let header: number
    if (explicit) {
      const vr = String.fromCharCode(bytes[pos + 4] as number, bytes[pos + 5] as number)
      if (!VRS.has(vr)) return n
      if (LONG_VRS.has(vr)) {
        if (pos + 12 > bytes.length) return n > 0 ? Infinity : 0
        if (view.getUint16(pos + 6, little) !== 0) return n
        length = view.getUint32(pos + 8, little)
        header = 12
      } else {
        length = view.getUint16(pos + 6, little)
        header = 8
      }
    } else {
      length = view.getUint32(pos + 4, little)
      header = 8
    }
    // A sequence of undefined length, or a value running past the bytes we have, ends the walk:
    // it counts as a DICOM start if elements parsed before it.
    if (length === UNDEFINED_LENGTH) return n > 0 ? Infinity : 0
    if (length % 2 !== 0) return n
    pos += header + length
    if (pos > bytes.length) return n > 0 ? Infinity : 0
  }
  return max
}

/**
 * Recognises a DICOM data set at offset 0 (a file without preamble and "DICM"). File Meta is
 * always explicit VR little endian; a bare data set is tried as explicit VR little endian,
 * explicit VR big endian, then implicit VR little endian. Returns `undefined` when three elements
 * (or all there are) do not parse with any of them.
 */
export function sniffDataSet(bytes: Uint8Array): DataSetStart | undefined {
  if (bytes.length < 8) return undefined
  const ok = (explicit: boolean, little: boolean): boolean => walk(bytes, explicit, little, 3) >= 3
  if (bytes[0] === 0x02 && bytes[1] === 0x00) {
    return ok(true, true) ? { hasFileMeta: true, transferSyntaxUID: undefined } : undefined
  }
  if (bytes[0] === 0x08 && bytes[1] === 0x00) {
    if (ok(true, true)) return { hasFileMeta: false, transferSyntaxUID: EXPLICIT_LE }
    if (ok(false, true)) return { hasFileMeta: false, transferSyntaxUID: IMPLICIT_LE }
  }
  if (bytes[0] === 0x00 && bytes[1] === 0x08 && ok(true, false)) {
    return { hasFileMeta: false, transferSyntaxUID: EXPLICIT_BE }
  }
  return undefined
}

/**
 * True when a file's first bytes are DICOM: a Part 10 file ("DICM" at 128) or a bare data set
 * without the preamble (legal in old files). Pass at least the first 132 bytes; 1 KiB is plenty.
 */
export function looksLikeDicom(head: Uint8Array): boolean {
  return hasPart10Preamble(head) || sniffDataSet(head) !== undefined
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0))
}

function element(group: number, el: number, vr: string, value: Uint8Array): Uint8Array {
  const long = LONG_VRS.has(vr)
  const out = new Uint8Array((long ? 12 : 8) + value.length)
  const view = new DataView(out.buffer)
  view.setUint16(0, group, true)
  view.setUint16(2, el, true)
  out[4] = vr.charCodeAt(0)
  out[5] = vr.charCodeAt(1)
  if (long) view.setUint32(8, value.length, true)
  else view.setUint16(6, value.length, true)
  out.set(value, long ? 12 : 8)
  return out
}

/**
 * The bytes to put before a file that lacks them: the preamble and "DICM", plus (when
 * `transferSyntaxUID` is given, for a file with no File Meta) a minimal File Meta group naming it.
 */
export function part10Prefix(transferSyntaxUID: string | undefined): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(128), ascii('DICM')]
  if (transferSyntaxUID !== undefined) {
    let uid = transferSyntaxUID
    if (uid.length % 2 === 1) uid += '\0'
    const body = [
      element(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
      element(0x0002, 0x0010, 'UI', ascii(uid)),
    ]
    const length = new Uint8Array(4)
    new DataView(length.buffer).setUint32(
      0,
      body.reduce((a, b) => a + b.length, 0),
      true,
    )
    parts.push(element(0x0002, 0x0000, 'UL', length), ...body)
  }
  const out = new Uint8Array(parts.reduce((a, b) => a + b.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

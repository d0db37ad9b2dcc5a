/**
 * Siemens CSA header (the bytes of private element (0029,xx10) "CSA Image Header Info" or
 * (0029,xx20) "CSA Series Header Info"): a table of named tags whose values are short strings.
 * Layout as in nibabel `nicom/csareader.py` (after SPM's spm_dicom_headers): "SV10" + 4 unused
 * bytes (CSA2), uint32 tag count, uint32 (77); per tag a 64-byte name, int32 VM, 4-byte VR,
 * int32 SyngoDT, int32 item count, int32 (77 or 205); per item four int32 (the second is the
 * value length in CSA2) and the value, padded to 4 bytes. Little endian throughout. Pure.
 */
import { AppError } from '../../shared/errors.js'

/** Upper bound on tags and items per tag (nibabel's MAX_CSA_ITEMS); more means garbage. */
export const MAX_CSA_ITEMS = 1000

export interface CsaTag {
  readonly name: string
  /** Value multiplicity (0: as many as there are items). */
  readonly vm: number
  readonly vr: string
  /** Non-empty values, as the text stored in the header. */
  readonly items: readonly string[]
}

/** The fields VolSeg reads from a CSA Image Header to place a mosaic. */
export interface SiemensMosaicFields {
  /** Slices tiled in the mosaic ("NumberOfImagesInMosaic"). */
  readonly numberOfImagesInMosaic: number | undefined
  /** Unit normal of the slices in LPS, pointing from tile 0 towards the later tiles. */
  readonly sliceNormalVector: readonly [number, number, number] | undefined
}

function text(bytes: Uint8Array, at: number, length: number): string {
  let end = at
  while (end < at + length && bytes[end] !== 0) end++
  let s = ''
  for (let i = at; i < end; i++) s += String.fromCharCode(bytes[i] as number)
  return s
}

/**
 * Parses a CSA2 ("SV10") header into its tags by name. Throws `E_BAD_HEADER` when the bytes are
 * not a well-formed CSA2 header and `E_UNSUPPORTED` for the older CSA1 layout (pre-VB software;
 * its item lengths are encoded differently and we have no sample to test on).
 */
export function parseCsaHeader(bytes: Uint8Array): Map<string, CsaTag> {
  const bad = (why: string): AppError => new AppError('E_BAD_HEADER', `Siemens CSA header: ${why}`)
  if (bytes.length < 16) throw bad(`${bytes.length} bytes, too short`)
  if (text(bytes, 0, 4) !== 'SV10') {
    throw new AppError('E_UNSUPPORTED', 'Siemens CSA1 header (no "SV10" mark) is not parsed')
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const nTags = view.getUint32(8, true)
  if (nTags < 1 || nTags > MAX_CSA_ITEMS) throw bad(`${nTags} tags`)
  const tags = new Map<string, CsaTag>()
  let p = 16
  for (let t = 0; t < nTags; t++) {
    if (p + 84 > bytes.length) throw bad(`tag ${t} runs past the end`)
    const name = text(bytes, p, 64)
    const vm = view.getInt32(p + 64, true)
    const vr = text(bytes, p + 68, 4)
    const nItems = view.getInt32(p + 76, true)
    p += 84
    if (nItems < 0 || nItems > MAX_CSA_ITEMS) throw bad(`tag "${name}" has ${nItems} items`)
    const items: string[] = []
    for (let i = 0; i < nItems; i++) {
      if (p + 16 > bytes.length) throw bad(`item ${i} of "${name}" runs past the end`)
      const length = view.getInt32(p + 4, true)
      p += 16
      if (length < 0 || p + length > bytes.length) {
        throw bad(`item ${i} of "${name}" is ${length} bytes, past the end`)
      }
      // Only the first VM items carry values (VM 0: all); the rest are empty placeholders.
      const value = text(bytes, p, length).trim()
      if ((vm === 0 || i < vm) && value !== '') items.push(value)
      p += length + ((4 - (length % 4)) % 4)
    }
    tags.set(name, { name, vm, vr, items })
  }
  return tags
}

function numbers(tags: ReadonlyMap<string, CsaTag>, name: string): number[] | undefined {
  const items = tags.get(name)?.items
  if (!items || items.length === 0) return undefined
  const values = items.map(Number)
  return values.every(Number.isFinite) ? values : undefined
}

/**
 * Reads NumberOfImagesInMosaic and SliceNormalVector from parsed CSA Image Header tags; a field
 * that is absent, empty or malformed is `undefined`. The normal is returned as stored (DICOM
 * patient frame, LPS), normalised to unit length.
 */
export function siemensMosaicFields(tags: ReadonlyMap<string, CsaTag>): SiemensMosaicFields {
  const n = numbers(tags, 'NumberOfImagesInMosaic')?.[0]
  const normal = numbers(tags, 'SliceNormalVector')
  const len = normal?.length === 3 ? Math.hypot(...normal) : 0
  return {
    numberOfImagesInMosaic: n !== undefined && Number.isInteger(n) && n > 0 ? n : undefined,
    sliceNormalVector:
      normal && len > 0.5
        ? [(normal[0] as number) / len, (normal[1] as number) / len, (normal[2] as number) / len]
        : undefined,
  }
}

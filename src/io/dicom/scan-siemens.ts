/**
 * Reads what a Siemens mosaic needs from daikon's tag table: ImageType MOSAIC, the CSA Image
 * Header's NumberOfImagesInMosaic and SliceNormalVector (parsed by `core/dicom/siemens-csa`), and
 * the (0019,xx0A) fallback count. Private elements are located through their private creator, as
 * nibabel's `find_private_section` does, and read as raw bytes (daikon cannot decode them in
 * implicit VR files).
 */
import type daikon from 'daikon'
import type { SiemensMosaicHeader } from '../../core/dicom/dicom-slice.js'
import { parseCsaHeader, siemensMosaicFields } from '../../core/dicom/siemens-csa.js'

type DaikonImage = NonNullable<ReturnType<typeof daikon.Series.parseImage>>

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0')

function raw(img: DaikonImage, bytes: Uint8Array, key: string): Uint8Array | undefined {
  const t = img.tags[key]
  if (!t || t.offsetEnd > bytes.length || t.offsetEnd < t.offsetValue) return undefined
  return bytes.subarray(t.offsetValue, t.offsetEnd)
}

/** Element (group, xxEE) of the private block whose creator (group,00xx) is `creator`. */
function privateElement(
  img: DaikonImage,
  bytes: Uint8Array,
  group: number,
  creator: string,
  element: number,
): Uint8Array | undefined {
  for (let block = 0x10; block <= 0xff; block++) {
    const name = raw(img, bytes, `${hex(group, 4)}00${hex(block, 2)}`)
    if (name === undefined) continue
    if (
      String.fromCharCode(...name)
        .replace(/\0/g, '')
        .trim() === creator
    ) {
      return raw(img, bytes, `${hex(group, 4)}${hex(block, 2)}${hex(element, 2)}`)
    }
  }
  return undefined
}

/** True when ImageType (0008,0008) has a MOSAIC value. */
export function isMosaicImageType(value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value]
  return values.some(
    (v) => typeof v === 'string' && v.replace(/\0/g, '').trim().toUpperCase() === 'MOSAIC',
  )
}

/**
 * The mosaic fields of a file whose ImageType says MOSAIC. `bytes` is the buffer daikon parsed
 * (its tag offsets point into it); `littleEndian` is the data set's byte order.
 */
export function readSiemensMosaic(
  img: DaikonImage,
  bytes: Uint8Array,
  littleEndian: boolean,
): SiemensMosaicHeader {
  let csaProblem: string | undefined
  let fields: ReturnType<typeof siemensMosaicFields> | undefined
  const csa = privateElement(img, bytes, 0x0029, 'SIEMENS CSA HEADER', 0x10)
  if (csa === undefined) csaProblem = 'no CSA Image Header (0029,xx10)'
  else {
    try {
      fields = siemensMosaicFields(parseCsaHeader(csa))
    } catch (e) {
      csaProblem = e instanceof Error ? e.message : String(e)
    }
  }
  let count = fields?.numberOfImagesInMosaic
  if (count === undefined) {
    const v = privateElement(img, bytes, 0x0019, 'SIEMENS MR HEADER', 0x0a)
    if (v !== undefined && v.length >= 2) {
      const n = new DataView(v.buffer, v.byteOffset, v.byteLength).getUint16(0, littleEndian)
      if (n > 0) count = n
    }
  }
  return {
    imagesInMosaic: count,
    sliceNormalVector: fields?.sliceNormalVector,
    ...(csaProblem === undefined ? {} : { csaProblem }),
  }
}

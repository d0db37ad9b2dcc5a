import { looksLikeDicom } from '../core/dicom/part10-header.js'
import { looksLikeNifti } from '../core/nifti/nifti-header.js'
import { gunzipHead, isGzip } from './read-head.js'

export type FileFormat = 'nifti' | 'nrrd' | 'meta' | 'dicom' | 'unknown'

/** Bytes of a file's head needed by {@link detectFormat}. */
export const DETECT_HEAD_BYTES = 64 * 1024

function latin1(bytes: Uint8Array, from: number, to: number): string {
  return new TextDecoder('latin1').decode(bytes.subarray(from, to))
}

/** The NIfTI magic of a head whose first 4 bytes are a NIfTI header size, e.g. "n+1". */
function niftiMagic(head: Uint8Array): string {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const nifti2 = view.getInt32(0, true) === 540 || view.getInt32(0, false) === 540
  return latin1(head, nifti2 ? 4 : 344, nifti2 ? 7 : 347).replace(/\0.*$/s, '')
}

/**
 * Recognises a format from content, not from the name (a `.nii` that is really DICOM is treated
 * as DICOM). Gzipped NIfTI is recognised by inflating the head. For `unknown`, `why` says what
 * the bytes looked like when that is more than "nothing known".
 */
export function detectFormat(
  head: Uint8Array,
  fileName: string,
): { format: FileFormat; gzip: boolean; inner: Uint8Array; why?: string } {
  const gzip = isGzip(head)
  const inner = gzip ? gunzipHead(head) : head
  const text = latin1(inner, 0, 256)
  if (looksLikeNifti(inner)) {
    const magic = inner.length >= 348 ? niftiMagic(inner) : ''
    if (/^n[+i][12]$/.test(magic)) return { format: 'nifti', gzip, inner }
    // A DICOM preamble may begin with 348 (nibabel's 0.dcm does): "DICM" decides, not the size.
    if (!gzip && looksLikeDicom(inner)) return { format: 'dicom', gzip, inner }
    if (inner.length < 348) return { format: 'nifti', gzip, inner }
    return {
      format: 'unknown',
      gzip,
      inner,
      why: `the first 4 bytes are a NIfTI header size, but there is no NIfTI magic ("${magic.replace(/[^\x20-\x7e]/g, '?')}")`,
    }
  }
  if (!gzip && text.startsWith('NRRD000')) return { format: 'nrrd', gzip, inner }
  if (
    !gzip &&
    /^\s*(ObjectType|NDims|Comment|ObjectSubType|TransformType)\s*=/m.test(text) &&
    /\.(mha|mhd)$/i.test(fileName)
  ) {
    return { format: 'meta', gzip, inner }
  }
  // DICOM with the Part 10 header, or without it (legal in old files: pydicom's
  // ExplVR_BigEndNoMeta.dcm, rtstruct.dcm), recognised by its first elements whatever the name.
  if (looksLikeDicom(inner)) {
    return gzip
      ? { format: 'unknown', gzip, inner, why: 'a gzip-compressed DICOM file: gunzip it first' }
      : { format: 'dicom', gzip, inner }
  }
  return { format: 'unknown', gzip, inner }
}

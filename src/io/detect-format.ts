import { looksLikeNifti } from '../core/nifti/nifti-header.js'
import { gunzipHead, isGzip } from './read-head.js'

export type FileFormat = 'nifti' | 'nrrd' | 'meta' | 'dicom' | 'unknown'

/** Bytes of a file's head needed by {@link detectFormat}. */
export const DETECT_HEAD_BYTES = 64 * 1024

/**
 * Recognises a format from content, not from the name (a `.nii` that is really DICOM is treated
 * as DICOM). Gzipped NIfTI is recognised by inflating the head.
 */
export function detectFormat(
  head: Uint8Array,
  fileName: string,
): { format: FileFormat; gzip: boolean; inner: Uint8Array } {
  const gzip = isGzip(head)
  const inner = gzip ? gunzipHead(head) : head
  const text = new TextDecoder('latin1').decode(inner.subarray(0, 256))
  if (looksLikeNifti(inner)) return { format: 'nifti', gzip, inner }
  if (!gzip && text.startsWith('NRRD000')) return { format: 'nrrd', gzip, inner }
  if (
    !gzip &&
    /^\s*(ObjectType|NDims|Comment|ObjectSubType|TransformType)\s*=/m.test(text) &&
    /\.(mha|mhd)$/i.test(fileName)
  ) {
    return { format: 'meta', gzip, inner }
  }
  if (!gzip && inner.length >= 132 && String.fromCharCode(...inner.subarray(128, 132)) === 'DICM') {
    return { format: 'dicom', gzip, inner }
  }
  // DICOM without the 128-byte preamble and "DICM" (e.g. pydicom no_meta.dcm) starts with a group 0x0008 tag.
  if (
    !gzip &&
    inner.length >= 8 &&
    inner[0] === 0x08 &&
    inner[1] === 0x00 &&
    /\.(dcm|ima)$|^[^.]+$/i.test(fileName)
  ) {
    return { format: 'dicom', gzip, inner }
  }
  return { format: 'unknown', gzip, inner }
}

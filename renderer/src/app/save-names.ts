/**
 * What the viewer calls a saved mask and how it reports the save: pure text functions (no DOM),
 * tested in Node.
 */
import type { HelloInfo, OpenedVolume, SaveReport } from '../../../src/shared/api.js'
import { describeVerification } from '../../../src/shared/mask-verification.js'

/**
 * "Saved to volseg-out/x_seg.nii.gz — re-read: geometry ≤ 4e-6 mm, 7,086,177 voxels equal": where
 * the file went (the --out folder by name, the path in it) and what the re-read proved.
 */
export function savedLine(r: SaveReport, outDirName?: string): string {
  const where = outDirName ? `${outDirName}/${r.path}` : r.path
  // The review file sits beside the mask, so naming it alone says where it went.
  const review = r.reviewPath ? `, review in ${r.reviewPath.split('/').pop()}` : ''
  return `Saved to ${where}${review} — re-read: ${describeVerification(r.verification)}`
}

/**
 * The file name a mask of `volumeName` is saved under: `<stem>_seg.nii.gz`, the stem without the
 * image's extension and with every run of characters other than letters, digits, `.`, `-` and
 * `_` (spaces, brackets of a DICOM series description) made one `_`.
 */
export function maskFileName(volumeName: string): string {
  const stem = volumeName
    .replace(/\.nii(\.gz)?$|\.(nrrd|nhdr|mha|mhd|dcm)$/i, '')
    .replace(/[^\p{L}\p{N}._-]+/gu, '_')
    .replace(/^[_.-]+|_+$/g, '')
  return `${stem || 'mask'}_seg.nii.gz`
}

/**
 * The folder a save of what is on screen goes to, by name: the cohort's for a cohort case's
 * image (`masks/<case>_seg-N.nii.gz` in it), else `--out`'s.
 */
export function saveFolderName(s: {
  readonly hello?: HelloInfo
  readonly volume?: { readonly info: OpenedVolume }
}): string | undefined {
  return s.volume?.info.caseId !== undefined ? s.hello?.cohort?.name : s.hello?.outDirName
}

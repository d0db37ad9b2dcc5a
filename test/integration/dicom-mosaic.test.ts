/**
 * Siemens mosaics (nibabel's real test files, test/fixtures/nibabel/) against dcm2niix and
 * nibabel, 4-D series of mosaics as a volume choice, and DICOM files without the preamble.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openVolume } from '../../src/io/open-volume.js'
import { scanDicomFile } from '../../src/io/dicom/scan-dicom.js'
import { groupSeries } from '../../src/core/dicom/group-series.js'
import { checkMosaic } from '../../src/core/dicom/mosaic.js'
import type { DicomSliceHeader } from '../../src/core/dicom/dicom-slice.js'
import { runOpenJob } from '../../src/jobs/volume-jobs.js'
import type { Volume } from '../../src/shared/volume.js'
import type { Vec3 } from '../../src/shared/geometry.js'
import { column3 } from '../../src/core/geometry/affine.js'
import {
  derived,
  fixture,
  manifestEntry,
  PYDICOM_DATA,
  python,
  rejectsWith,
  stats,
} from '../helpers.js'

const nib = (name: string): string => fixture('nibabel', name)

/**
 * dcm2niix v1.0.20220720 on each file (`dcm2niix -s y -b n -z n -f out -o DIR FILE`), read with
 * nibabel: NIfTI shape, voxel sizes, and at the 8 corners and 4 inner voxels of its grid
 * [x, y, z] = the voxel centre in LPS mm (its RAS affine with x, y negated) and the value there.
 * One-off: for each voxel p, `lps = diag(-1,-1,1,1) @ img.affine; [*(lps @ [*p, 1])[:3], a[p]]`.
 */
const DCM2NIIX: Record<string, { shape: Vec3; spacing: Vec3; samples: number[][] }> = {
  '0.dcm': {
    shape: [36, 36, 48],
    spacing: [1.796875, 1.796875, 3.0],
    samples: [
      [-607.857117, -564.989197, -76.459175, 768],
      [-607.857117, -564.250921, 64.538898, 3872],
      [-607.857117, -627.878962, -76.12988, 0],
      [-607.857117, -627.140686, 64.868193, 3104],
      [-544.966492, -564.989197, -76.459175, 803],
      [-544.966492, -564.250921, 64.538898, 3907],
      [-544.966492, -627.878962, -76.12988, 35],
      [-544.966492, -627.140686, 64.868193, 3139],
      [-575.513367, -586.17441, -4.347258, 1332],
      [-598.872742, -577.394362, -43.393767, 295],
      [-548.560242, -567.907453, 52.557878, 3249],
      [-577.310242, -618.26639, 43.821438, 3231],
    ],
  },
  '1.dcm': {
    shape: [36, 36, 48],
    spacing: [1.796875, 1.796875, 3.0],
    samples: [
      [-607.857117, -564.989197, -73.459175, 768],
      [-607.857117, -564.250921, 67.538898, 3872],
      [-607.857117, -627.878962, -73.12988, 0],
      [-607.857117, -627.140686, 67.868193, 3104],
      [-544.966492, -564.989197, -73.459175, 803],
      [-544.966492, -564.250921, 67.538898, 3907],
      [-544.966492, -627.878962, -73.12988, 35],
      [-544.966492, -627.140686, 67.868193, 3139],
      [-575.513367, -586.17441, -1.347258, 1332],
      [-598.872742, -577.394362, -40.393767, 295],
      [-548.560242, -567.907453, 55.557878, 3249],
      [-577.310242, -618.26639, 46.821438, 3231],
    ],
  },
  // Its pixel data is all zero (nibabel stripped it); shape and placement still count.
  'siemens_dwi_0.dcm': {
    shape: [128, 128, 48],
    spacing: [1.796875, 1.796875, 3.0],
    samples: [
      [-115.0, 93.171478, -79.90535, 0],
      [-115.0, 93.909755, 61.092723, 0],
      [-115.0, -135.028528, -78.710478, 0],
      [-115.0, -134.290252, 62.287595, 0],
      [113.203125, 93.171478, -79.90535, 0],
      [113.203125, 93.909755, 61.092723, 0],
      [113.203125, -135.028528, -78.710478, 0],
      [113.203125, -134.290252, 62.287595, 0],
      [0.0, 18.080752, -7.511179, 0],
      [-106.015625, 80.766313, -46.839942, 0],
      [109.609375, 90.253222, 49.111704, 0],
      [-84.453125, 39.894285, 40.375263, 0],
    ],
  },
}
/**
 * dcm2niix's 48 slice sums for 0.dcm (`a[:, :, z].sum()`), with the LPS centre of its voxel
 * (18, 18, z) for z = 0 and 47 (slice centres are evenly spaced between them).
 */
const SLICE_SUMS_0 = {
  first: [-575.513367, -597.332505, -76.289823] as Vec3,
  last: [-575.513367, -596.594229, 64.708249] as Vec3,
  sums: [
    2289816, 2336472, 2383128, 2429784, 2476440, 2523096, 2569752, 2626488, 2673144, 2719800,
    2487928, 2518200, 2564856, 2611512, 2668248, 2714904, 2761560, 2808216, 2854872, 2901528,
    2686040, 2857464, 2904120, 2532984, 2555064, 2601720, 2648376, 2695032, 2456856, 2503512,
    2550168, 2596824, 2643480, 2427992, 2441880, 2793528, 2561656, 2591928, 2638584, 2685240,
    2731896, 2778552, 2835288, 2881944, 2928600, 2975256, 2759768, 2773656,
  ],
}

/** Our voxel index whose centre is at LPS `p`, asserting it is within 0.01 mm of one. */
function voxelAt(v: Volume, p: readonly number[], what: string): [number, number, number] {
  const d = [p[0]! - v.originLPS[0], p[1]! - v.originLPS[1], p[2]! - v.originLPS[2]]
  // Directions are orthonormal: index = Dᵀ·d / spacing.
  const ijk = [0, 1, 2].map((c) => {
    const a = column3(v.directionLPS, c)
    return (a[0] * d[0]! + a[1] * d[1]! + a[2] * d[2]!) / v.spacingMm[c]!
  })
  const r = ijk.map(Math.round) as [number, number, number]
  const err = Math.hypot(...ijk.map((x, c) => (x - r[c]!) * v.spacingMm[c]!))
  assert.ok(err <= 0.01, `${what}: ${p.join(', ')} is ${err} mm from our voxel centre ${r}`)
  r.forEach((x, c) => assert.ok(x >= 0 && x < v.sizeIJK[c]!, `${what}: index ${r} outside`))
  return r
}

function value(v: Volume, [i, j, k]: readonly number[]): number {
  return v.voxels[i! + v.sizeIJK[0] * (j! + v.sizeIJK[1] * k!)] as number
}

test('Siemens mosaics open as r×c×N, placed and valued as dcm2niix (world space, LPS)', async () => {
  for (const [name, want] of Object.entries(DCM2NIIX)) {
    const o = await openVolume(nib(name))
    const v = o.volume
    assert.deepEqual(v.sizeIJK, want.shape, name)
    v.spacingMm.forEach((s, c) => assert.ok(Math.abs(s - want.spacing[c]!) < 1e-5, `${name}`))
    for (const [x, y, z, val] of want.samples) {
      assert.equal(value(v, voxelAt(v, [x!, y!, z!], name)), val, `${name} at ${x}, ${y}, ${z}`)
    }
    assert.ok(
      o.warnings.some((w) => /a Siemens mosaic: 48 slices/.test(w)),
      name,
    )
    assert.ok(!o.warnings.some((w) => /single slice/.test(w)), name)
  }
  // Every slice of 0.dcm (tile order and sign of the slice axis), by world position.
  const v = (await openVolume(nib('0.dcm'))).volume
  const { first, last, sums } = SLICE_SUMS_0
  sums.forEach((want, z) => {
    const p = first.map((a, c) => a + ((last[c]! - a) * z) / 47)
    const k = voxelAt(v, p, `slice ${z}`)[2]
    let sum = 0
    for (let n = 0; n < 36 * 36; n++) sum += v.voxels[k * 36 * 36 + n] as number
    assert.equal(sum, want, `slice ${z}`)
  })
})

test('0.dcm (256×256, not a whole number of 7×7 tiles) says its slices are cut as dcm2niix does', async () => {
  const o = await openVolume(nib('0.dcm'))
  assert.ok(
    o.warnings.some((w) => /not a whole number of 7×7 tiles \(36\.5714×36\.5714 px/.test(w)),
    o.warnings.join('\n'),
  )
  // siemens_dwi_0.dcm is 896 = 7 × 128: no such warning.
  const d = await openVolume(nib('siemens_dwi_0.dcm'))
  assert.ok(!d.warnings.some((w) => /whole number/.test(w)), d.warnings.join('\n'))
})

test('a mosaic with real values de-tiles as nibabel MosaicWrapper (every voxel, world space)', async () => {
  // siemens_dwi_0.dcm's pixels are all zero: give a copy random pixels; nibabel is the oracle.
  const dir = mkdtempSync(join(tmpdir(), 'volseg-mosaic-'))
  try {
    const file = join(dir, 'random.dcm')
    const ref = python<{ affine: number[][]; shape: number[] }>(
      `
import sys, json, warnings, numpy as np, pydicom
warnings.simplefilter('ignore')
from nibabel.nicom import dicomwrappers as w
src, dst, raw = sys.argv[1:]
ds = pydicom.dcmread(src)
ds.PixelData = np.random.default_rng(7).integers(0, 4096, (ds.Rows, ds.Columns), dtype='<u2').tobytes()
ds.save_as(dst)
mw = w.wrapper_from_file(dst)
a = mw.get_data()  # (row, column, slice)
np.ascontiguousarray(a.transpose(2, 0, 1), dtype='<f8').tofile(raw)  # k, row, column
print(json.dumps({'affine': mw.affine.tolist(), 'shape': list(a.shape)}))
`,
      [nib('siemens_dwi_0.dcm'), file, join(dir, 'nibabel.f64')],
    )
    const want = new Float64Array(readFileSync(join(dir, 'nibabel.f64')).buffer.slice(0))
    const v = (await openVolume(file)).volume
    // nibabel's affine maps (row, column, slice) to LPS; ours (column, row, slice).
    const A = ref.affine
    const [rows, cols, n] = ref.shape as [number, number, number]
    assert.deepEqual(v.sizeIJK, [cols, rows, n])
    let checked = 0
    for (let s = 0; s < n; s++) {
      for (const [r, c] of [
        [0, 0],
        [rows - 1, 0],
        [0, cols - 1],
        [rows - 1, cols - 1],
        [17, 101],
      ] as const) {
        const p = [0, 1, 2].map((q) => A[q]![0]! * r + A[q]![1]! * c + A[q]![2]! * s + A[q]![3]!)
        const ijk = voxelAt(v, p, `nibabel (${r}, ${c}, ${s})`)
        assert.equal(value(v, ijk), want[(s * rows + r) * cols + c], `(${r}, ${c}, ${s})`)
        checked++
      }
    }
    assert.equal(checked, 5 * 48)
    // And all voxels: the index map found above is (i, j, k) = (column, row, slice).
    let diff = 0
    for (let s = 0; s < n; s++) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          if (value(v, [c, r, s]) !== want[(s * rows + r) * cols + c]) diff++
        }
      }
    }
    assert.equal(diff, 0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('crafted mosaics in 3 orientations, 4 slice orders, 9 transfer syntaxes land on their own ground truth', async () => {
  // derive_mosaic.py: per variant the voxel → LPS affine implied by the IPP/IOP/SliceNormalVector
  // it wrote (numpy) and each slice's pixel sum; nibabel's MosaicWrapper agrees with both.
  const root = derived('dicom', 'mosaic-variants')
  const names = readdirSync(root).sort()
  assert.ok(names.length >= 24, names.join(' '))
  for (const name of names) {
    const e = manifestEntry(`dicom/mosaic-variants/${name}`)
    if (e.every_element_vr_un) {
      // gdcmconv from an implicit VR file: every element is UN; daikon cannot read that header.
      await rejectsWith(openVolume(join(root, name)), 'E_NO_IMAGES')
      continue
    }
    const o = await openVolume(join(root, name))
    const v = o.volume
    const a = e.affine_lps_ijk as number[][]
    assert.deepEqual(v.sizeIJK, [128, 128, 48], name)
    for (let r = 0; r < 3; r++) {
      assert.ok(Math.abs(v.originLPS[r]! - a[r]![3]!) < 1e-3, `${name}: origin ${v.originLPS}`)
      for (let c = 0; c < 3; c++) {
        const ours = v.directionLPS[3 * r + c]! * v.spacingMm[c]!
        assert.ok(Math.abs(ours - a[r]![c]!) < 1e-4, `${name}: axis ${c} ${ours} vs ${a[r]![c]}`)
      }
    }
    const n = 128 * 128
    const sums = Array.from({ length: 48 }, (_, k) => stats(v.voxels.subarray(k * n, (k + 1) * n)))
    assert.deepEqual(
      sums.map((s) => s.sum),
      e.slice_sums,
      `${name}: slice sums`,
    )
    const assumed = o.warnings.some((w) => /without the CSA SliceNormalVector/.test(w))
    assert.equal(assumed, name.endsWith('-no-csa'), `${name}: ${o.warnings.join('; ')}`)
  }
})

test('oblique mosaic header (csa_slice_norm.dcm): geometry as nibabel, slice axis from the CSA normal', async () => {
  // The file has no pixel data (nibabel kept the header only), so check the geometry step itself.
  const scanned = (await scanDicomFile(nib('csa_slice_norm.dcm'))) as DicomSliceHeader
  assert.equal(scanned.hasPixelData, false)
  assert.equal(scanned.siemensMosaic?.imagesInMosaic, 32)
  const h: DicomSliceHeader = { ...scanned, hasPixelData: true }
  const group = groupSeries([h]).series[0]!
  const ref = python<{ affine: number[][]; shape: number[]; normal: number[] }>(
    `
import sys, json, warnings
warnings.simplefilter('ignore')
from nibabel.nicom import dicomwrappers as w
mw = w.wrapper_from_file(sys.argv[1])
print(json.dumps({'affine': mw.affine.tolist(), 'shape': list(mw.image_shape), 'normal': list(mw.slice_normal)}))
`,
    [nib('csa_slice_norm.dcm')],
  )
  const g = checkMosaic(group).geometry
  assert.deepEqual(g.sizeIJK, [ref.shape[1], ref.shape[0], ref.shape[2]])
  const A = ref.affine
  for (let q = 0; q < 3; q++) {
    assert.ok(Math.abs(g.originLPS[q]! - A[q]![3]!) < 1e-4, `origin ${g.originLPS}`)
    // Our i axis is nibabel's column axis (its affine column 1), j its row axis (column 0).
    assert.ok(Math.abs(column3(g.directionLPS, 0)[q]! * g.spacingMm[0] - A[q]![1]!) < 1e-4)
    assert.ok(Math.abs(column3(g.directionLPS, 1)[q]! * g.spacingMm[1] - A[q]![0]!) < 1e-4)
    assert.ok(Math.abs(column3(g.directionLPS, 2)[q]! * g.spacingMm[2] - A[q]![2]!) < 1e-4)
    assert.ok(Math.abs(column3(g.directionLPS, 2)[q]! - ref.normal[q]!) < 1e-5)
  }
  // A CSA normal pointing the other way flips the slice axis; one off the axis is refused.
  const withNormal = (n: Vec3): typeof group => ({
    ...group,
    slices: [{ ...h, siemensMosaic: { imagesInMosaic: 32, sliceNormalVector: n } }],
  })
  const flipped = checkMosaic(withNormal([0, -0.43994078, -0.89802679])).geometry
  assert.ok(Math.abs(column3(flipped.directionLPS, 2)[2] + ref.normal[2]!) < 1e-5)
  assert.throws(
    () => checkMosaic(withNormal([0, 0, 1])),
    /SliceNormalVector .* off the row × column normal/,
  )
  // Without a slice count the mosaic is refused, not opened as one slice.
  assert.throws(
    () =>
      checkMosaic({
        ...group,
        slices: [
          { ...h, siemensMosaic: { imagesInMosaic: undefined, sliceNormalVector: undefined } },
        ],
      }),
    /without NumberOfImagesInMosaic/,
  )
})

test('0.dcm + 1.dcm in one folder: a 4-D series of 2 volumes, offered as a choice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-4d-'))
  try {
    copyFileSync(nib('1.dcm'), join(dir, 'a.dcm')) // names in the reverse of InstanceNumber order
    copyFileSync(nib('0.dcm'), join(dir, 'b.dcm'))
    const e = await rejectsWith(openVolume(dir), 'E_MULTIPLE_SERIES', dir)
    assert.match(e.message, /a 4-D series of 2 volumes/)
    assert.doesNotMatch(e.message, /same position/)
    const series = (e.details as { series: { key: string; volume?: { index: number } }[] }).series
    assert.equal(series.length, 2)
    assert.match(series[0]!.key, /:vol1$/)
    assert.deepEqual(
      series.map((s) => s.volume?.index),
      [1, 2],
    )
    // Volume 1 is InstanceNumber 1 (0.dcm), volume 2 is 1.dcm: 3 mm further along z.
    const v1 = await openVolume(dir, { seriesKey: '1' })
    const v2 = await openVolume(dir, { seriesKey: series[1]!.key })
    assert.deepEqual(v1.files, [join(dir, 'b.dcm')])
    assert.deepEqual(v2.files, [join(dir, 'a.dcm')])
    assert.deepEqual(v2.volume.sizeIJK, [36, 36, 48])
    assert.ok(Math.abs(v2.volume.originLPS[2] - v1.volume.originLPS[2] - 3) < 1e-6)
    assert.ok(v2.warnings.some((w) => /volume 2 of a 4-D series of 2 volumes/.test(w)))
    // The UI's choice lists each volume with its de-tiled size.
    const job = await runOpenJob({ kind: 'open', input: [dir] })
    assert.equal(job.kind, 'series-choice')
    if (job.kind === 'series-choice') {
      assert.deepEqual(
        job.series.map((s) => s.sizeIJK),
        [
          [36, 36, 48],
          [36, 36, 48],
        ],
      )
      assert.match(job.series[1]!.description, /volume 2 of 2/)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the DWI pair (b=0, b=1000) is a 4-D series ordered by AcquisitionNumber', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-dwi-'))
  try {
    copyFileSync(nib('siemens_dwi_1000.dcm'), join(dir, '1.dcm'))
    copyFileSync(nib('siemens_dwi_0.dcm'), join(dir, '2.dcm'))
    const e = await rejectsWith(openVolume(dir), 'E_MULTIPLE_SERIES', dir)
    assert.match(e.message, /a 4-D series of 2 volumes/)
    const v = await openVolume(dir, { seriesKey: '2' })
    assert.deepEqual(v.files, [join(dir, '1.dcm')]) // AcquisitionNumber 2 (b=1000)
    assert.deepEqual(v.volume.sizeIJK, [128, 128, 48])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('DICOM without the 128-byte preamble and "DICM": recognised and read', async () => {
  // 0.dcm's preamble starts with the int32 348 (NIfTI's header size): it must not be called NIfTI.
  const head = readFileSync(nib('0.dcm')).subarray(0, 4)
  assert.equal(new DataView(head.buffer, head.byteOffset).getInt32(0, true), 348)
  const dir = mkdtempSync(join(tmpdir(), 'volseg-nopre-'))
  try {
    const ct = derived('dicom', 'single', 'CT_small.dcm')
    const want = manifestEntry('dicom/single/CT_small.dcm').rescaled as { sum: number }
    const variants: [string, string, RegExp][] = [
      [
        'CT_small_no_meta.dcm',
        derived('dicom', 'single', 'CT_small_no_meta.dcm'),
        /Explicit VR Little Endian/,
      ],
      ['no-preamble.dcm', '', /lack the DICOM preamble and "DICM", e\.g\./],
      ['implicit-no-meta', '', /Implicit VR Little Endian/],
      ['bigendian-no-meta.dcm', '', /Explicit VR Big Endian/],
    ]
    // File Meta but no preamble; and data sets only (dcmtk dcmconv -F) in two transfer syntaxes.
    writeFileSync(join(dir, 'no-preamble.dcm'), readFileSync(ct).subarray(132))
    execFileSync('dcmconv', ['-F', '+ti', ct, join(dir, 'implicit-no-meta')])
    execFileSync('dcmconv', ['-F', '+tb', ct, join(dir, 'bigendian-no-meta.dcm')])
    for (const [name, path, warning] of variants) {
      const file = path || join(dir, name)
      const o = await openVolume(file)
      assert.deepEqual(o.volume.sizeIJK, [128, 128, 1], name)
      assert.equal(stats(o.volume.voxels).sum, want.sum, name)
      assert.ok(
        o.warnings.some((w) => warning.test(w)),
        `${name}: ${o.warnings.join('; ')}`,
      )
    }
    // Non-image objects without preamble are named as such, not "unknown format".
    for (const name of ['ExplVR_BigEndNoMeta.dcm', 'ExplVR_LitEndNoMeta.dcm', 'rtstruct.dcm']) {
      const copy = join(dir, name.replace('.dcm', '')) // no extension: content decides
      copyFileSync(join(PYDICOM_DATA, name), copy)
      const e = await rejectsWith(openVolume(copy), 'E_NO_IMAGES', copy)
      assert.match(e.message, /no pixel data \(a RT(PLAN|STRUCT) object/)
    }
    // pydicom's broken no_meta.dcm (a stray leading byte) and a 348-headed file with no magic.
    const junk = join(dir, 'junk.nii')
    const bytes = new Uint8Array(400)
    new DataView(bytes.buffer).setInt32(0, 348, true)
    bytes.set([0x41, 0x45], 344)
    writeFileSync(junk, bytes)
    const e1 = await rejectsWith(openVolume(junk), 'E_UNKNOWN_FORMAT', junk)
    assert.match(
      e1.message,
      /^not a recognised format \(the first 4 bytes are a NIfTI header size, but there is no NIfTI magic \("AE"\)\)$/,
    )
    const broken = derived('dicom', 'single', 'no_meta.dcm')
    const e2 = await rejectsWith(openVolume(broken), 'E_UNKNOWN_FORMAT', broken)
    assert.match(e2.message, /^not a recognised format \(/)
    // A gzipped DICOM file says so.
    const gz = join(dir, 'ct.dcm.gz')
    writeFileSync(gz, execFileSync('gzip', ['-c', ct]))
    const e3 = await rejectsWith(openVolume(gz), 'E_UNKNOWN_FORMAT', gz)
    assert.match(e3.message, /gzip-compressed DICOM file: gunzip it first/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Vec3 } from '../../src/shared/geometry.js'
import { AppError } from '../../src/shared/errors.js'
import type { DicomSliceHeader } from '../../src/core/dicom/dicom-slice.js'
import { groupSeries } from '../../src/core/dicom/group-series.js'
import { checkStack, spacingTolerance } from '../../src/core/dicom/stack-geometry.js'

/** A synthetic tag table for one slice of an axial-oblique series. */
function slice(k: number, over: Partial<DicomSliceHeader> = {}): DicomSliceHeader {
  const c = Math.cos(0.2)
  const s = Math.sin(0.2)
  const normal: Vec3 = [0, -s, c]
  const pos: Vec3 = [-100 + 0 * k, 20 + normal[1] * 2.5 * k, -50 + normal[2] * 2.5 * k]
  return {
    file: `/data/f${String(k).padStart(3, '0')}.dcm`,
    fileSize: 600_000,
    transferSyntaxUID: '1.2.840.10008.1.2.1',
    sopClassUID: '1.2.840.10008.5.1.4.1.1.4',
    sopInstanceUID: `1.2.3.${k}`,
    seriesInstanceUID: '1.2.3',
    seriesDescription: 'T1',
    seriesNumber: 3,
    modality: 'MR',
    rows: 256,
    columns: 240,
    bitsAllocated: 16,
    bitsStored: 12,
    pixelRepresentation: 0,
    samplesPerPixel: 1,
    numberOfFrames: 1,
    imagePositionPatient: pos,
    imageOrientationPatient: [1, 0, 0, 0, c, s],
    pixelSpacing: [0.9, 0.8],
    sliceThickness: 2.5,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    echoNumber: 1,
    temporalPosition: undefined,
    hasPixelData: true,
    pixelDataOffset: 2000,
    pixelDataLength: 256 * 240 * 2,
    trailingZeroBytes: 0,
    ...over,
  }
}

const series = (slices: DicomSliceHeader[]): ReturnType<typeof groupSeries>['series'][number] => {
  const g = groupSeries(slices)
  assert.equal(g.series.length, 1)
  return g.series[0]!
}

const code = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    assert.ok(e instanceof AppError)
    return `${e.code}: ${e.message}`
  }
  return 'ok'
}

test('geometry: spacing (col, row, slice), origin = first slice, direction columns = row, col, normal', () => {
  const st = checkStack(series(Array.from({ length: 12 }, (_, k) => slice(k))))
  assert.deepEqual(st.geometry.sizeIJK, [240, 256, 12])
  assert.deepEqual(
    st.geometry.spacingMm.map((x) => +x.toFixed(9)),
    [0.8, 0.9, 2.5],
  )
  assert.deepEqual(st.geometry.originLPS, slice(0).imagePositionPatient)
  const d = st.geometry.directionLPS
  assert.deepEqual([d[0], d[3], d[6]], [1, 0, 0])
  assert.ok(Math.abs(d[4]! - Math.cos(0.2)) < 1e-12)
  assert.ok(Math.abs(d[5]! + Math.sin(0.2)) < 1e-12)
  assert.deepEqual(st.warnings, [])
})

test('property: slice order is independent of file order', () => {
  const base = Array.from({ length: 15 }, (_, k) => slice(k))
  const want = checkStack(series(base)).slices.map((s) => s.file)
  fc.assert(
    fc.property(fc.shuffledSubarray(base, { minLength: 15, maxLength: 15 }), (shuffled) => {
      assert.deepEqual(
        checkStack(series(shuffled)).slices.map((s) => s.file),
        want,
      )
    }),
    { seed: 42, numRuns: 100 },
  )
})

test('gaps, duplicates, row-direction drift and missing geometry are refused; rounding jitter is accepted', () => {
  const all = Array.from({ length: 10 }, (_, k) => slice(k))
  assert.match(
    code(() => checkStack(series(all.filter((_, k) => k !== 4)))),
    /E_SERIES_GEOMETRY: non-uniform slice spacing: 5 mm/,
  )
  assert.match(
    code(() => checkStack(series([...all, slice(3, { file: '/data/dup.dcm' })]))),
    /E_SERIES_GEOMETRY: two slices at the same position/,
  )
  const drift = (dx: number, dy: number): DicomSliceHeader[] =>
    all.map((s, k) => ({
      ...s,
      imagePositionPatient: [
        s.imagePositionPatient![0] + dx * k,
        s.imagePositionPatient![1] + dy * k,
        s.imagePositionPatient![2],
      ] as Vec3,
    }))
  // Sideways along the row direction (x here) is no gantry tilt.
  assert.match(
    code(() => checkStack(series(drift(0.4, 0)))),
    /E_SERIES_GEOMETRY: slice positions drift 3\.6 mm along the row direction .*gantry tilt/,
  )
  // LPS y has a column (cos 0.2) and a normal (−sin 0.2) part: gantry tilt, planned and warned.
  const st = checkStack(series(drift(0, 0.4)))
  const along = 2.5 - 0.4 * Math.sin(0.2)
  const deg = (Math.atan2(0.4 * Math.cos(0.2), along) * 180) / Math.PI
  assert.ok(st.tilt && Math.abs(st.tilt.tilt.angleDeg - deg) < 1e-9)
  assert.ok(Math.abs(st.geometry.spacingMm[2] - along) < 1e-9)
  assert.match(st.warnings.join('\n'), new RegExp(`^gantry tilt ${deg.toFixed(1)}°`))
  const jitter = all.map((s, k) => ({
    ...s,
    imagePositionPatient: s.imagePositionPatient!.map(
      (v) => Math.round(v * 10) / 10 + (k % 3 === 0 ? 0.04 : 0),
    ) as unknown as Vec3,
  }))
  assert.equal(code(() => checkStack(series(jitter))).slice(0, 2), 'ok')
  const noPos = all.map((s, k) => (k === 2 ? { ...s, imagePositionPatient: undefined } : s))
  assert.match(
    code(() => checkStack(series(noPos))),
    /no ImagePositionPatient/,
  )
  assert.ok(spacingTolerance(0.5) < 0.5 / 2)
})

test('pixel formats: unknown transfer syntax, colour, multi-frame, truncated pixel data', () => {
  const one = (over: Partial<DicomSliceHeader>): string =>
    code(() => checkStack(series([slice(0, over)])))
  assert.match(
    one({ transferSyntaxUID: '1.2.840.10008.1.2.4.100' }),
    /E_UNSUPPORTED: transfer syntax 1\.2\.840\.10008\.1\.2\.4\.100 is not supported/,
  )
  assert.match(one({ samplesPerPixel: 3 }), /E_UNSUPPORTED: 3 samples per pixel/)
  assert.match(one({ numberOfFrames: 20 }), /E_UNSUPPORTED: a multi-frame object/)
  assert.match(one({ pixelDataLength: 1000 }), /E_TRUNCATED: Pixel Data is 1000 bytes/)
  assert.match(
    one({ fileSize: 3000 }),
    /E_TRUNCATED: Pixel Data declares 122880 bytes but the file ends/,
  )
  assert.match(
    one({ bitsAllocated: 32, transferSyntaxUID: '1.2.840.10008.1.2.2' }),
    /E_UNSUPPORTED: 32-bit/,
  )
})

test('per-slice rescale is detected; lossy syntaxes warn', () => {
  const st = checkStack(series([slice(0), slice(1, { rescaleSlope: 2 }), slice(2)]))
  assert.equal(st.perSliceRescale, true)
  const lossy = checkStack(series([slice(0, { transferSyntaxUID: '1.2.840.10008.1.2.4.50' })]))
  assert.match(lossy.warnings.join(), /lossy/)
})

test('grouping: by series UID, orientation, size and echo; non-images skipped with a reason', () => {
  const a = Array.from({ length: 4 }, (_, k) => slice(k))
  const echo2 = a.map((s) => ({ ...s, echoNumber: 2, file: s.file + '.e2' }))
  const other = a.map((s) => ({
    ...s,
    seriesInstanceUID: '9.9',
    seriesNumber: 1,
    file: s.file + '.b',
  }))
  const scout = {
    ...slice(0),
    file: '/data/scout.dcm',
    imageOrientationPatient: [0, 1, 0, 0, 0, -1],
    rows: 512,
  }
  const sr = { ...slice(0), file: '/data/sr.dcm', hasPixelData: false, modality: 'SR' }
  const g = groupSeries([...a, ...echo2, ...other, scout, sr])
  assert.equal(g.series.length, 4)
  assert.deepEqual(g.series.map((s) => s.slices.length).sort(), [1, 4, 4, 4])
  assert.equal(new Set(g.series.map((s) => s.key)).size, 4)
  assert.ok(
    g.series.filter((s) => s.seriesInstanceUID === '1.2.3').every((s) => /#\d$/.test(s.key)),
  )
  assert.deepEqual(
    g.skipped.map((s) => s.file),
    ['/data/sr.dcm'],
  )
  assert.match(g.skipped[0]!.reason, /no pixel data \(a SR object/)
})

test('a Pixel Data length beyond the end of the file is refused (mutation finding)', () => {
  assert.match(
    code(() => checkStack(series([slice(0, { pixelDataLength: 0x7ffffff0 })]))),
    /E_TRUNCATED: Pixel Data declares 2147483632 bytes/,
  )
})

test('a single image without IPP/IOP opens with warnings naming the assumed placement', () => {
  const placed = checkStack(series([slice(0)]))
  assert.ok(!placed.warnings.some((w) => /ImagePosition|ImageOrientation/.test(w)))
  const bare = checkStack(
    series([slice(0, { imagePositionPatient: undefined, imageOrientationPatient: undefined })]),
  )
  assert.deepEqual(bare.geometry.originLPS, [0, 0, 0])
  assert.match(bare.warnings.join('\n'), /no ImageOrientationPatient: axes assumed/)
  assert.match(bare.warnings.join('\n'), /no ImagePositionPatient: the first voxel is placed at/)
})

// seriesWarnings: what a series list can say about each series before one is picked.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { DicomSliceHeader } from '../../src/core/dicom/dicom-slice.js'
import { groupSeries } from '../../src/core/dicom/group-series.js'
import { seriesWarnings } from '../../src/core/dicom/series-warnings.js'

/** Tags of slice `k` of an axial series, 2 mm apart. */
function slice(k: number, over: Partial<DicomSliceHeader> = {}): DicomSliceHeader {
  return {
    file: `/data/f${String(k).padStart(3, '0')}.dcm`,
    fileSize: 200_000,
    transferSyntaxUID: '1.2.840.10008.1.2.1',
    sopClassUID: '1.2.840.10008.5.1.4.1.1.4',
    sopInstanceUID: `1.2.3.${k}`,
    seriesInstanceUID: '1.2.3',
    seriesDescription: 'T1',
    seriesNumber: 3,
    modality: 'MR',
    rows: 128,
    columns: 128,
    bitsAllocated: 16,
    bitsStored: 12,
    pixelRepresentation: 0,
    samplesPerPixel: 1,
    numberOfFrames: 1,
    imagePositionPatient: [0, 0, 2 * k],
    imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    pixelSpacing: [1, 1],
    sliceThickness: 2,
    rescaleSlope: 1,
    rescaleIntercept: 0,
    echoNumber: 1,
    temporalPosition: undefined,
    hasPixelData: true,
    pixelDataOffset: 2000,
    pixelDataLength: 128 * 128 * 2,
    trailingZeroBytes: 0,
    ...over,
  }
}

const ks = (n: number): number[] => Array.from({ length: n }, (_, k) => k)

test('a regular series has no warning; a gap, varying rescale and lossy data are named', () => {
  const all = (slices: DicomSliceHeader[]): string[][] => {
    const g = groupSeries(slices).series
    return g.map((s) => seriesWarnings(s, g))
  }
  assert.deepEqual(all(ks(10).map((k) => slice(k))), [[]])
  const gap = all(
    ks(10)
      .filter((k) => k !== 4)
      .map((k) => slice(k)),
  )
  assert.equal(gap[0]!.length, 1)
  assert.match(
    gap[0]![0]!,
    /^cannot be opened: non-uniform slice spacing: 4 mm between slices 4 and 5 \(median 2 mm\); a slice may be missing$/,
  )
  const rescale = all(ks(5).map((k) => slice(k, { rescaleIntercept: k === 2 ? -10 : 0 })))
  assert.match(rescale[0]!.join(), /RescaleSlope\/Intercept differ between slices/)
  const lossy = all(ks(5).map((k) => slice(k, { transferSyntaxUID: '1.2.840.10008.1.2.4.50' })))
  assert.match(lossy[0]!.join(), /lossy/)
})

test('one SeriesInstanceUID with two image sizes: both stacks say they are one of two', () => {
  const slices = [
    ...ks(6).map((k) => slice(k)),
    ...ks(4).map((k) =>
      slice(100 + k, { rows: 64, columns: 64, imagePositionPatient: [0, 0, 2 * k] }),
    ),
  ]
  const g = groupSeries(slices).series
  assert.equal(g.length, 2)
  for (const s of g) {
    const w = seriesWarnings(s, g)
    assert.equal(w.length, 1, JSON.stringify(w))
    assert.match(
      w[0]!,
      /^its SeriesInstanceUID holds 2 stacks \(files differ in size, orientation, echo or time position\); this is one of them$/,
    )
  }
})

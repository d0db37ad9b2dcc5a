// The SEG writer's lean path (src/io/export/seg-encode.ts) and its re-read check, on the
// plastimatch series of the ch2 crop: the bytes equal those dcmjs' own writer makes of the same
// dataset; dcmjs reads the written file back and its frames, placed by plane position, are the
// labels exactly; and the check before publishing refuses a file with one pixel bit flipped or
// labels that differ by one voxel.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import dcmjs from 'dcmjs'
import { openVolume, type OpenedVolume } from '../../src/io/open-volume.js'
import {
  buildSegDataset,
  checkSegAgainst,
  readDicomSeries,
  reassembleSeg,
  writeSeg,
  EXPLICIT_VR_LITTLE_ENDIAN,
  type DicomSourceSeries,
  type SegSegment,
} from '../../src/io/export/export-seg.js'
import { segFileBytes } from '../../src/io/export/seg-encode.js'
import { derived } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-seg-encode-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
let src: OpenedVolume
let series: DicomSourceSeries
let labels: Uint8Array

const SEGMENTS: SegSegment[] = [1, 2, 3].map((value) => ({
  value,
  label: `label ${value}`,
  description: `value ${value}, review edited`,
  colourRGB: [200, 40 * value, 10],
  algorithmType: 'SEMIAUTOMATIC',
  algorithmName: 'brain-extract',
  algorithmVersion: '1.0.0',
}))

before(async () => {
  src = await openVolume(derived('dicom', 'ch2-crop'))
  series = await readDicomSeries(src.files)
  const [ni, nj, nk] = src.volume.sizeIJK
  labels = new Uint8Array(ni * nj * nk)
  // Three labels: a box on the first slices, a block in the middle, single voxels on the last.
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++) {
        const q = i + ni * (j + nj * k)
        if (k < 5 && i > 20 && i < 70 && j > 30 && j < 90) labels[q] = 1
        else if (k >= 12 && k < 30 && i > 60 && j > 50 && j < 120) labels[q] = 2
        else if (k === nk - 1 && (i * 7 + j * 3) % 41 === 0) labels[q] = 3
      }
    }
  }
})

const options = () => ({
  source: series,
  geometry: src.volume,
  labels,
  segments: SEGMENTS,
  seriesDescription: 'VolSeg SEG test',
  softwareVersion: 'VolSeg test',
  comments: 'model brain-extract; human edited: true',
})

test("the lean writer's bytes are the bytes dcmjs' own writer makes of the same dataset", () => {
  const { dataset, frames } = buildSegDataset(options())
  dataset._meta = { TransferSyntaxUID: { Value: [EXPLICIT_VR_LITTLE_ENDIAN] } }
  const lean = segFileBytes(dataset)
  const dcmjsBytes = new Uint8Array(dcmjs.data.datasetToBuffer(dataset))
  assert.ok(frames > 20, `${frames} frames`)
  assert.equal(lean.length, dcmjsBytes.length)
  assert.ok(Buffer.from(lean).equals(Buffer.from(dcmjsBytes)), 'same bytes')
})

test('a written SEG read back by dcmjs reassembles to the labels; the check refuses a flipped bit or other labels', async () => {
  const r = await writeSeg({
    ...options(),
    sink: { dir: tmp, protect: src.files, overwrite: false },
    name: 'crop.seg.dcm',
  })
  assert.match(r.check, /none missing$/)
  const bytes = new Uint8Array(readFileSync(r.path))
  const numbers = [1, 2, 3]
  const back = reassembleSeg(bytes, src.volume, (s) => numbers[s - 1] ?? 0)
  assert.equal(back.frames, r.frames)
  assert.ok(Buffer.from(Uint8Array.from(back.labels)).equals(Buffer.from(labels)), 'voxel-exact')
  assert.deepEqual(checkSegAgainst(bytes, src.volume, labels, numbers), {
    frames: r.frames,
    voxels: labels.reduce((n, v) => n + (v ? 1 : 0), 0),
  })
  // One pixel bit flipped in the middle of the pixel data (the last element of the file).
  const flipped = bytes.slice()
  flipped[flipped.length - 5000]! ^= 0x10
  assert.throws(
    () => checkSegAgainst(flipped, src.volume, labels, numbers),
    (e: Error & { code?: string }) =>
      e.code === 'E_VERIFY' && /lie on other labels|voxels, \d+ in the SEG/.test(e.message),
  )
  // Labels one voxel off the ones written: one more voxel of label 2.
  const other = labels.slice()
  other[other.indexOf(0)] = 2
  assert.throws(
    () => checkSegAgainst(bytes, src.volume, other, numbers),
    (e: Error & { code?: string }) =>
      e.code === 'E_VERIFY' && /label 2: \d+ voxels, \d+ in the SEG/.test(e.message),
  )
})

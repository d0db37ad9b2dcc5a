import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { AppError } from '../../src/shared/errors.js'
import { parseCsaHeader, siemensMosaicFields } from '../../src/core/dicom/siemens-csa.js'
import {
  detileMosaic,
  mosaicLayout,
  siemensDefaultNumbering,
  tilesArePixelAligned,
} from '../../src/core/dicom/mosaic.js'
import {
  EXPLICIT_BE,
  EXPLICIT_LE,
  IMPLICIT_LE,
  hasPart10Preamble,
  part10Prefix,
  sniffDataSet,
} from '../../src/core/dicom/part10-header.js'
import type { Vec3 } from '../../src/shared/geometry.js'
import { fixture, PYDICOM_DATA, python } from '../helpers.js'

const NIBABEL_DATA = '/usr/lib/python3/dist-packages/nibabel/nicom/tests/data'

type NibabelTags = Record<string, { vm: number; vr: string; items: (string | number)[] }>

test('CSA Image Headers of real Siemens files parse as nibabel csareader reads them', () => {
  for (const name of ['0.dcm', 'siemens_dwi_1000.dcm', 'csa_slice_norm.dcm']) {
    const ref = python<{ hex: string; tags: NibabelTags }>(
      `
import sys, json, pydicom
from nibabel.nicom import csareader as c
d = pydicom.dcmread(sys.argv[1])
raw = d[(0x29, 0x1010)].value
print(json.dumps({'hex': raw.hex(), 'tags': {k: {'vm': t['vm'], 'vr': t['vr'], 'items': t['items']} for k, t in c.read(raw)['tags'].items()}}))
`,
      [fixture('nibabel', name)],
    )
    const tags = parseCsaHeader(Uint8Array.from(Buffer.from(ref.hex, 'hex')))
    assert.deepEqual([...tags.keys()].sort(), Object.keys(ref.tags).sort(), name)
    for (const [k, t] of Object.entries(ref.tags)) {
      const ours = tags.get(k)!
      assert.equal(ours.vm, t.vm, `${name} ${k}`)
      assert.equal(ours.vr, t.vr, `${name} ${k}`)
      const want = t.items.filter((x) => x !== '')
      assert.deepEqual(
        ours.items.map((x) => (typeof want[0] === 'number' ? Number(x) : x)),
        want,
        `${name} ${k}`,
      )
    }
    const f = siemensMosaicFields(tags)
    const n = ref.tags.NumberOfImagesInMosaic!.items[0]
    assert.equal(f.numberOfImagesInMosaic, n, name)
    const normal = ref.tags.SliceNormalVector!.items as number[]
    f.sliceNormalVector!.forEach((x, c) => assert.ok(Math.abs(x - normal[c]!) < 1e-6, name))
  }
})

test('CSA: nibabel sample headers, and malformed or CSA1 headers refused with a reason', () => {
  const b0 = parseCsaHeader(readFileSync(`${NIBABEL_DATA}/csa2_b0.bin`))
  assert.equal(b0.size, 83)
  assert.deepEqual(b0.get('NumberOfImagesInMosaic')?.items, ['48'])
  // An item of length 0 (nibabel gh-92) parses.
  assert.equal(
    parseCsaHeader(gunzipSync(readFileSync(`${NIBABEL_DATA}/csa2_zero_len.bin.gz`))).size,
    44,
  )
  assert.equal(parseCsaHeader(readFileSync(`${NIBABEL_DATA}/csa_str_valid.bin`)).size, 1)
  // 1001 items in one tag: nibabel raises CSAReadError, so do we.
  assert.throws(
    () => parseCsaHeader(readFileSync(`${NIBABEL_DATA}/csa_str_1001n_items.bin`)),
    (e: unknown) =>
      e instanceof AppError && e.code === 'E_BAD_HEADER' && /1001 items/.test(e.message),
  )
  const cut = readFileSync(`${NIBABEL_DATA}/csa2_b0.bin`).subarray(0, 5000)
  assert.throws(() => parseCsaHeader(cut), /Siemens CSA header: .*past the end/)
  const csa1 = new Uint8Array(64)
  new DataView(csa1.buffer).setUint32(0, 3, true)
  assert.throws(
    () => parseCsaHeader(csa1),
    (e: unknown) => e instanceof AppError && e.code === 'E_UNSUPPORTED',
  )
  // Fields absent or empty: undefined, never 0.
  assert.deepEqual(siemensMosaicFields(new Map()), {
    numberOfImagesInMosaic: undefined,
    sliceNormalVector: undefined,
  })
})

test('mosaic layout: m = ceil(sqrt(N)) tiles per side, tiles of floor(R/m)', () => {
  assert.deepEqual(mosaicLayout(896, 896, 48), {
    mosaicRows: 896,
    mosaicColumns: 896,
    tileRows: 128,
    tileColumns: 128,
    tilesPerSide: 7,
    slices: 48,
  })
  assert.equal(mosaicLayout(384, 384, 32).tileRows, 64) // csa_slice_norm.dcm: 6×6 tiles
  assert.equal(mosaicLayout(256, 256, 49).tilesPerSide, 7)
  assert.equal(mosaicLayout(256, 256, 50).tilesPerSide, 8)
  assert.equal(mosaicLayout(256, 256, 48).tileRows, 36)
  assert.equal(tilesArePixelAligned(mosaicLayout(256, 256, 48)), false)
  assert.equal(tilesArePixelAligned(mosaicLayout(896, 896, 48)), true)
  assert.throws(() => mosaicLayout(256, 256, 0), /not a positive integer/)
  assert.throws(() => mosaicLayout(4, 4, 36), /cannot hold 36 slices/)
})

test('no CSA normal: tiles in Siemens default numbering, along the positive LPS main axis', () => {
  const dir = (v: Vec3): number[] => siemensDefaultNumbering(v).map((x) => x + 0) // no −0
  // Standard sagittal IOP 0\1\0\0\0\-1: row × column points R (−x); Siemens numbers R→L (+x),
  // where dcm2niix's det[row, column, (0,0,1)] is 0 and keeps row × column.
  assert.deepEqual(dir([-1, 0, 0]), [1, 0, 0])
  // Coronal 1\0\0\0\0\-1 tilted −0.3°: row × column (0, 0.99999, −0.0052) stays A→P.
  assert.deepEqual(dir([0, 0.999986, -0.005236]), [0, 0.999986, -0.005236])
  // Transverse numbered F→H; an oblique normal goes by its largest component ("Cor>Tra").
  assert.deepEqual(dir([0, 0.1, -0.995]), [0, -0.1, 0.995])
  assert.deepEqual(dir([0.3, -0.8, 0.52]), [-0.3, 0.8, -0.52])
})

test('de-tile: tile t from mosaic tile row t div m, column t mod m; blank tiles dropped', () => {
  // 3 slices of 2 rows × 3 columns in a 2×2 tiling (4 rows × 6 columns); value = 100·t + 10·y + x.
  const R = 4
  const C = 6
  const mosaic = new Int16Array(R * C).fill(-1)
  const place = (t: number, ty: number, tx: number): void => {
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) mosaic[(ty * 2 + y) * C + tx * 3 + x] = 100 * t + 10 * y + x
    }
  }
  place(0, 0, 0)
  place(1, 0, 1)
  place(2, 1, 0)
  const out = detileMosaic(mosaic, mosaicLayout(R, C, 3))
  assert.ok(out instanceof Int16Array)
  assert.deepEqual(
    Array.from(out),
    [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112, 200, 201, 202, 210, 211, 212],
  )
  assert.throws(() => detileMosaic(new Int16Array(5), mosaicLayout(R, C, 3)), /expected 4×6/)
})

test('DICOM data set sniffing: real files with and without the preamble', () => {
  const head = (p: string): Uint8Array => readFileSync(p).subarray(0, 65536)
  assert.deepEqual(sniffDataSet(head(`${PYDICOM_DATA}/ExplVR_BigEndNoMeta.dcm`)), {
    hasFileMeta: false,
    transferSyntaxUID: EXPLICIT_BE,
  })
  assert.deepEqual(sniffDataSet(head(`${PYDICOM_DATA}/ExplVR_LitEndNoMeta.dcm`)), {
    hasFileMeta: false,
    transferSyntaxUID: EXPLICIT_LE,
  })
  assert.deepEqual(sniffDataSet(head(`${PYDICOM_DATA}/rtstruct.dcm`)), {
    hasFileMeta: false,
    transferSyntaxUID: IMPLICIT_LE,
  })
  // A Part 10 file's meta group, with the preamble cut off.
  assert.deepEqual(sniffDataSet(head(`${PYDICOM_DATA}/CT_small.dcm`).subarray(132)), {
    hasFileMeta: true,
    transferSyntaxUID: undefined,
  })
  // pydicom's no_meta.dcm has a stray leading byte; text and NIfTI are not DICOM.
  assert.equal(sniffDataSet(head(`${PYDICOM_DATA}/no_meta.dcm`)), undefined)
  assert.equal(sniffDataSet(new TextEncoder().encode('\b\0 this is text, not DICOM\n')), undefined)
  assert.equal(sniffDataSet(head(fixture('ch2.nii.gz'))), undefined)
  assert.equal(hasPart10Preamble(head(fixture('nibabel', '0.dcm'))), true)
  assert.equal(hasPart10Preamble(head(`${PYDICOM_DATA}/rtstruct.dcm`)), false)
})

test('Part 10 prefix: preamble + DICM, with a File Meta group naming the syntax', () => {
  const bare = part10Prefix(undefined)
  assert.equal(bare.length, 132)
  assert.ok(hasPart10Preamble(bare))
  const p = part10Prefix(IMPLICIT_LE)
  assert.ok(hasPart10Preamble(p))
  const meta = p.subarray(132)
  assert.deepEqual(sniffDataSet(meta), { hasFileMeta: true, transferSyntaxUID: undefined })
  const view = new DataView(meta.buffer, meta.byteOffset)
  // (0002,0000) UL group length = bytes after it; the UID is padded to even length.
  assert.equal(view.getUint32(8, true), meta.length - 12)
  const text = String.fromCharCode(...meta)
  assert.ok(text.includes(`UI\u0012\u0000${IMPLICIT_LE}\u0000`), JSON.stringify(text))
})

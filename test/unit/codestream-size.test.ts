import { test } from 'node:test'
import assert from 'node:assert/strict'
import { codestreamSize } from '../../src/core/dicom/codestream-size.js'

test('JPEG: size from the first SOF after other segments; JPEG-LS SOF55 too', () => {
  // SOI, DQT (length 5), SOF3 lossless: P=16, Y=300, X=200.
  const jpeg = Uint8Array.from([
    0xff, 0xd8, 0xff, 0xdb, 0, 5, 1, 2, 3, 0xff, 0xc3, 0, 11, 16, 0x01, 0x2c, 0x00, 0xc8, 1,
  ])
  assert.deepEqual(codestreamSize(jpeg), { rows: 300, columns: 200, codec: 'jpeg' })
  const ls = Uint8Array.from([0xff, 0xd8, 0xff, 0xf7, 0, 11, 16, 0x00, 0xa0, 0x00, 0x8c, 1])
  assert.deepEqual(codestreamSize(ls), { rows: 160, columns: 140, codec: 'jpeg' })
})

test('JPEG 2000: size from SIZ minus the image offset', () => {
  const siz = new Uint8Array(40)
  siz.set([0xff, 0x4f, 0xff, 0x51, 0, 41, 0, 0])
  const v = new DataView(siz.buffer)
  v.setUint32(8, 512 + 3) // Xsiz
  v.setUint32(12, 256 + 5) // Ysiz
  v.setUint32(16, 3) // XOsiz
  v.setUint32(20, 5) // YOsiz
  assert.deepEqual(codestreamSize(siz), { rows: 256, columns: 512, codec: 'jpeg2000' })
})

test('unknown or cut frames give no size (RLE carries none)', () => {
  assert.equal(codestreamSize(Uint8Array.from([2, 0, 0, 0, 64, 0, 0, 0])), undefined)
  assert.equal(codestreamSize(Uint8Array.from([0xff, 0xd8, 0xff, 0xdb, 0, 40])), undefined)
  assert.equal(codestreamSize(new Uint8Array(0)), undefined)
})

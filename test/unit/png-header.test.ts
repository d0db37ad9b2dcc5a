// The PNG header reader (src/core/png/png-header.ts) on crafted headers: the one Chromium writes
// for a snapshot, and each way a payload can fail to be one (signature, IHDR, sizes, depths).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PNG_HEADER_BYTES, readPngHeader } from '../../src/core/png/png-header.js'

/** Signature + IHDR of a `w`×`h` image (CRC left zero: the header reader does not check it). */
function header(w: number, h: number, depth = 8, colour = 6, interlace = 0): Uint8Array {
  const b = Buffer.alloc(PNG_HEADER_BYTES)
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b)
  b.writeUInt32BE(13, 8)
  b.write('IHDR', 12, 'latin1')
  b.writeUInt32BE(w, 16)
  b.writeUInt32BE(h, 20)
  b.set([depth, colour, 0, 0, interlace], 24)
  return b
}

test('reads width, height, depth and channels of an RGBA header', () => {
  const r = readPngHeader(header(1800, 1730), 16384)
  assert.deepEqual(r, {
    ok: true,
    header: { width: 1800, height: 1730, bitDepth: 8, colourType: 6, interlace: 0, channels: 4 },
  })
})

test('refuses what is not a PNG header, saying why', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /no PNG signature/],
    ['signature only', header(4, 4).subarray(0, 8), /no PNG signature/],
    ['JPEG', Uint8Array.from([0xff, 0xd8, ...header(4, 4).subarray(2)]), /no PNG signature/],
    [
      'IHDR renamed',
      (() => {
        const b = header(4, 4)
        b[12] = 0x49 + 1
        return b
      })(),
      /first chunk is not IHDR/,
    ],
    [
      'IHDR length 12',
      (() => {
        const b = Buffer.from(header(4, 4))
        b.writeUInt32BE(12, 8)
        return b
      })(),
      /not IHDR/,
    ],
    ['zero width', header(0, 4), /0×4 pixels holds no image/],
    ['huge claim', header(0xffffffff, 0xffffffff), /larger than 16384 pixels a side/],
    ['16385 high', header(10, 16385), /larger than 16384/],
    ['RGB at 4 bits', header(4, 4, 4, 2), /colour type 2 and bit depth 4 is not valid/],
    ['colour type 5', header(4, 4, 8, 5), /colour type 5/],
    ['interlace 2', header(4, 4, 8, 6, 2), /unknown compression, filter or interlace/],
  ]
  for (const [why, bytes, re] of cases) {
    const r = readPngHeader(bytes, 16384)
    assert.equal(r.ok, false, why)
    assert.match(r.ok ? '' : r.problem, re, why)
    assert.equal(!r.ok && r.tooLarge, /larger than/.test(re.source), `${why}: tooLarge`)
  }
})

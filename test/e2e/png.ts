/**
 * A minimal PNG decoder for the screenshots Chromium writes (8-bit RGB or RGBA, not interlaced):
 * chunks, zlib inflate (node:zlib), the five row filters. Anything else is refused, not guessed.
 */
import { inflateSync } from 'node:zlib'

export interface Rgba {
  readonly width: number
  readonly height: number
  /** RGBA, 4 bytes a pixel, rows top to bottom. */
  readonly data: Uint8Array
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

export function decodePng(png: Uint8Array): Rgba {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength)
  if (!SIGNATURE.every((b, n) => buf[n] === b)) throw new Error('not a PNG (bad signature)')
  let width = 0
  let height = 0
  let channels = 0
  const idat: Buffer[] = []
  for (let at = 8; at + 8 <= buf.length;) {
    const len = buf.readUInt32BE(at)
    const type = buf.toString('latin1', at + 4, at + 8)
    const body = buf.subarray(at + 8, at + 8 + len)
    at += 12 + len
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]]
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) {
        throw new Error(
          `unsupported PNG: bit depth ${depth}, colour type ${colour}, interlace ${interlace}`,
        )
      }
      channels = colour === 6 ? 4 : 3
    } else if (type === 'IDAT') idat.push(body)
    else if (type === 'IEND') break
  }
  if (!channels) throw new Error('PNG without IHDR')
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  if (raw.length !== height * (stride + 1)) throw new Error('PNG data has the wrong length')
  const px = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    const src = y * (stride + 1) + 1
    const row = y * stride
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[row + x - channels]! : 0
      const b = y > 0 ? px[row - stride + x]! : 0
      const c = x >= channels && y > 0 ? px[row - stride + x - channels]! : 0
      const v = raw[src + x]!
      const pred =
        filter === 0
          ? 0
          : filter === 1
            ? a
            : filter === 2
              ? b
              : filter === 3
                ? (a + b) >> 1
                : filter === 4
                  ? paeth(a, b, c)
                  : NaN
      if (Number.isNaN(pred)) throw new Error(`bad PNG row filter ${filter}`)
      px[row + x] = (v + pred) & 0xff
    }
  }
  const data = new Uint8Array(width * height * 4)
  for (let n = 0; n < width * height; n++) {
    for (let ch = 0; ch < 3; ch++) data[4 * n + ch] = px[n * channels + ch]!
    data[4 * n + 3] = channels === 4 ? px[n * channels + 3]! : 255
  }
  return { width, height, data }
}

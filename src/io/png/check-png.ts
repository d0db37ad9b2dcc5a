/**
 * Checks that bytes are one whole, readable PNG image: the header (src/core/png/png-header.ts),
 * every chunk inside the bytes with its CRC (PNG Third Edition, section 5.3), IHDR first, IDAT
 * data that inflates (zlib, node:zlib) to exactly the bytes its size calls for, IEND last. Used on
 * a snapshot the viewer sends and on the written file before it is published.
 */
import { inflateSync } from 'node:zlib'
import { AppError } from '../../shared/errors.js'
import { readPngHeader, type PngHeader } from '../../core/png/png-header.js'
import { crc32 } from './encode-png.js'

/** Bytes of the filtered scanlines of a non-interlaced image (section 7.2: a filter byte a row). */
function rawBytes(h: PngHeader): number {
  return h.height * (1 + Math.ceil((h.width * h.channels * h.bitDepth) / 8))
}

/**
 * The header of the PNG `bytes`, after checking it is whole (see the module comment); throws
 * `E_BAD_HEADER` (not a PNG, a bad chunk or CRC), `E_TRUNCATED` (chunks or image data cut short),
 * `E_TOO_LARGE` (over `maxSide` pixels a side) or `E_UNSUPPORTED` (interlaced). `what` names the
 * bytes in the message ("the snapshot").
 */
export function checkPng(bytes: Uint8Array, maxSide: number, what: string): PngHeader {
  const head = readPngHeader(bytes, maxSide)
  if (!head.ok) {
    throw new AppError(head.tooLarge ? 'E_TOO_LARGE' : 'E_BAD_HEADER', `${what} is ${head.problem}`)
  }
  const h = head.header
  // Chromium writes snapshots non-interlaced; Adam7 passes are not decoded here.
  if (h.interlace !== 0) throw new AppError('E_UNSUPPORTED', `${what} is an interlaced PNG`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const idat: Uint8Array[] = []
  let ended = false
  for (let at = 8; at < bytes.length;) {
    if (ended) throw new AppError('E_BAD_HEADER', `${what} has bytes after its IEND chunk`)
    if (at + 12 > bytes.length) throw new AppError('E_TRUNCATED', `${what} ends inside a chunk`)
    const len = view.getUint32(at)
    if (len > bytes.length - at - 12) {
      throw new AppError('E_TRUNCATED', `${what} ends inside a chunk of ${len} bytes`)
    }
    const typeAndData = bytes.subarray(at + 4, at + 8 + len)
    if (crc32(typeAndData) !== view.getUint32(at + 8 + len)) {
      throw new AppError('E_BAD_HEADER', `${what} has a chunk whose CRC does not match`)
    }
    const type = String.fromCharCode(...typeAndData.subarray(0, 4))
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + len))
    else if (type === 'IEND') ended = true
    at += 12 + len
  }
  if (!ended) throw new AppError('E_TRUNCATED', `${what} has no IEND chunk (cut short)`)
  if (idat.length === 0) throw new AppError('E_BAD_HEADER', `${what} has no image data`)
  const expected = rawBytes(h)
  let raw: Buffer
  try {
    // One byte more than the image needs: a stream longer than its size says is caught, and a
    // deflate bomb stops there instead of filling memory.
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 })
  } catch (e) {
    const cut = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
    throw new AppError(
      cut ? 'E_BAD_HEADER' : 'E_TRUNCATED',
      cut
        ? `${what} holds more image data than its ${h.width}×${h.height} pixels`
        : `${what}'s image data does not inflate: ${(e as Error).message}`,
    )
  }
  if (raw.length !== expected) {
    throw new AppError(
      'E_TRUNCATED',
      `${what}'s image data has ${raw.length} bytes, its ${h.width}×${h.height} pixels need ${expected}`,
    )
  }
  for (let y = 0, row = expected / h.height; y < h.height; y++) {
    if (raw[y * row]! > 4) throw new AppError('E_BAD_HEADER', `${what} has a bad row filter`)
  }
  return h
}

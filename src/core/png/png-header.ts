/**
 * The header of a PNG file, read from its first 33 bytes: the signature and the IHDR chunk
 * (PNG Third Edition, sections 5.2 and 11.2.1). Pure: bytes in, a header or the reason it is not
 * one out; the chunk CRCs and the image data are the reader's check (src/io/png/check-png.ts).
 */

/** The eight bytes every PNG starts with (section 5.2). */
export const PNG_SIGNATURE: readonly number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** Bytes of the signature plus the IHDR chunk (length, type, 13 data bytes, CRC). */
export const PNG_HEADER_BYTES = 8 + 8 + 13 + 4

/** What IHDR says about the image. */
export interface PngHeader {
  /** Pixels per row and rows. */
  readonly width: number
  readonly height: number
  readonly bitDepth: number
  /** 0 greyscale, 2 truecolour, 3 indexed, 4 greyscale + alpha, 6 truecolour + alpha. */
  readonly colourType: number
  readonly interlace: number
  /** Samples per pixel of the colour type (1–4). */
  readonly channels: number
}

/** Bit depths each colour type allows (section 11.2.1, Table 11.1). */
const DEPTHS: Readonly<
  Record<number, { readonly depths: readonly number[]; readonly channels: number }>
> = {
  0: { depths: [1, 2, 4, 8, 16], channels: 1 },
  2: { depths: [8, 16], channels: 3 },
  3: { depths: [1, 2, 4, 8], channels: 1 },
  4: { depths: [8, 16], channels: 2 },
  6: { depths: [8, 16], channels: 4 },
}

/** Why bytes are not a PNG header: a sentence fragment, and whether the image is only too large. */
export interface PngHeaderProblem {
  readonly ok: false
  /** E.g. "not a PNG (no PNG signature)". */
  readonly problem: string
  /** True when the header is valid but claims more than `maxSide` pixels a side. */
  readonly tooLarge: boolean
}

/**
 * The header of the PNG `bytes` start with, or why they are not a PNG that fits `maxSide` pixels
 * a side. Reads at most {@link PNG_HEADER_BYTES} bytes.
 */
export function readPngHeader(
  bytes: Uint8Array,
  maxSide: number,
): { readonly ok: true; readonly header: PngHeader } | PngHeaderProblem {
  const no = (problem: string, tooLarge = false): PngHeaderProblem => ({
    ok: false,
    problem,
    tooLarge,
  })
  if (bytes.length < PNG_HEADER_BYTES || !PNG_SIGNATURE.every((b, n) => bytes[n] === b)) {
    return no('not a PNG (no PNG signature)')
  }
  const u32 = (at: number): number =>
    ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
  const type = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!)
  // IHDR must come first, with exactly 13 data bytes (section 5.6).
  if (type !== 'IHDR' || u32(8) !== 13) return no('not a PNG (its first chunk is not IHDR)')
  const width = u32(16)
  const height = u32(20)
  const [bitDepth, colourType, compression, filter, interlace] = [
    bytes[24]!,
    bytes[25]!,
    bytes[26]!,
    bytes[27]!,
    bytes[28]!,
  ]
  if (width === 0 || height === 0) return no(`a PNG of ${width}×${height} pixels holds no image`)
  if (width > maxSide || height > maxSide) {
    return no(`a PNG of ${width}×${height} pixels is larger than ${maxSide} pixels a side`, true)
  }
  const kind = DEPTHS[colourType]
  if (!kind || !kind.depths.includes(bitDepth)) {
    return no(`a PNG with colour type ${colourType} and bit depth ${bitDepth} is not valid`)
  }
  if (compression !== 0 || filter !== 0 || interlace > 1) {
    return no('a PNG with an unknown compression, filter or interlace method')
  }
  return {
    ok: true,
    header: { width, height, bitDepth, colourType, interlace, channels: kind.channels },
  }
}

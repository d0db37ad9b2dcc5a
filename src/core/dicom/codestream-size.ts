/**
 * Image size declared inside a compressed frame (JPEG family incl. JPEG-LS, and JPEG 2000), so a
 * header whose Rows/Columns disagree with its pixel data is refused instead of decoded into
 * garbage (found by the mutation tests: Rows 65535 over a 160-row JPEG-LS frame opened "ok").
 * RLE frames carry no size; they return undefined.
 */
export interface CodestreamSize {
  readonly rows: number
  readonly columns: number
  readonly codec: 'jpeg' | 'jpeg2000'
}

/** Reads the size from the first bytes of a frame (a few kB are enough), or undefined. */
export function codestreamSize(b: Uint8Array): CodestreamSize | undefined {
  const u16 = (o: number): number => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0)
  const u32 = (o: number): number => u16(o) * 65536 + u16(o + 2)
  if (b[0] !== 0xff) return undefined
  if (b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51) {
    // JPEG 2000 codestream: SOC, then SIZ with Xsiz, Ysiz, XOsiz, YOsiz (ISO 15444-1 A.5.1).
    if (b.length < 24) return undefined
    return { columns: u32(8) - u32(16), rows: u32(12) - u32(20), codec: 'jpeg2000' }
  }
  if (b[1] !== 0xd8) return undefined
  // JPEG: walk marker segments after SOI to the first SOFn (C0–CF except C4, C8, CC) or JPEG-LS SOF55 (F7).
  let pos = 2
  while (pos + 9 <= b.length) {
    if (b[pos] !== 0xff) return undefined
    const marker = b[pos + 1] as number
    if (marker === 0xff) {
      pos++
      continue
    }
    const isSof =
      (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xf7
    if (isSof) return { rows: u16(pos + 5), columns: u16(pos + 7), codec: 'jpeg' }
    pos += 2 + u16(pos + 2)
  }
  return undefined
}

/**
 * Mutation builders for the fuzz tests: a seeded RNG and, per format, the truncations, bit flips
 * and inflated lengths applied to a seed file. Deterministic for a given seed.
 */
import assert from 'node:assert/strict'
import { gunzipSync, gzipSync } from 'node:zlib'
import { parseNiftiHeader } from '../../src/core/nifti/nifti-header.js'

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Rng {
  private readonly next: () => number
  constructor(seed: number) {
    this.next = mulberry32(seed)
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  /** Integer in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + this.int(Math.max(1, hi - lo))
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }
}

/** FNV-1a, so each seed file gets its own stream whatever the order of the list. */
export function hashString(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}

// ---------------------------------------------------------------------------------------------
// Byte mutations

export interface Mutation {
  readonly desc: string
  readonly bytes: Uint8Array
}

export const hex = (n: number): string => `0x${n.toString(16)}`

/** XORs `count` random bytes in [lo, hi) with non-zero masks; the description lists them. */
export function flipBytes(
  b: Uint8Array,
  rng: Rng,
  count: number,
  lo: number,
  hi: number,
): Mutation {
  const out = new Uint8Array(b)
  const parts: string[] = []
  for (let n = 0; n < count; n++) {
    const at = rng.range(lo, Math.min(hi, b.length))
    const mask = 1 + rng.int(255)
    out[at] = (out[at] as number) ^ mask
    parts.push(`@${at}^${hex(mask)}`)
  }
  return { desc: `flip ${count} byte(s) in [${lo},${hi}): ${parts.join(' ')}`, bytes: out }
}

export const prefixed = (p: string, m: Mutation): Mutation => ({ desc: p + m.desc, bytes: m.bytes })

export function patch(b: Uint8Array, desc: string, edit: (v: DataView) => void): Mutation {
  const out = new Uint8Array(b)
  edit(new DataView(out.buffer, out.byteOffset, out.byteLength))
  return { desc, bytes: out }
}

export const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1')

/** Rewrites the text header in [0, end) with a regex; throws if the seed has no such line. */
export function editHeader(b: Uint8Array, end: number, re: RegExp, to: string): Mutation {
  const head = latin1(b.subarray(0, end))
  if (!re.test(head)) throw new Error(`seed header has no match for ${re}`)
  const edited = Buffer.from(head.replace(re, to), 'latin1')
  return { desc: `header ${re} -> "${to.trim()}"`, bytes: Buffer.concat([edited, b.subarray(end)]) }
}

export function truncations(b: Uint8Array, headerEnd: number): Mutation[] {
  const mid = headerEnd + Math.floor((b.length - headerEnd) / 2)
  return [
    { desc: `truncate to ${Math.floor(headerEnd / 2)} (inside header)`, at: headerEnd >> 1 },
    { desc: `truncate to ${headerEnd} (just after header)`, at: headerEnd },
    { desc: `truncate to ${mid} (mid-payload)`, at: mid },
    { desc: `truncate to ${b.length - 1} (1 byte short)`, at: b.length - 1 },
  ].map(({ desc, at }) => ({ desc, bytes: b.subarray(0, at) }))
}

export function flips(b: Uint8Array, rng: Rng, headerEnd: number): Mutation[] {
  const headerHi = Math.min(512, headerEnd)
  return [
    flipBytes(b, rng, 1, 0, headerHi),
    flipBytes(b, rng, 2 + rng.int(5), 0, headerHi),
    flipBytes(b, rng, 8, 0, b.length),
  ]
}

// ---------------------------------------------------------------------------------------------
// Per-format mutation sets

export function niftiMutations(file: Uint8Array, gz: boolean, rng: Rng): Mutation[] {
  const plain = gz ? new Uint8Array(gunzipSync(file)) : file
  const h = parseNiftiHeader(plain)
  const le = h.littleEndian
  const v2 = h.version === 2
  const headerEnd = Math.max(h.vox_offset, h.sizeofHdr)
  const wrap = (m: Mutation): Mutation =>
    gz ? { desc: `${m.desc} (uncompressed, re-gzipped)`, bytes: gzipSync(m.bytes) } : m
  const setDims = (dims: Record<number, number>): Mutation => {
    const desc = Object.entries(dims).map(([k, n]) => `dim[${k}]=${n}`)
    return patch(plain, `set ${desc.join(', ')}`, (v) => {
      for (const [k, n] of Object.entries(dims)) {
        if (v2) v.setBigInt64(16 + 8 * Number(k), BigInt(n), le)
        else if (n > 32767) v.setUint16(40 + 2 * Number(k), n, le)
        else v.setInt16(40 + 2 * Number(k), n, le)
      }
    })
  }
  const plainMutations: Mutation[] = [
    ...truncations(plain, headerEnd),
    ...flips(plain, rng, headerEnd),
    setDims({ 1: 30000 }),
    setDims({ 2: 65535 }),
    setDims({ 3: -1 }),
    setDims({ 1: 30000, 2: 30000, 3: 30000 }),
    patch(plain, 'set vox_offset huge', (v) => {
      if (v2) v.setBigInt64(168, 1n << 40n, le)
      else v.setFloat32(108, 1e9, le)
    }),
    patch(plain, 'set scl_slope=3e38', (v) => {
      if (v2) v.setFloat64(176, 3e38, le)
      else v.setFloat32(112, 3e38, le)
    }),
  ].map(wrap)
  if (!gz) return plainMutations
  return [
    ...plainMutations,
    { desc: 'compressed: truncate to 10 (inside gzip header)', bytes: file.subarray(0, 10) },
    { desc: 'compressed: truncate mid-stream', bytes: file.subarray(0, file.length >> 1) },
    { desc: 'compressed: truncate 1 byte short', bytes: file.subarray(0, file.length - 1) },
    prefixed('compressed (near start): ', flipBytes(file, rng, 2, 10, 512)),
    prefixed('compressed (anywhere): ', flipBytes(file, rng, 4, 0, file.length)),
  ]
}

export function nrrdMutations(file: Uint8Array, rng: Rng): Mutation[] {
  const headerEnd = latin1(file.subarray(0, 4096)).indexOf('\n\n') + 2
  assert.ok(headerEnd > 2, 'seed NRRD header has no blank line')
  const head = file.subarray(0, headerEnd)
  const payload = gunzipSync(file.subarray(headerEnd))
  return [
    ...truncations(file, headerEnd),
    ...flips(file, rng, headerEnd),
    editHeader(file, headerEnd, /^sizes:.*$/m, 'sizes: 30000 160 40'),
    editHeader(file, headerEnd, /^sizes:.*$/m, 'sizes: 65535 65535 65535'),
    editHeader(file, headerEnd, /^sizes:.*$/m, 'sizes: 140 160 -1'),
    editHeader(file, headerEnd, /^sizes:.*$/m, 'sizes: 140 160 4000'),
    editHeader(file, headerEnd, /^type:.*$/m, 'type: double'),
    editHeader(file, headerEnd, /^encoding:.*$/m, 'encoding: raw'),
    editHeader(file, headerEnd, /^dimension:.*$/m, 'dimension: 2'),
    {
      desc: 'gzip payload: inflate, keep the first half, re-gzip',
      bytes: Buffer.concat([head, gzipSync(payload.subarray(0, payload.length >> 1))]),
    },
    {
      desc: 'gzip payload: inflate, flip 16 bytes, re-gzip',
      bytes: Buffer.concat([
        head,
        gzipSync(flipBytes(new Uint8Array(payload), rng, 16, 0, payload.length).bytes),
      ]),
    },
  ]
}

export function metaMutations(file: Uint8Array, rng: Rng): Mutation[] {
  const text = latin1(file.subarray(0, 4096))
  const m = /^ElementDataFile\s*=.*\n/m.exec(text)
  assert.ok(m, 'seed MetaImage header has no ElementDataFile line')
  const headerEnd = m.index + m[0].length
  return [
    ...truncations(file, headerEnd),
    ...flips(file, rng, headerEnd),
    editHeader(file, headerEnd, /^DimSize\s*=.*$/m, 'DimSize = 30000 160 40'),
    editHeader(file, headerEnd, /^DimSize\s*=.*$/m, 'DimSize = 65535 65535 65535'),
    editHeader(file, headerEnd, /^DimSize\s*=.*$/m, 'DimSize = 140 160 -1'),
    editHeader(file, headerEnd, /^DimSize\s*=.*$/m, 'DimSize = 140 160'),
    editHeader(file, headerEnd, /^NDims\s*=.*$/m, 'NDims = 4'),
    editHeader(file, headerEnd, /^ElementType\s*=.*$/m, 'ElementType = MET_DOUBLE'),
    editHeader(file, headerEnd, /^CompressedData\s*=.*$/m, 'CompressedData = True'),
    editHeader(file, headerEnd, /^ElementDataFile\s*=.*$/m, 'ElementDataFile = missing.raw'),
  ]
}

/** Offset of an explicit-VR little-endian element (tag + VR bytes) after the preamble. */
export function findElement(b: Uint8Array, group: number, element: number, vr: string): number {
  const pat = Buffer.from([
    group & 0xff,
    group >> 8,
    element & 0xff,
    element >> 8,
    ...Buffer.from(vr),
  ])
  const at = Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(pat, 132)
  assert.ok(at > 0, `seed DICOM has no (${hex(group)},${hex(element)}) ${vr}`)
  return at
}

export function dicomMutations(file: Uint8Array, rng: Rng): Mutation[] {
  const rows = findElement(file, 0x0028, 0x0010, 'US')
  const cols = findElement(file, 0x0028, 0x0011, 'US')
  const bits = findElement(file, 0x0028, 0x0100, 'US')
  const pix = findElement(file, 0x7fe0, 0x0010, 'O')
  const pixValue = pix + 12
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const encapsulated = view.getUint32(pix + 8, true) === 0xffffffff
  const us = (at: number, n: number, name: string): Mutation =>
    patch(file, `set ${name}=${n}`, (v) => v.setUint16(at + 8, n, true))
  const common = [
    ...truncations(file, pixValue),
    ...flips(file, rng, pixValue),
    us(rows, 65535, 'Rows'),
    us(cols, 65535, 'Columns'),
  ]
  if (!encapsulated) {
    return [
      ...common,
      us(rows, 0, 'Rows'),
      us(bits, 32, 'BitsAllocated'),
      patch(file, 'set Pixel Data length=0x7ffffff0', (v) =>
        v.setUint32(pix + 8, 0x7ffffff0, true),
      ),
      patch(file, 'set Pixel Data length=0xfffffff0', (v) =>
        v.setUint32(pix + 8, 0xfffffff0, true),
      ),
      patch(file, 'set Pixel Data length=value+2', (v) =>
        v.setUint32(pix + 8, v.getUint32(pix + 8, true) + 2, true),
      ),
    ]
  }
  // Encapsulated: an offset-table item, then fragment items (FFFE,E000) with 4-byte lengths.
  const firstItemLen = pixValue + 4
  const fragmentLen = pixValue + 8 + view.getUint32(firstItemLen, true) + 4
  const fragmentData = fragmentLen + 4
  return [
    ...common,
    patch(file, 'set offset-table item length=0x7ffffff0', (v) =>
      v.setUint32(firstItemLen, 0x7ffffff0, true),
    ),
    patch(file, 'set first fragment length=0x7ffffff0', (v) =>
      v.setUint32(fragmentLen, 0x7ffffff0, true),
    ),
    prefixed('inside the codestream: ', flipBytes(file, rng, 4, fragmentData, file.length - 8)),
  ]
}

/**
 * A Siemens mosaic (implicit VR, so no VR to search for): flips and absurd counts inside its CSA
 * header (the "SV10" binary that our own parser reads), and cuts (the first inside it).
 */
export function mosaicMutations(file: Uint8Array, rng: Rng): Mutation[] {
  const csa = Buffer.from(file.buffer, file.byteOffset, file.byteLength).indexOf(
    'SV10\x04\x03\x02\x01',
  )
  assert.ok(csa > 0, 'seed mosaic has no CSA2 header')
  const u32 = (at: number, n: number, name: string): Mutation =>
    patch(file, `set CSA ${name}=${hex(n)}`, (v) => v.setUint32(at, n, true))
  // CSA2: "SV10" + 4 bytes, n_tags, 77; per tag: name[64], vm, vr[4], syngodt, n_items, 77|205.
  return [
    ...truncations(file, csa + 100),
    flipBytes(file, rng, 4, csa, csa + 400),
    flipBytes(file, rng, 16, csa, csa + 12000),
    u32(csa + 8, 0xffffffff, 'n_tags'),
    u32(csa + 8, 0, 'n_tags'),
    u32(csa + 16 + 64 + 12, 0x7fffffff, 'first n_items'),
    u32(csa + 16 + 64, 0xffffffff, 'first vm'),
  ]
}

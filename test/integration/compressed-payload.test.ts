import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateSync, gzipSync } from 'node:zlib'
import { metaReadImageNode } from '@itk-wasm/image-io'
import { openVolume } from '../../src/io/open-volume.js'
import { decoderComplaint, muteWasmStdio, WasmPipelineError } from '../../src/io/itk/quiet.js'
import { derived, rejectsWith } from '../helpers.js'

/** ch2-crop.mha split into its header (through the ElementDataFile line) and raw payload. */
function splitMha(): { header: string; raw: Buffer } {
  const b = readFileSync(derived('ch2-crop.mha'))
  const t = b.toString('latin1')
  const end = t.indexOf('\n', t.indexOf('ElementDataFile')) + 1
  return { header: t.slice(0, end), raw: b.subarray(end) }
}

/** A compressed copy of the crop; `sizeLine` adds CompressedDataSize with that value. */
function compressedMha(stream: Buffer, sizeLine?: number): Buffer {
  const { header } = splitMha()
  let h = header.replace('CompressedData = False', 'CompressedData = True')
  assert.ok(h.includes('CompressedData = True'))
  if (sizeLine !== undefined) {
    h = h.replace('ElementDataFile', `CompressedDataSize = ${sizeLine}\nElementDataFile`)
  }
  return Buffer.concat([Buffer.from(h, 'latin1'), stream])
}

test('compressed MHA without CompressedDataSize opens with the voxels of ch2-crop, not zeros', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-zmha-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const { raw } = splitMha()
  const z = deflateSync(raw)
  const path = join(dir, 'no-size.mha')
  writeFileSync(path, compressedMha(z))
  assert.ok(!readFileSync(path, 'latin1').includes('CompressedDataSize'))
  const ref = await openVolume(derived('ch2-crop.mha'))
  const o = await openVolume(path)
  assert.deepEqual(o.volume.sizeIJK, ref.volume.sizeIJK)
  assert.deepEqual(o.volume.originLPS, ref.volume.originLPS)
  assert.ok(
    Buffer.from(o.volume.voxels.buffer).equals(Buffer.from(ref.volume.voxels.buffer)),
    'voxels differ from ch2-crop.mha',
  )
  assert.ok(ref.intensityRange[1] > 0)
  // Detached (MHD + .zraw) without the line: MetaIO uses the data file's size; same voxels.
  const { header } = splitMha()
  writeFileSync(join(dir, 'd.zraw'), deflateSync(raw))
  const mhd = join(dir, 'd.mhd')
  writeFileSync(
    mhd,
    header
      .replace('CompressedData = False', 'CompressedData = True')
      .replace(/ElementDataFile = .*/, 'ElementDataFile = d.zraw'),
  )
  const d = await openVolume(mhd)
  assert.ok(Buffer.from(d.volume.voxels.buffer).equals(Buffer.from(ref.volume.voxels.buffer)))
  // ...and a cut .zraw is refused.
  writeFileSync(join(dir, 'd.zraw'), deflateSync(raw).subarray(0, 1000))
  await rejectsWith(openVolume(mhd), 'E_DECODE', mhd)
})

test('compressed MHA with a truncated or corrupt stream is refused with E_DECODE', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-zmha-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const z = deflateSync(splitMha().raw)
  const truncated = join(dir, 'truncated.mha')
  writeFileSync(truncated, compressedMha(z.subarray(0, z.length >> 1), z.length >> 1))
  const e1 = await rejectsWith(openVolume(truncated), 'E_DECODE', truncated)
  assert.match(e1.message, /inflate/)
  const corrupt = join(dir, 'corrupt.mha')
  const c = Buffer.from(z)
  for (let k = 100; k < 400; k++) c[k] = (c[k] as number) ^ 0x5a
  writeFileSync(corrupt, compressedMha(c))
  await rejectsWith(openVolume(corrupt), 'E_DECODE', corrupt)
})

test('too small a CompressedDataSize (MetaIO silently zero-fills the rest) is refused with E_DECODE', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-zmha-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const z = deflateSync(splitMha().raw)
  for (const n of [1000, z.length >> 1]) {
    const path = join(dir, `size-${n}.mha`)
    writeFileSync(path, compressedMha(z, n))
    const e = await rejectsWith(openVolume(path), 'E_DECODE', path)
    assert.match(e.message, /CompressedDataSize = \d+/)
  }
  const big = join(dir, 'size-big.mha')
  writeFileSync(big, compressedMha(z, z.length + 5000))
  await rejectsWith(openVolume(big), 'E_TRUNCATED', big)
})

test('muteWasmStdio turns the decoder\'s "Uncompress failed" into an error quoting it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-zmha-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'no-size.mha')
  writeFileSync(path, compressedMha(deflateSync(splitMha().raw)))
  // Without the option the real MetaIO reader returns (a zero image); with it, the line is an error.
  const quiet = await muteWasmStdio(() => metaReadImageNode(path))
  assert.equal(quiet.couldRead, true)
  await assert.rejects(
    muteWasmStdio(() => metaReadImageNode(path), { failOnComplaint: true }),
    (e: unknown) => e instanceof WasmPipelineError && /"Uncompress failed"/.test(e.message),
  )
  assert.equal(decoderComplaint('WARNING: In foo.cxx, line 3\nImageIO (0x1): a note\n'), undefined)
})

test('gzip NRRD whose stream is cut short is refused with E_DECODE, not zeros', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-znrrd-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const { raw } = splitMha()
  const header =
    'NRRD0004\ntype: uint8\ndimension: 3\nsizes: 140 160 40\nencoding: gzip\n' +
    'space: left-posterior-superior\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n' +
    'space origin: (0,0,0)\n\n'
  assert.equal(raw.length, 140 * 160 * 40)
  const g = gzipSync(raw)
  const whole = join(dir, 'whole.nrrd')
  writeFileSync(whole, Buffer.concat([Buffer.from(header), g]))
  const ok = await openVolume(whole)
  assert.ok(Buffer.from(ok.volume.voxels.buffer).equals(raw))
  const cut = join(dir, 'cut.nrrd')
  writeFileSync(cut, Buffer.concat([Buffer.from(header), g.subarray(0, g.length >> 1)]))
  await rejectsWith(openVolume(cut), 'E_DECODE', cut)
})

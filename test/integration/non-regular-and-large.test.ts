import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { openVolume } from '../../src/io/open-volume.js'
import { MAX_HEADER_BYTES, scanDicomFile } from '../../src/io/dicom/scan-dicom.js'
import { derived, rejectsWith } from '../helpers.js'

/** Fails the test instead of hanging when `p` takes longer than `ms`. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-nonreg-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const NRRD_HEAD =
  'NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 4 4\nspace: left-posterior-superior\n' +
  'space directions: (1,0,0) (0,1,0) (0,0,1)\nspace origin: (0,0,0)\n'

test('a FIFO as a detached NRRD/MHA data file or as the input is refused at once', async (t) => {
  const dir = tempDir(t)
  const fifo = join(dir, 'pipe.raw')
  execFileSync('mkfifo', [fifo])
  for (const enc of ['raw', 'gzip']) {
    const nrrd = join(dir, `detached-${enc}.nhdr`)
    writeFileSync(nrrd, `${NRRD_HEAD}encoding: ${enc}\ndata file: pipe.raw\n\n`)
    const e = await within(5000, rejectsWith(openVolume(nrrd), 'E_UNSUPPORTED', nrrd))
    assert.match(e.message, /pipe\.raw.*not a regular file \(a FIFO/)
  }
  const mhd = join(dir, 'detached.mhd')
  writeFileSync(
    mhd,
    'ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementType = MET_UCHAR\n' +
      'CompressedData = True\nElementDataFile = pipe.raw\n',
  )
  await within(5000, rejectsWith(openVolume(mhd), 'E_UNSUPPORTED', mhd))
  const e = await within(5000, rejectsWith(openVolume(fifo), 'E_UNSUPPORTED', fifo))
  assert.match(e.message, /not a regular file \(a FIFO/)
})

test('a FIFO in a DICOM folder or file list is skipped with its reason; the series still opens', async (t) => {
  const dir = tempDir(t)
  const src = derived('dicom', 'ch2-crop')
  const folder = join(dir, 'series')
  mkdirSync(folder)
  const names = readdirSync(src).filter((n) => n.endsWith('.dcm'))
  for (const n of names) copyFileSync(join(src, n), join(folder, n))
  const fifo = join(folder, 'zz-pipe.dcm')
  execFileSync('mkfifo', [fifo])
  const ref = await openVolume(src)
  for (const input of [folder, [...names.map((n) => join(folder, n)), fifo]]) {
    const o = await within(10000, openVolume(input))
    assert.deepEqual(o.volume.sizeIJK, ref.volume.sizeIJK)
    const skip = o.dicom?.skipped.find((s) => s.file === fifo)
    assert.ok(skip, `the FIFO is not listed as skipped: ${JSON.stringify(o.dicom?.skipped)}`)
    assert.equal(skip.code, 'E_UNSUPPORTED')
    assert.match(skip.reason, /not a regular file \(a FIFO/)
  }
})

test('a sparse 3 GiB file with a DICOM header and no Pixel Data early is skipped without reading it whole', async (t) => {
  const dir = tempDir(t)
  const src = join(derived('dicom', 'ch2-crop'), 'image0000.dcm')
  const dcm = readFileSync(src)
  // The header up to (not including) the Pixel Data element (7FE0,0010), then 3 GiB of holes.
  const at = dcm.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]))
  assert.ok(at > 132 && at < 64 * 1024)
  const big = join(dir, 'huge.dcm')
  writeFileSync(big, dcm.subarray(0, at))
  execFileSync('truncate', ['-s', '3G', big])
  const before = process.memoryUsage().rss
  const r = await within(20000, scanDicomFile(big))
  assert.ok('reason' in r, 'a header without Pixel Data was accepted')
  assert.equal(r.code, 'E_UNSUPPORTED')
  assert.match(r.reason, new RegExp(`first ${MAX_HEADER_BYTES / 2 ** 20} MiB of a 3072 MiB file`))
  // Reading it whole would take 3 GiB (or abort the process); the cap keeps it to tens of MB.
  assert.ok(process.memoryUsage().rss - before < 512 * 2 ** 20)
})

test('an uncompressed .nii with 50 MB of trailing zeros opens with a warning and the same voxels', async (t) => {
  const dir = tempDir(t)
  const nii = gunzipSync(readFileSync(derived('ch2-crop.nii.gz')))
  const path = join(dir, 'padded.nii')
  writeFileSync(path, Buffer.concat([nii, Buffer.alloc(50_000_000)]))
  const ref = await openVolume(derived('ch2-crop.nii.gz'))
  const o = await openVolume(path)
  assert.ok(Buffer.from(o.volume.voxels.buffer).equals(Buffer.from(ref.volume.voxels.buffer)))
  const w = o.warnings.find((x) => /larger than its header says/.test(x))
  assert.ok(w, `no warning: ${JSON.stringify(o.warnings)}`)
  assert.match(w, /^the file is 50\.0 MB larger than its header says; the extra bytes are ignored$/)
  assert.ok(!ref.warnings.some((x) => /larger than its header/.test(x)))
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { DERIVED, PYDICOM_DATA, derived, fixture, runVolseg, type CliResult } from '../helpers.js'

const volseg = (...args: string[]): CliResult => runVolseg(args, { timeoutMs: 120000 })

/** An error: exit 1, exactly one stderr line `volseg: <file>: <reason>`, no stack trace. */
function assertError(r: ReturnType<typeof volseg>, file: string, reason: RegExp): void {
  assert.equal(r.code, 1, r.stderr)
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, r.stderr)
  assert.ok(lines[0]!.startsWith(`volseg: ${file}: `), lines[0])
  assert.match(lines[0]!, reason)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
}

test('volseg info prints geometry of the bundled sample; --json has the contract fields', () => {
  const text = volseg('info', fixture('ch2.nii.gz'))
  assert.equal(text.code, 0, text.stderr)
  assert.match(text.stdout, /size \(i,j,k\): 181 × 217 × 181/)
  assert.match(text.stdout, /orientation: {2}RAS/)
  assert.match(text.stdout, /sform_code 4/)
  const r = volseg('info', fixture('ch2.nii.gz'), '--json')
  assert.equal(r.code, 0)
  const j = JSON.parse(r.stdout) as Record<string, unknown>
  assert.deepEqual(j.sizeIJK, [181, 217, 181])
  assert.deepEqual(j.spacingMm, [1, 1, 1])
  assert.deepEqual(j.originLPS, [90, 125, -71])
  assert.deepEqual(j.directionLPS, [-1, 0, 0, 0, -1, 0, 0, 0, 1])
  assert.equal(j.pixelType, 'uint8')
  assert.deepEqual(j.intensityRange, [0, 254])
  assert.deepEqual(j.warnings, [])
  assert.equal(r.stderr, '')
})

test('volseg info on a DICOM folder lists its series; several series need --series', () => {
  const one = JSON.parse(volseg('info', derived('dicom', 'ch2-crop'), '--json').stdout) as {
    series: { uid: string; description: string; fileCount: number }[]
  }
  assert.equal(one.series.length, 1)
  assert.equal(one.series[0]!.fileCount, 40)
  assert.ok(one.series[0]!.uid.length > 10)
  const dir = derived('dicom', 'two-series')
  const two = volseg('info', dir)
  assertError(two, dir, /2 series found; choose one \(pass --series N or --series KEY\)/)
  assert.match(
    two.stdout,
    /\[1\] MR #2 "ch2 crop" {2}140×160, 40 files {2}key .*\n.*\[2\].* 10 files/,
  )
  const chosen = volseg('info', dir, '--series', '2', '--json')
  assert.equal(chosen.code, 0, chosen.stderr)
  assert.equal((JSON.parse(chosen.stdout) as { series: unknown[] }).series.length, 2)
})

test('volseg info: each listed series says what its headers tell (a 4-D mosaic folder)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-cli-4d-'))
  try {
    for (const f of ['0.dcm', '1.dcm']) {
      writeFileSync(join(dir, f), readFileSync(fixture('nibabel', f)))
    }
    const r = volseg('info', dir)
    assertError(r, dir, /a 4-D series of 2 volumes/)
    // Under each volume: the mosaic's own warnings, not "a single slice" or "2 stacks".
    assert.match(r.stdout, /\[1\] .*volume 1 of 2.*\n {6}! a Siemens mosaic: 48 slices of 36×36/)
    assert.doesNotMatch(r.stdout, /single slice|stacks/)
    const j = JSON.parse(volseg('info', dir, '--series', '2', '--json').stdout) as {
      series: { warnings: string[] }[]
    }
    assert.match(j.series[1]!.warnings.join('\n'), /a Siemens mosaic/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bad input: one clear line naming the file, exit 1, for every kind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-cli-'))
  try {
    const empty = join(dir, 'empty.nii.gz')
    writeFileSync(empty, '')
    assertError(volseg('info', empty), empty, /empty \(0 bytes\)/)

    const raw = gunzipSync(readFileSync(derived('ch2-crop.nii.gz')))
    const truncated = join(dir, 'truncated.nii.gz')
    writeFileSync(truncated, gzipSync(raw).subarray(0, 200_000))
    assertError(volseg('info', truncated), truncated, /truncated/)
    const short = join(dir, 'short.nii')
    writeFileSync(short, raw.subarray(0, raw.length - 1))
    assertError(volseg('info', short), short, /header needs/)

    const magic = join(dir, 'random.nii')
    writeFileSync(magic, Buffer.from('this is not an image at all, just text\n'.repeat(50)))
    assertError(volseg('info', magic), magic, /not a NIfTI, NRRD, MetaImage or DICOM file/)

    const huge = Buffer.from(raw.subarray(0, 352))
    huge.writeInt16LE(30000, 42)
    huge.writeInt16LE(30000, 44)
    huge.writeInt16LE(30000, 46)
    const absurd = join(dir, 'absurd.nii.gz')
    writeFileSync(absurd, gzipSync(huge))
    const t = Date.now()
    assertError(volseg('info', absurd), absurd, /30000×30000×30000 voxels .* over the .* GiB limit/)
    assert.ok(Date.now() - t < 20_000)

    const missing = join(dir, 'nope.nii.gz')
    assertError(volseg('info', missing), missing, /no such file or folder/)

    const noImages = join(dir, 'no-images')
    mkdirSync(noImages)
    writeFileSync(join(noImages, 'notes.txt'), 'hello')
    assertError(volseg('info', noImages), noImages, /no DICOM images found/)

    const rtplan = join(PYDICOM_DATA, 'rtplan.dcm')
    assertError(volseg('info', rtplan), rtplan, /no pixel data \(a RTPLAN object/)

    const gz = join(dir, 'text.gz')
    writeFileSync(gz, gzipSync(Buffer.from('hello')))
    assertError(volseg('info', gz), gz, /gzip file that does not hold a NIfTI/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('bad arguments and --json errors', () => {
  const r = volseg('info')
  assert.equal(r.code, 1)
  assert.match(r.stderr, /^volseg: info needs a path/)
  const u = volseg('frobnicate')
  assert.match(u.stderr, /^volseg: unknown command "frobnicate"/)
  const path = derived('dicom', 'missing-slice')
  const j = volseg('info', path, '--json')
  assert.equal(j.code, 1)
  const err = (JSON.parse(j.stdout) as { error: { code: string; message: string } }).error
  assert.equal(err.code, 'E_SERIES_GEOMETRY')
  assert.ok(DERIVED.length > 0)
})

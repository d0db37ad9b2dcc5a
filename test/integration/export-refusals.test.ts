// What `volseg export` refuses, and that a refusal leaves every file as it was: a SEG of a NIfTI
// source (with the reason and the NIfTI alternative), an output over the mask or the reference,
// a taken name without --overwrite (the earlier export stays intact, nothing else is written), a
// symlink in the output folder pointing outside it, label names that would leave the folder,
// labels not in the mask, a mask on another grid. Real CLI, real files.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { ROOT, derived, runVolseg, type CliResult } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-export-refuse-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
const MASKS = join(tmp, 'masks')
const volseg = (...args: string[]): CliResult => runVolseg(['export', ...args], { env })

before(() => {
  mkdirSync(MASKS)
  const r = spawnSync(
    '/usr/bin/python3',
    [join(ROOT, 'test', 'oracle', 'make_export_masks.py'), derived('ch2-crop.nii.gz'), MASKS],
    { encoding: 'utf8' },
  )
  assert.equal(r.status, 0, r.stderr)
})

/** A fresh folder (with `files` copied in). */
function folder(name: string, files: Record<string, string> = {}): string {
  const d = join(tmp, name)
  mkdirSync(d, { recursive: true })
  for (const [to, from] of Object.entries(files)) copyFileSync(from, join(d, to))
  return d
}

/** Every file under `dir`, with its bytes (to show nothing changed). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n)
    const s = lstatSync(p)
    out[n] = s.isSymbolicLink()
      ? 'link'
      : s.isDirectory()
        ? 'dir'
        : readFileSync(p).toString('base64')
  }
  return out
}

test('SEG of a NIfTI source is refused with the reason and the NIfTI alternative; nothing is written', () => {
  const out = folder('seg-nifti')
  const r = volseg(
    join(MASKS, 'final.nii.gz'),
    '--reference',
    derived('ch2-crop.nii.gz'),
    '--format',
    'seg,nifti',
    '-o',
    out,
  )
  assert.equal(r.code, 1)
  assert.match(r.stderr, /^volseg: .*ch2-crop\.nii\.gz: a DICOM SEG must reference DICOM images/)
  assert.match(r.stderr, /export --format nifti instead/)
  assert.deepEqual(readdirSync(out), [])
  // The same export as NIfTI works.
  const ok = volseg(
    join(MASKS, 'final.nii.gz'),
    '--reference',
    derived('ch2-crop.nii.gz'),
    '--format',
    'nifti',
    '-o',
    out,
  )
  assert.equal(ok.code, 0, ok.stderr)
  assert.deepEqual(readdirSync(out).sort(), ['final.export.json', 'final.nii.gz'])
})

test('an output over the mask or over the reference is refused, with or without --overwrite; both stay intact', () => {
  const d = folder('over-source', { 'final.nii.gz': join(MASKS, 'final.nii.gz') })
  const before = snapshot(d)
  const plain = volseg(
    join(d, 'final.nii.gz'),
    '--reference',
    derived('ch2-crop.nii.gz'),
    '--format',
    'nifti',
    '-o',
    d,
  )
  assert.equal(plain.code, 1)
  assert.match(plain.stderr, /final\.nii\.gz exists in the output folder; it was not replaced/)
  const forced = volseg(
    join(d, 'final.nii.gz'),
    '--reference',
    derived('ch2-crop.nii.gz'),
    '--format',
    'nifti',
    '-o',
    d,
    '--overwrite',
  )
  assert.equal(forced.code, 1)
  assert.match(forced.stderr, /refusing to overwrite an input file/)
  assert.deepEqual(snapshot(d), before, 'mask untouched, no temp file left')

  // The reference: a mask named like it, exported into the reference's folder.
  const r = folder('over-reference', { 'ch2-crop.nii.gz': derived('ch2-crop.nii.gz') })
  const m = folder('over-reference-mask', { 'ch2-crop.nii.gz': join(MASKS, 'final.nii.gz') })
  const refBefore = snapshot(r)
  const x = volseg(
    join(m, 'ch2-crop.nii.gz'),
    '--reference',
    join(r, 'ch2-crop.nii.gz'),
    '--format',
    'nifti',
    '-o',
    r,
    '--overwrite',
  )
  assert.equal(x.code, 1)
  assert.match(x.stderr, /refusing to overwrite an input file .*ch2-crop\.nii\.gz/)
  assert.deepEqual(snapshot(r), refBefore)
})

test('a taken name is refused before anything is written; the earlier export stays intact; --overwrite replaces', () => {
  const out = folder('taken')
  const args = [join(MASKS, 'final.nii.gz'), '--reference', derived('ch2-crop.nii.gz'), '-o', out]
  assert.equal(volseg(...args, '--format', 'stats').code, 0)
  const first = snapshot(out)
  const again = volseg(...args, '--format', 'nifti,stats')
  assert.equal(again.code, 1)
  assert.match(
    again.stderr,
    /final\.stats\.csv exists in the output folder; it was not replaced \(pass --overwrite/,
  )
  assert.deepEqual(snapshot(out), first, 'no NIfTI written, stats unchanged')
  const forced = volseg(...args, '--format', 'stats', '--overwrite')
  assert.equal(forced.code, 0, forced.stderr)
  assert.deepEqual(Object.keys(snapshot(out)), Object.keys(first))
})

test('a symlink in the output folder pointing outside it: refused, and with --overwrite replaced by a file; the outside file is untouched', () => {
  const out = folder('links')
  const outside = join(folder('outside'), 'precious.csv')
  writeFileSync(outside, 'do not touch\n')
  symlinkSync(outside, join(out, 'final.stats.csv'))
  const args = [
    join(MASKS, 'final.nii.gz'),
    '--reference',
    derived('ch2-crop.nii.gz'),
    '-o',
    out,
    '--format',
    'stats',
  ]
  const plain = volseg(...args)
  assert.equal(plain.code, 1)
  assert.match(plain.stderr, /final\.stats\.csv exists/)
  const forced = volseg(...args, '--overwrite')
  assert.equal(forced.code, 0, forced.stderr)
  assert.equal(readFileSync(outside, 'utf8'), 'do not touch\n')
  assert.equal(lstatSync(join(out, 'final.stats.csv')).isSymbolicLink(), false)
  assert.match(readFileSync(join(out, 'final.stats.csv'), 'utf8'), /^value,name,voxels/)
})

test('label names with path separators stay file names inside the output folder', () => {
  const d = folder('names', { 'final.nii.gz': join(MASKS, 'final.nii.gz') })
  writeFileSync(
    join(d, 'final.review.json'),
    JSON.stringify({
      format: 'volseg-review',
      version: 1,
      mask: 'final.nii.gz',
      source: 'x',
      geometry: {},
      labelVoxels: [],
      savedAt: '2026-12-07T08:00:00.000Z',
      review: {
        labels: [
          { value: 3, name: '../../escape/..\\x', colourRGB: [1, 2, 3], status: 'accepted' },
        ],
        updatedAt: '2026-12-07T08:00:00.000Z',
      },
    }),
  )
  const out = folder('names-out')
  const parent = snapshot(dirname(out))
  const r = volseg(
    join(d, 'final.nii.gz'),
    '--reference',
    derived('ch2-crop.nii.gz'),
    '-o',
    out,
    '--format',
    'stl',
    '--labels',
    '3',
  )
  assert.equal(r.code, 0, r.stderr)
  const files = readdirSync(out).sort()
  assert.equal(files.length, 2)
  assert.ok(files.every((f) => !f.includes('/') && !f.includes('\\')))
  assert.match(files[1]!, /^final\.label-3-.*escape.*\.stl$/)
  assert.deepEqual(
    Object.keys(snapshot(dirname(out))),
    Object.keys(parent),
    'nothing new beside the folder',
  )
})

test('labels not in the mask, and a mask on another grid, are refused naming the mask', () => {
  const out = folder('bad-args')
  const a = volseg(
    join(MASKS, 'final.nii.gz'),
    '--reference',
    derived('ch2-crop.nii.gz'),
    '-o',
    out,
    '--labels',
    '2,7',
  )
  assert.equal(a.code, 1)
  assert.match(a.stderr, /final\.nii\.gz: label value 7 not in the mask \(it holds 1, 2, 3\)/)
  const b = volseg(
    join(MASKS, 'final.nii.gz'),
    '--reference',
    derived('flipped.nii.gz'),
    '-o',
    out,
    '--format',
    'nifti',
  )
  assert.equal(b.code, 1)
  assert.match(b.stderr, /final\.nii\.gz: final\.nii\.gz is not on the reference's grid/)
  const c = volseg(join(MASKS, 'final.nii.gz'), '-o', out)
  assert.equal(c.code, 1)
  assert.match(c.stderr, /export needs --reference/)
  assert.deepEqual(readdirSync(out), [])
})

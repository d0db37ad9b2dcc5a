// Every output of a `volseg segment` run is checked before the model runs: never one of the
// run's inputs (any case's, by device + inode or path; every file of a DICOM folder), never an
// existing file without --overwrite, and always a place that can be written. Real files, the
// real CLI and the fast threshold pack.
import assert from 'node:assert/strict'
import {
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, test } from 'node:test'
import type * as ForkRunner from '../../src/jobs/fork-runner.js'
import { ROOT, derived, runVolseg, type CliResult } from '../helpers.js'

const MODEL = join(ROOT, 'test', 'tiny-model', 'packs', 'threshold')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-outputs-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
const volseg = (...args: string[]): CliResult =>
  runVolseg(['segment', ...args, '--model', MODEL], { env })

/** A fresh folder holding copies of ch2-crop under the given names. */
function caseDir(name: string, files: readonly string[]): string {
  const d = join(tmp, name)
  mkdirSync(d, { recursive: true })
  for (const f of files) copyFileSync(derived('ch2-crop.nii.gz'), join(d, f))
  return d
}

const CROP = (): Buffer => readFileSync(derived('ch2-crop.nii.gz'))

/** Refused before the model was even loaded: exit 1, one error line, no "model …" progress line. */
function assertRefused(r: CliResult, ...mentions: RegExp[]): void {
  assert.equal(r.code, 1, `exit ${r.code}\n${r.stdout}\n${r.stderr}`)
  assert.doesNotMatch(r.stderr, /volseg: model /, 'the model was loaded before the refusal')
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  assert.doesNotMatch(r.stderr, /\b(EACCES|ENOENT|ENOTDIR|EISDIR|EROFS|EPERM)\b/, r.stderr)
  for (const m of mentions) assert.match(r.stderr, m)
}

const esc = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))

test('a batch never writes a mask over another case input (--overwrite)', () => {
  const b = caseDir('alias-b', ['a.nii.gz', 'a_seg.nii.gz'])
  const r = volseg(join(b, 'a.nii.gz'), join(b, 'a_seg.nii.gz'), '-o', b, '--overwrite')
  assertRefused(r, /refusing to overwrite an input/, esc(join(b, 'a_seg.nii.gz')))
  assert.deepEqual(readFileSync(join(b, 'a_seg.nii.gz')), CROP())
  assert.deepEqual(readdirSync(b).sort(), ['a.nii.gz', 'a_seg.nii.gz'])
})

test('a batch never writes an uncertainty map over another case input', () => {
  const c = caseDir('alias-c', ['a.nii.gz', 'a_uncertainty.nii.gz'])
  const out = join(tmp, 'alias-cout')
  const r = volseg(
    join(c, 'a.nii.gz'),
    join(c, 'a_uncertainty.nii.gz'),
    '-o',
    out,
    '--uncertainty',
    c,
  )
  assertRefused(r, /refusing to overwrite an input/, esc(join(c, 'a_uncertainty.nii.gz')))
  assert.deepEqual(readFileSync(join(c, 'a_uncertainty.nii.gz')), CROP())
  assert.ok(!existsSync(out), 'the output folder was created')
})

test('an output hard-linked to a file inside a DICOM folder input is refused', () => {
  const series = join(tmp, 'dcm', 'series')
  cpSync(derived('dicom', 'ch2-crop'), series, { recursive: true })
  const first = readdirSync(series).sort()[0] as string
  const outDir = join(tmp, 'dcm', 'out')
  mkdirSync(outDir)
  const link = join(outDir, 'linked.nii.gz')
  linkSync(join(series, first), link)
  const before = readFileSync(link)
  const r = volseg(series, '-o', link, '--overwrite')
  assertRefused(r, /refusing to overwrite an input/, esc(link), esc(join(series, first)))
  assert.deepEqual(readFileSync(join(series, first)), before)
})

test('an existing --uncertainty file is not replaced without --overwrite', () => {
  const d = caseDir('precious', ['a.nii.gz'])
  const precious = join(d, 'precious.nii.gz')
  writeFileSync(precious, 'keep me')
  const mask = join(d, 'mask.nii.gz')
  const r = volseg(join(d, 'a.nii.gz'), '-o', mask, '--uncertainty', precious)
  assertRefused(r, /exists/, /--overwrite/, esc(precious))
  assert.equal(readFileSync(precious, 'utf8'), 'keep me')
  assert.ok(!existsSync(mask), 'the mask was written')
  // With --overwrite both are written.
  const ok = volseg(join(d, 'a.nii.gz'), '-o', mask, '--uncertainty', precious, '--overwrite')
  assert.equal(ok.code, 0, ok.stderr)
  assert.notEqual(readFileSync(precious, 'utf8'), 'keep me')
  assert.ok(existsSync(mask))
})

test('an existing -o file for one case is refused the same way, naming it', () => {
  const d = caseDir('exists-o', ['a.nii.gz'])
  const mask = join(d, 'mask.nii.gz')
  writeFileSync(mask, 'old')
  const r = volseg(join(d, 'a.nii.gz'), '-o', mask)
  assertRefused(r, /exists/, /--overwrite/, esc(mask))
  assert.equal(readFileSync(mask, 'utf8'), 'old')
})

test('a batch still skips existing masks, but refuses an existing uncertainty map of a case that would run', () => {
  const d = caseDir('resume', ['a.nii.gz', 'b.nii.gz'])
  const out = join(tmp, 'resume-out')
  const unc = join(tmp, 'resume-unc')
  mkdirSync(out)
  mkdirSync(unc)
  writeFileSync(join(out, 'a_seg.nii.gz'), 'done before')
  writeFileSync(join(unc, 'b_uncertainty.nii.gz'), 'someone else')
  const r = volseg(d, '-o', out, '--uncertainty', unc)
  assertRefused(r, /exists/, esc(join(unc, 'b_uncertainty.nii.gz')))
  assert.equal(readFileSync(join(unc, 'b_uncertainty.nii.gz'), 'utf8'), 'someone else')
  assert.deepEqual(readdirSync(out), ['a_seg.nii.gz'])
  // Without the stray map: a is skipped (resume), b runs.
  rmSync(join(unc, 'b_uncertainty.nii.gz'))
  const ok = volseg(d, '-o', out, '--uncertainty', unc)
  assert.equal(ok.code, 0, ok.stderr)
  assert.match(ok.stdout, /1 done, 1 skipped, 0 failed/)
  assert.equal(readFileSync(join(out, 'a_seg.nii.gz'), 'utf8'), 'done before')
  assert.ok(existsSync(join(unc, 'b_uncertainty.nii.gz')))
  assert.ok(!existsSync(join(unc, 'a_uncertainty.nii.gz')))
})

test('bad output locations are refused before the model runs, in words', () => {
  const d = caseDir('bad-loc', ['a.nii.gz', 'b.nii.gz'])
  const src = join(d, 'a.nii.gz')
  // A folder where the mask file should go.
  const asDir = join(d, 'folder.nii.gz')
  mkdirSync(asDir)
  assertRefused(volseg(src, '-o', asDir, '--overwrite'), esc(asDir), /is a folder/)
  // A file used as a folder.
  const file = join(d, 'plain')
  writeFileSync(file, 'x')
  const under = join(file, 'm.nii.gz')
  assertRefused(volseg(src, '-o', under), esc(file), /is a file, not a folder/)
  // Under /proc nothing can be created (also for root).
  const proc = '/proc/volseg-nowhere/m.nii.gz'
  assertRefused(volseg(src, '-o', proc), /\/proc/, /cannot|not writable|does not allow/)
  // A batch folder under /proc: nothing written, not even the report.
  assertRefused(volseg(src, join(d, 'b.nii.gz'), '-o', '/proc/volseg-batch'), /\/proc/)
  if (process.getuid?.() !== 0) {
    const ro = join(d, 'ro')
    mkdirSync(ro, { mode: 0o555 })
    assertRefused(volseg(src, '-o', join(ro, 'm.nii.gz')), esc(ro), /not writable|permission/)
  }
})

test('a refused --uncertainty leaves no mask behind', () => {
  const d = caseDir('unc-bad', ['a.nii.gz'])
  const mask = join(d, 'mask.nii.gz')
  const r = volseg(join(d, 'a.nii.gz'), '-o', mask, '--uncertainty', '/proc/volseg-x/u.nii.gz')
  assertRefused(r, /\/proc\/volseg-x/)
  assert.ok(!existsSync(mask), 'the mask was written although its uncertainty map could not be')
})

test('the job publishes mask and uncertainty together: a failing map removes the new mask', async () => {
  // The worker itself (the CLI checks first): the map's target is a folder, so its write fails
  // after the mask was written; the mask must not stay behind.
  const fork = (await import(
    pathToFileURL(join(ROOT, 'dist', 'jobs', 'fork-runner.js')).href
  )) as typeof ForkRunner
  const d = caseDir('together', ['a.nii.gz'])
  const mask = join(d, 'a_seg.nii.gz')
  const uncDir = join(d, 'a_uncertainty.nii.gz')
  mkdirSync(uncDir)
  const request = {
    kind: 'segment',
    spec: {
      cases: [{ id: 'a', input: [join(d, 'a.nii.gz')], output: mask, uncertaintyOutput: uncDir }],
      model: MODEL,
      ep: 'cpu',
      tta: false,
      skipExisting: false,
    },
  } as const
  const job = fork.startJob(request, { timeoutMs: 120_000 })
  const reply = await job.result
  assert.ok(reply.ok, JSON.stringify(reply))
  const c = reply.value.cases[0]
  assert.equal(c?.status, 'failed', JSON.stringify(c))
  assert.ok(!existsSync(mask), 'the mask was left behind')
  // An existing mask (a rerun with --overwrite) is put back as it was.
  writeFileSync(mask, 'previous mask')
  const again = fork.startJob(request, { timeoutMs: 120_000 })
  const r2 = await again.result
  assert.ok(r2.ok)
  assert.equal(r2.value.cases[0]?.status, 'failed')
  assert.equal(readFileSync(mask, 'utf8'), 'previous mask')
  assert.deepEqual(readdirSync(d).sort(), ['a.nii.gz', 'a_seg.nii.gz', 'a_uncertainty.nii.gz'])
})

// `volseg segment` checks each input against the model card before inference: a CT (NIfTI in HU,
// a plastimatch CT series, pydicom's real CT_small.dcm) is refused by the bundled MR model with
// one line naming the file, what the card expects and what was found; `--force` runs it with a
// warning; the report records the check. ch2 (MR) runs as before.
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { BatchReport } from '../../src/shared/segment-report.js'
import { ROOT, derived, fixture, python, runVolseg, type CliResult } from '../helpers.js'

const THRESHOLD = join(ROOT, 'test', 'tiny-model', 'packs', 'threshold')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-modality-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }

const volseg = (...args: string[]): CliResult => runVolseg(args, { env })

/** stderr lines starting `volseg:` that are not the model/provider announcement. */
const messages = (stderr: string): string[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('volseg: ') && !/^volseg: model \S+ \S+ on /.test(l))

const CT_REASON =
  /model brain-extract expects MR, input looks like CT \(\d+ % of voxels ≤ −500, \d+ % in −200\.\.200, integer range -1024\.\.\d{4}\)/

test('a CT NIfTI is refused by the bundled MR model before inference; --force runs it with a warning', () => {
  const src = join(tmp, 'ct.nii.gz')
  copyFileSync(derived('ct-synthetic.nii.gz'), src)
  const out = join(tmp, 'ct_seg.nii.gz')
  const r = volseg('segment', src, '-o', out)
  assert.equal(r.code, 1, r.stderr)
  const lines = messages(r.stderr)
  assert.equal(lines.length, 1, r.stderr)
  assert.match(
    lines[0]!,
    new RegExp(
      `^volseg: ${src.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${CT_REASON.source}; use --force to run anyway$`,
    ),
  )
  assert.doesNotMatch(r.stderr, /tiles|planned memory/, 'refused before inference was planned')
  assert.ok(!existsSync(out))

  const f = volseg('segment', src, '-o', out, '--force', '--json')
  assert.equal(f.code, 0, f.stderr)
  const warn = messages(f.stderr)
  assert.equal(warn.length, 1, f.stderr)
  assert.match(
    warn[0]!,
    new RegExp(
      `^volseg: warning: .*ct\\.nii\\.gz: ${CT_REASON.source}; running anyway \\(--force\\)$`,
    ),
  )
  const report = JSON.parse(f.stdout) as BatchReport
  const c = report.cases[0]!
  assert.equal(c.status, 'ok')
  assert.ok(existsSync(out))
  const k = c.inputCheck!
  assert.equal(k.ok, false)
  assert.equal(k.forced, true)
  assert.equal(k.found, 'CT')
  assert.equal(k.expected, 'MR')
  assert.equal(k.basis, 'intensity')
  assert.equal(k.signature.min, -1024)
  assert.ok(k.signature.atMost500 > 0.3, JSON.stringify(k.signature))
  assert.ok(c.warnings?.some((w) => CT_REASON.test(w) && w.endsWith('; run anyway (--force)')))
})

test('CT DICOM is refused by its Modality: a plastimatch CT series and pydicom CT_small.dcm', () => {
  const series = derived('dicom', 'ct-synthetic')
  const r = volseg('segment', series, '-o', join(tmp, 'series_seg.nii.gz'))
  assert.equal(r.code, 1)
  assert.deepEqual(messages(r.stderr), [
    `volseg: ${series}: model brain-extract expects MR, input is CT (DICOM Modality); use --force to run anyway`,
  ])
  // CT_small.dcm is one 128×128 slice, but segmenting it runs (padded to the model's patch).
  const one = derived('dicom', 'single', 'CT_small.dcm')
  const out = join(tmp, 'ct_small_seg.nii.gz')
  const s = volseg('segment', one, '-o', out)
  assert.equal(s.code, 1)
  assert.match(
    messages(s.stderr)[0]!,
    /CT_small\.dcm: model brain-extract expects MR, input is CT \(DICOM Modality\); use --force/,
  )
  const f = volseg('segment', one, '-o', out, '--force', '--json')
  assert.equal(f.code, 0, f.stderr)
  const k = (JSON.parse(f.stdout) as BatchReport).cases[0]!.inputCheck!
  assert.deepEqual(
    [k.ok, k.forced, k.basis, k.found, k.evidence],
    [false, true, 'dicom', 'CT', 'DICOM Modality CT'],
  )
  assert.ok(existsSync(out))
})

test('a batch: the CT case fails with the reason, the MR cases are written; report columns; --force resumes it', () => {
  const cases = join(tmp, 'cases')
  mkdirSync(cases)
  copyFileSync(derived('ch2-crop.nii.gz'), join(cases, 'a.nii.gz'))
  copyFileSync(derived('ct-synthetic-3mm.nii.gz'), join(cases, 'ct.nii.gz'))
  copyFileSync(derived('flipped.nii.gz'), join(cases, 'z.nii.gz'))
  const out = join(tmp, 'batch')
  const r = volseg('segment', cases, '-o', out, '--model', THRESHOLD)
  assert.equal(r.code, 1, 'the refused case makes the exit code 1')
  assert.match(
    r.stderr,
    /case 2\/3 ct: FAILED: .*ct\.nii\.gz: model threshold expects MR, input looks like CT \(.*\); use --force to run anyway/,
  )
  assert.match(r.stdout, /2 done, 0 skipped, 1 failed/)
  assert.ok(existsSync(join(out, 'a_seg.nii.gz')) && existsSync(join(out, 'z_seg.nii.gz')))
  assert.ok(!existsSync(join(out, 'ct_seg.nii.gz')))
  const csv = readFileSync(join(out, 'volseg-report.csv'), 'utf8').trim().split('\n')
  assert.equal(
    csv[0],
    'case,status,input,output,above-mean (mL),provider,seconds,error,input check,input check evidence',
  )
  const row = (id: string): string => csv.find((l) => l.startsWith(`${id},`)) ?? ''
  assert.match(
    row('ct'),
    /^ct,failed,.*,"model threshold expects MR, input looks like CT \(.*\); use --force to run anyway",mismatch,"model threshold expects MR, input looks like CT \(.*\)"$/,
  )
  assert.match(
    row('a'),
    /^a,ok,.*,cpu,\d+\.\d{2},,ok,"0 % of voxels ≤ −500, 100 % in −200\.\.200, integer range 0\.\.\d+"$/,
  )
  const json = JSON.parse(readFileSync(join(out, 'volseg-report.json'), 'utf8')) as BatchReport
  const ct = json.cases.find((c) => c.id === 'ct')!
  assert.equal(ct.error?.code, 'E_MODALITY')
  assert.deepEqual([ct.inputCheck?.ok, ct.inputCheck?.forced], [false, false])
  assert.equal(json.cases.find((c) => c.id === 'a')?.inputCheck?.ok, true)

  // Rerun with --force: the MR masks are skipped (resumable), the CT case runs with a warning.
  const f = volseg('segment', cases, '-o', out, '--model', THRESHOLD, '--force')
  assert.equal(f.code, 0, f.stderr)
  assert.match(
    f.stderr,
    /volseg: warning: .*ct\.nii\.gz: model threshold expects MR, input looks like CT .*running anyway \(--force\)/,
  )
  assert.ok(existsSync(join(out, 'ct_seg.nii.gz')))
  const again = readFileSync(join(out, 'volseg-report.csv'), 'utf8').trim().split('\n')
  assert.match(
    again.find((l) => l.startsWith('ct,')) ?? '',
    /^ct,ok,.*,mismatch, forced|^ct,ok,.*,"mismatch, forced",/,
  )
  assert.match(again.find((l) => l.startsWith('a,')) ?? '', /^a,skipped,/)
})

test('ch2 (MR) with the bundled model: check ok, no warning; --force changes nothing', () => {
  const out = join(tmp, 'ch2_seg.nii.gz')
  const r = volseg('segment', fixture('ch2.nii.gz'), '-o', out, '--json')
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(messages(r.stderr), [])
  const c = (JSON.parse(r.stdout) as BatchReport).cases[0]!
  assert.equal(c.inputCheck?.ok, true)
  assert.equal(c.inputCheck?.forced, false)
  assert.equal(c.inputCheck?.found, 'not CT')
  assert.deepEqual(c.warnings, [])
  // --force changes nothing for an input that fits: the very same mask.
  const forced = join(tmp, 'ch2_forced_seg.nii.gz')
  assert.equal(volseg('segment', fixture('ch2.nii.gz'), '-o', forced, '--force').code, 0)
  const same = python<{ equal: boolean; brain: number }>(
    `import json,sys,nibabel as nib,numpy as np
a=np.asarray(nib.load(sys.argv[1]).dataobj);b=np.asarray(nib.load(sys.argv[2]).dataobj)
print(json.dumps({"equal":bool((a==b).all()),"brain":int(a.sum())}))`,
    [out, forced],
  )
  assert.ok(same.equal)
  const brain = c.labels?.find((l) => l.name === 'brain')
  assert.equal(brain?.voxels, same.brain)
})

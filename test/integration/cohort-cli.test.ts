// `volseg cohort plan` → `segment --manifest --shard k/n` → `cohort report` as a user runs them:
// the real CLI, the forked inference worker with the threshold test pack (the flip catch: the
// lateralised model, models/brain-lateral), real NIfTI files, a
// truncated case, a hostile file name; masks and PNGs read back by nibabel and Pillow.
import assert from 'node:assert/strict'
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { CohortCaseResult, CohortManifest } from '../../src/shared/cohort.js'
import type { CohortReport } from '../../src/shared/cohort-report.js'
import { ROOT, derived, fixture, python, runVolseg, type CliResult } from '../helpers.js'

const PACKS = join(ROOT, 'test', 'tiny-model', 'packs')
const LATERAL = join(ROOT, 'models', 'brain-lateral')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-cohort-cli-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
const volseg = (...args: string[]): CliResult => runVolseg(args, { env })
const HOSTILE = `<img src=x onerror="alert('1')">&.nii.gz`

/** A folder of cases: ch2-crop, ch2 reoriented, a truncated file, a hostile name, a qform/sform clash. */
function makeData(dir: string): void {
  mkdirSync(dir, { recursive: true })
  copyFileSync(derived('ch2-crop.nii.gz'), join(dir, 'a.nii.gz'))
  copyFileSync(derived('flipped.nii.gz'), join(dir, 'b.nii.gz'))
  copyFileSync(derived('oblique.nii.gz'), join(dir, HOSTILE))
  // qform and sform 5 mm apart: the reader warns, the report flags it.
  copyFileSync(derived('qform-sform-differ.nii.gz'), join(dir, 'z-qs.nii.gz'))
  writeFileSync(join(dir, 'trunc.nii.gz'), readFileSync(fixture('ch2.nii.gz')).subarray(0, 200_000))
}

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T

/** The parts of a report that must not depend on how the cohort was sharded. */
function essence(r: CohortReport): unknown {
  return r.cases.map((c) => ({
    id: c.id,
    status: c.status,
    volumesMl: c.volumesMl,
    meanEntropy: c.meanEntropy,
    qc: c.qc,
    error: c.error,
  }))
}

test('plan, two shards, resume, retry, report; equals a one-process run', () => {
  const data = join(tmp, 'data')
  makeData(data)
  const cohort = join(tmp, 'cohort')
  const thr = join(PACKS, 'threshold')
  let r = volseg('cohort', 'plan', data, '--shards', '2', '-o', cohort, '--model', thr)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /planned 5 cases in 2 shard\(s\) with threshold/)
  const m = readJson<CohortManifest>(join(cohort, 'manifest.json'))
  assert.deepEqual(
    m.cases.map((c) => c.id),
    ['_img_src_x_onerror__alert__1_____', 'a', 'b', 'trunc', 'z-qs'],
  )
  const sha = python<string[]>(
    `
import hashlib, json, sys
print(json.dumps([hashlib.sha256(open(p, "rb").read()).hexdigest() for p in sys.argv[1:]]))
`,
    m.cases.map((c) => c.input[0]!),
  )
  assert.deepEqual(
    m.cases.map((c) => c.inputSha256),
    sha,
  )
  const card = readJson<{ sha256: string }>(join(thr, 'model.json'))
  assert.equal(m.model.sha256, card.sha256)
  // A second plan does not overwrite the first.
  r = volseg('cohort', 'plan', data, '--shards', '2', '-o', cohort, '--model', thr)
  assert.equal(r.code, 1)
  assert.match(r.stderr, /manifest\.json: a manifest exists; pass --overwrite/)

  const s1 = volseg('segment', '--manifest', join(cohort, 'manifest.json'), '--shard', '1/2')
  assert.equal(s1.code, 0, s1.stderr)
  assert.match(s1.stdout, /shard 1\/2: 3 done, 0 skipped, 0 failed/)
  const s2 = volseg('segment', '--manifest', join(cohort, 'manifest.json'), '--shard', '2/2')
  assert.equal(s2.code, 1, 'a failed case makes the exit code 1')
  assert.match(s2.stdout, /shard 2\/2: 1 done, 0 skipped, 1 failed \(1 retried\)/)
  assert.match(s2.stderr, /trunc: failed \(retry\): .*trunc\.nii\.gz: .*truncated/)
  const failed = readJson<CohortCaseResult>(join(cohort, 'results', 'trunc.json'))
  assert.equal(failed.status, 'failed')
  assert.equal(failed.attempts, 2)
  assert.equal(failed.shard, '2/2')
  assert.equal(failed.report.error?.code, 'E_TRUNCATED')
  const log = readFileSync(join(cohort, 'logs', 'trunc.log'), 'utf8')
  assert.match(log, /--- attempt 2 \(retry\) ---/)
  const okA = readJson<CohortCaseResult>(join(cohort, 'results', 'a.json'))
  assert.equal(okA.status, 'ok')
  assert.equal(okA.provider, 'cpu')
  assert.equal(okA.inputSha256, sha[1])
  // The mask on the exact source grid (nibabel): = (x > mean), the threshold pack's rule.
  const mk = python<{ differ: number; affine: number }>(
    `
import json, sys, nibabel as nib, numpy as np
s = nib.load(sys.argv[1]); k = nib.load(sys.argv[2]); x = np.asarray(s.dataobj, dtype=np.float64)
print(json.dumps({"differ": int(((x > x.mean()).astype(np.uint8) != np.asarray(k.dataobj)).sum()),
                  "affine": float(np.abs(s.affine - k.affine).max())}))
`,
    [join(data, 'a.nii.gz'), join(cohort, 'masks', 'a_seg.nii.gz')],
  )
  assert.equal(mk.differ, 0)
  assert.ok(mk.affine < 1e-4)

  // Rerun: the finished cases are skipped (same hashes); the failed one is tried again.
  r = volseg('segment', '--manifest', join(cohort, 'manifest.json'), '--shard', '1/2')
  assert.match(r.stdout, /0 done, 3 skipped, 0 failed/)
  // A changed input is segmented again, even though its mask exists.
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'b.nii.gz'))
  r = volseg('segment', '--manifest', join(cohort, 'manifest.json'), '--shard', '1/2')
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /1 done, 2 skipped, 0 failed/)
  assert.match(r.stderr, /b: ok/)
  const b = readJson<CohortCaseResult>(join(cohort, 'results', 'b.json'))
  assert.equal(b.inputSha256, sha[1], 'b now holds a.nii.gz bytes')

  r = volseg('cohort', 'report', cohort)
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /5 cases: 4 ok, 1 failed, 0 pending/)
  const rep = readJson<CohortReport>(join(cohort, 'report.json'))
  assert.equal(rep.cases[0]!.id, 'trunc', 'worst first: the failed case')
  assert.equal(rep.cases[0]!.status, 'failed')
  assert.match(rep.cases[0]!.error!, /truncated/)
  const a = rep.cases.find((c) => c.id === 'a')!
  // The volume in mL from nibabel: voxels above the mean × voxel volume.
  const ml = python<number>(
    `
import json, sys, nibabel as nib, numpy as np
s = nib.load(sys.argv[1]); x = np.asarray(s.dataobj, dtype=np.float64)
print(json.dumps(float((x > x.mean()).sum() * np.prod(s.header.get_zooms()[:3]) / 1000)))
`,
    [join(data, 'a.nii.gz')],
  )
  assert.ok(
    Math.abs(a.volumesMl['above-mean']! - ml) < 1e-6,
    `${a.volumesMl['above-mean']} vs ${ml}`,
  )
  assert.ok(a.meanEntropy! > 0 && a.meanEntropy! < 1)
  const csv = readFileSync(join(cohort, 'report.csv'), 'utf8').split('\n')
  assert.match(csv[0]!, /^case,status,qc score,qc flags,above-mean \(mL\)/)
  assert.equal(csv.filter((l) => l !== '').length, 6)
  const qs = rep.cases.find((c) => c.id === 'z-qs')!
  assert.deepEqual(
    qs.qc.map((f) => f.code),
    ['geometry'],
  )
  assert.match(qs.qc[0]!.message, /qform and sform disagree by up to 5\.00 mm/)

  // HTML: self-contained, escaped, one PNG per finished case that Pillow reads.
  const html = readFileSync(join(cohort, 'report.html'), 'utf8')
  assert.ok(!html.includes('<img src=x'), 'the hostile file name is escaped')
  assert.ok(html.includes('&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;'))
  assert.ok(!/(src|href)=["']?(https?:|\/\/)/i.test(html), 'no external resource')
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;/)
  const pngs = [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((x) => x[1]!)
  assert.equal(pngs.length, 4)
  const dir = join(tmp, 'png')
  mkdirSync(dir)
  pngs.forEach((p, i) => writeFileSync(join(dir, `${i}.png`), Buffer.from(p, 'base64')))
  const sizes = python<number[][]>(
    `
import json, sys, glob
from PIL import Image
print(json.dumps([list(Image.open(p).size) for p in sorted(glob.glob(sys.argv[1] + "/*.png"))]))
`,
    [dir],
  )
  assert.ok(
    sizes.every((s) => s[0]! > 50 && s[1]! > 50),
    JSON.stringify(sizes),
  )

  // The same cohort in one process (no --shard) gives the same report.
  const one = join(tmp, 'one')
  r = volseg('cohort', 'plan', data, '--shards', '1', '-o', one, '--model', thr)
  assert.equal(r.code, 0, r.stderr)
  r = volseg('segment', '--manifest', join(one, 'manifest.json'))
  assert.equal(r.code, 1)
  assert.match(r.stdout, /shard 1\/1: 4 done, 0 skipped, 1 failed/)
  r = volseg('cohort', 'report', one)
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(essence(readJson<CohortReport>(join(one, 'report.json'))), essence(rep))
})

test('a report with shards still to run lists their cases as pending; bad manifest named', () => {
  const data = join(tmp, 'data2')
  mkdirSync(data)
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'x.nii.gz'))
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'y.nii.gz'))
  const cohort = join(tmp, 'cohort2')
  let r = volseg(
    'cohort',
    'plan',
    data,
    '--shards',
    '2',
    '-o',
    cohort,
    '--model',
    join(PACKS, 'threshold'),
  )
  assert.equal(r.code, 0, r.stderr)
  r = volseg('segment', '--manifest', join(cohort, 'manifest.json'), '--shard', '2/2')
  assert.equal(r.code, 0, r.stderr)
  r = volseg('cohort', 'report', cohort, '--json')
  assert.equal(r.code, 0, r.stderr)
  const rep = JSON.parse(r.stdout) as CohortReport
  assert.deepEqual(
    rep.cases.map((c) => [c.id, c.status]),
    [
      ['x', 'pending'],
      ['y', 'ok'],
    ],
  )
  assert.deepEqual(rep.cases[1]!.review, { status: 'pending' })
  // A review saved beside a mask (as the viewer writes it) comes back into the report; the newest
  // of the case's reviews wins, and reviewed cases go after those still to review.
  const review = (savedAt: string, status: string, reason?: string): string =>
    JSON.stringify({
      format: 'volseg-review',
      version: 1,
      mask: 'y_seg.nii.gz',
      savedAt,
      review: {
        updatedAt: savedAt,
        labels: [
          {
            value: 1,
            name: 'above-mean',
            colourRGB: [1, 2, 3],
            status,
            ...(reason ? { reason } : {}),
          },
        ],
      },
    })
  writeFileSync(
    join(cohort, 'masks', 'y_seg.review.json'),
    review('2026-01-01T00:00:00Z', 'accepted'),
  )
  writeFileSync(
    join(cohort, 'masks', 'y_seg-2.review.json'),
    review('2026-01-02T00:00:00Z', 'rejected', 'leaks into the skull'),
  )
  writeFileSync(
    join(cohort, 'masks', 'y_seg-x.review.json'),
    review('2027-01-01T00:00:00Z', 'accepted'),
  )
  r = volseg('cohort', 'report', cohort, '--json')
  assert.equal(r.code, 0, r.stderr)
  const rev = (JSON.parse(r.stdout) as CohortReport).cases.find((c) => c.id === 'y')!.review
  assert.deepEqual(rev, {
    status: 'rejected',
    file: 'masks/y_seg-2.review.json',
    savedAt: '2026-01-02T00:00:00Z',
    reasons: ['leaks into the skull'],
  })
  assert.match(
    readFileSync(join(cohort, 'report.csv'), 'utf8'),
    /,rejected,masks\/y_seg-2\.review\.json,/,
  )
  // A manifest pointing outside the cohort folder is refused, naming it.
  const bad = join(tmp, 'bad')
  cpSync(cohort, bad, { recursive: true })
  const m = readJson<CohortManifest & { cases: { output: string }[] }>(join(bad, 'manifest.json'))
  m.cases[0]!.output = '../../escape_seg.nii.gz'
  writeFileSync(join(bad, 'manifest.json'), JSON.stringify(m))
  r = volseg('segment', '--manifest', join(bad, 'manifest.json'), '--shard', '1/2')
  assert.equal(r.code, 1)
  assert.match(r.stderr, /bad\/manifest\.json: not a VolSeg cohort manifest: cases\[0\]\.output/)
  assert.ok(!existsSync(join(tmp, 'escape_seg.nii.gz')))
  // A model that is not the planned one is refused before any case is written.
  const other = join(tmp, 'cohort3')
  cpSync(cohort, other, { recursive: true })
  const m3 = readJson<CohortManifest & { model: { ref: string } }>(join(other, 'manifest.json'))
  m3.model.ref = join(PACKS, 'tiny-unet')
  writeFileSync(join(other, 'manifest.json'), JSON.stringify(m3))
  rmSync(join(other, 'results'), { recursive: true })
  r = volseg('segment', '--manifest', join(other, 'manifest.json'), '--shard', '1/2')
  assert.equal(r.code, 1)
  assert.match(r.stderr, /is not the one the manifest was planned with/)
  assert.ok(!existsSync(join(other, 'results', 'x.json')))
})

test('the flip catch with the lateralised model: ch2 mirrored in storage under its header is flagged wrong-side', () => {
  // models/brain-lateral tells the hemispheres apart by the brain's own asymmetry (it was trained
  // with flips that keep the labels on the anatomy), so voxels mirrored along i under an
  // unchanged RAS header reach it as a mirrored brain and its left hemisphere lands on what the
  // header calls the patient's right. ch2 as stored and ch2 reoriented to P-I-L (a correct
  // header) must pass.
  const data = join(tmp, 'lr-data')
  mkdirSync(data)
  python<string>(
    `
import json, sys, nibabel as nib, numpy as np
from nibabel.orientations import axcodes2ornt, ornt_transform
src = nib.load(sys.argv[1]); x = np.asarray(src.dataobj)
nib.save(nib.Nifti1Image(x, src.affine, src.header), sys.argv[2] + "/good.nii.gz")
nib.save(nib.Nifti1Image(x[::-1].copy(), src.affine, src.header), sys.argv[2] + "/mirrored.nii.gz")
pil = src.as_reoriented(ornt_transform(axcodes2ornt(("R", "A", "S")), axcodes2ornt(("P", "I", "L"))))
nib.save(pil, sys.argv[2] + "/pil.nii.gz")
print(json.dumps("ok"))
`,
    [fixture('ch2.nii.gz'), data],
  )
  const cohort = join(tmp, 'lr-cohort')
  let r = volseg('cohort', 'plan', data, '-o', cohort, '--model', LATERAL, '--no-uncertainty')
  assert.equal(r.code, 0, r.stderr)
  r = volseg('segment', '--manifest', join(cohort, 'manifest.json'))
  assert.equal(r.code, 0, r.stderr)
  r = volseg('cohort', 'report', cohort, '--json')
  assert.equal(r.code, 0, r.stderr)
  const rep = JSON.parse(r.stdout) as CohortReport
  assert.deepEqual(rep.labels, [
    { value: 1, name: 'left cerebral hemisphere', side: 'left' },
    { value: 2, name: 'right cerebral hemisphere', side: 'right' },
    { value: 3, name: 'cerebellum and brainstem' },
  ])
  const byId = (id: string): CohortReport['cases'][number] => rep.cases.find((c) => c.id === id)!
  const offsets = Object.fromEntries(
    rep.cases.map((c) => [
      c.id,
      ['left', 'right'].map(
        (s) => c.centroidsLPS[`${s} cerebral hemisphere`]![0] - c.bodyCentroidLPS![0],
      ),
    ]),
  )
  process.stderr.write(
    `# LPS x of left, right hemisphere from the head's centre: ${JSON.stringify(offsets)}\n`,
  )
  assert.deepEqual(byId('good').qc, [])
  assert.deepEqual(byId('pil').qc, [])
  const mirrored = byId('mirrored')
  assert.deepEqual(
    mirrored.qc.map((f) => [f.code, f.label]),
    [
      ['wrong-side', 'left cerebral hemisphere'],
      ['wrong-side', 'right cerebral hemisphere'],
    ],
  )
  assert.match(mirrored.qc[0]!.message, /left cerebral hemisphere lies on the patient's right/)
  assert.equal(rep.cases[0]!.id, 'mirrored', 'the flip heads the worklist')
  // LPS +x is the patient's left: the good case's left hemisphere lies well to +x of the head's
  // centre, the mirrored case's well to -x (not a midline toss-up).
  for (const id of ['good', 'pil']) {
    assert.ok(offsets[id]![0]! > 10 && offsets[id]![1]! < -10, `${id}: ${offsets[id]!.join(', ')}`)
  }
  assert.ok(offsets['mirrored']![0]! < -10 && offsets['mirrored']![1]! > 10)
})

test('--case-timeout: a case over the limit fails with E_TIMEOUT, the others finish', () => {
  const data = join(tmp, 'slow-data')
  mkdirSync(data)
  copyFileSync(fixture('ch2.nii.gz'), join(data, 'big.nii.gz')) // ~45 s with tiny-unet here
  python<string>(
    `
import json, sys, nibabel as nib, numpy as np
s = nib.load(sys.argv[1]); x = np.asarray(s.dataobj)[70:102, 90:122, 70:102]
nib.save(nib.Nifti1Image(x, s.affine, s.header), sys.argv[2])
print(json.dumps("ok"))
`,
    [fixture('ch2.nii.gz'), join(data, 'small.nii.gz')], // 32³: one tile, about a second
  )
  const cohort = join(tmp, 'slow-cohort')
  let r = volseg(
    'cohort',
    'plan',
    data,
    '-o',
    cohort,
    '--model',
    join(PACKS, 'tiny-unet'),
    '--no-uncertainty',
  )
  assert.equal(r.code, 0, r.stderr)
  const t0 = Date.now()
  r = volseg('segment', '--manifest', join(cohort, 'manifest.json'), '--case-timeout', '8')
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stdout, /shard 1\/1: 1 done, 0 skipped, 1 failed \(1 retried\)/)
  assert.ok(Date.now() - t0 < 40_000, `took ${Date.now() - t0} ms`)
  const big = readJson<CohortCaseResult>(join(cohort, 'results', 'big.json'))
  assert.equal(big.status, 'failed')
  assert.equal(big.report.error?.code, 'E_TIMEOUT')
  assert.match(big.report.error!.message, /longer than --case-timeout 8 s/)
  assert.ok(!existsSync(join(cohort, 'masks', 'big_seg.nii.gz')))
  assert.equal(readJson<CohortCaseResult>(join(cohort, 'results', 'small.json')).status, 'ok')
  r = volseg('segment', '--manifest', join(cohort, 'manifest.json'), '--case-timeout', '0')
  assert.match(r.stderr, /--case-timeout must be a positive number/)
})

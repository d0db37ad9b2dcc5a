// `volseg segment` and `volseg models` as a user runs them: real files, the forked inference
// worker, masks re-read by nibabel against the source geometry.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { MaskVerification } from '../../src/shared/mask-verification.js'
import {
  ROOT,
  derived,
  farOriginNrrd,
  fixture,
  python,
  runVolseg,
  type CliResult,
} from '../helpers.js'

const BIN = join(ROOT, 'bin', 'volseg.mjs')
const PACKS = join(ROOT, 'test', 'tiny-model', 'packs')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-seg-cli-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }

const volseg = (...args: string[]): CliResult => runVolseg(args, { env })

// nibabel oracle: the mask's affine equals the source's, and mask == (source > mean).
const ORACLE = `
import hashlib, json, sys, nibabel as nib, numpy as np
src = nib.load(sys.argv[1]); m = nib.load(sys.argv[2])
x = np.asarray(src.dataobj, dtype=np.float64)
want = (x > x.mean()).astype(np.uint8)
got = np.asarray(m.dataobj)
print(json.dumps({
  "sha256": hashlib.sha256(got.astype(got.dtype.newbyteorder("<")).tobytes(order="F")).hexdigest(),
  "affineDiff": float(np.abs(src.affine - m.affine).max()),
  "shapeSame": list(src.shape) == list(m.shape),
  "dtype": str(got.dtype),
  "differ": int((want != got).sum()),
  "qform": int(m.header["qform_code"]), "sform": int(m.header["sform_code"]),
}))
`

test('segment one file: mask on the exact source grid, uncertainty map, JSON report', () => {
  const out = join(tmp, 'one', 'flipped_seg.nii.gz')
  const unc = join(tmp, 'one', 'flipped_unc.nii.gz')
  const src = derived('flipped.nii.gz')
  const r = volseg(
    'segment',
    src,
    '-o',
    out,
    '--model',
    join(PACKS, 'threshold'),
    '--uncertainty',
    unc,
    '--json',
  )
  assert.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout) as {
    model: { provider: string; device: string; attempts: unknown[] }
    cases: {
      status: string
      labels: { name: string; voxels: number; volumeMl: number }[]
      timingsMs: Record<string, number>
      sizeIJK: number[]
      verification: MaskVerification
      uncertaintyVerification: MaskVerification
    }[]
  }
  assert.equal(report.cases[0]?.status, 'ok')
  // The report says what the re-read of each written file compared.
  const grid = report.cases[0].sizeIJK.reduce((a, b) => a * b, 1)
  for (const ver of [report.cases[0].verification, report.cases[0].uncertaintyVerification]) {
    assert.equal(ver.reread, 'nifti')
    assert.equal(ver.voxelsCompared, grid)
    assert.equal(ver.voxelsEqual, grid)
    assert.ok(ver.geometryMaxErrorMm <= 1e-4, `${ver.geometryMaxErrorMm}`)
  }
  assert.ok(report.model.device.length > 0)
  for (const k of ['read', 'preprocess', 'inference', 'postprocess', 'write']) {
    assert.ok((report.cases[0]?.timingsMs[k] ?? -1) >= 0, k)
  }
  const o = python<{
    affineDiff: number
    shapeSame: boolean
    dtype: string
    differ: number
    qform: number
    sform: number
    sha256: string
  }>(ORACLE, [src, out])
  assert.ok(o.affineDiff < 1e-4, `affine differs by ${o.affineDiff}`)
  assert.ok(o.shapeSame)
  assert.equal(o.dtype, 'uint8')
  assert.equal(o.differ, 0)
  assert.equal(report.cases[0].verification.voxelSha256, o.sha256)
  const fg = report.cases[0]?.labels.find((l) => l.name === 'above-mean')
  assert.ok(fg && fg.voxels > 0 && Math.abs(fg.volumeMl - fg.voxels / 1000) < 1e-9) // 1 mm voxels
  const u = python<{ min: number; max: number; affineDiff: number }>(
    `import json,sys,nibabel as nib,numpy as np
a=nib.load(sys.argv[1]);b=nib.load(sys.argv[2]);d=np.asarray(b.dataobj)
print(json.dumps({"min":float(d.min()),"max":float(d.max()),"affineDiff":float(np.abs(a.affine-b.affine).max())}))`,
    [src, unc],
  )
  assert.ok(u.min >= 0 && u.max <= 1 && u.max > 0.5, JSON.stringify(u))
  assert.ok(u.affineDiff < 1e-4)
})

test('batch over a folder: one bad case is reported, the rest written; rerun skips; shards partition', () => {
  const cases = join(tmp, 'cases')
  mkdirSync(cases)
  copyFileSync(fixture('ch2.nii.gz'), join(cases, 'a.nii.gz'))
  copyFileSync(derived('ch2-crop.nii.gz'), join(cases, 'b.nii.gz'))
  copyFileSync(derived('oblique.nii.gz'), join(cases, 'c.nii.gz'))
  writeFileSync(
    join(cases, 'broken.nii.gz'),
    readFileSync(derived('ch2-crop.nii.gz')).subarray(0, 5000),
  )
  const out = join(tmp, 'out')
  const r = volseg('segment', cases, '-o', out, '--model', join(PACKS, 'threshold'))
  assert.equal(r.code, 1, 'a failed case makes the exit code 1')
  assert.match(r.stderr, /broken: FAILED: .*broken\.nii\.gz: /)
  assert.match(r.stdout, /3 done, 0 skipped, 1 failed/)
  for (const id of ['a', 'b', 'c']) assert.ok(existsSync(join(out, `${id}_seg.nii.gz`)), id)
  assert.ok(!existsSync(join(out, 'broken_seg.nii.gz')))
  const csv = readFileSync(join(out, 'volseg-report.csv'), 'utf8').trim().split('\n')
  assert.equal(
    csv[0],
    'case,status,input,output,above-mean (mL),provider,seconds,error,input check,input check evidence',
  )
  assert.equal(csv.length, 5)
  assert.match(
    csv.find((l) => l.startsWith('broken,')) ?? '',
    /^broken,failed,.*truncat|^broken,failed,/,
  )
  assert.match(csv.find((l) => l.startsWith('b,')) ?? '', /^b,ok,.*,\d+\.\d{3},cpu,/)
  const o = python<{ differ: number; affineDiff: number }>(ORACLE, [
    join(cases, 'c.nii.gz'),
    join(out, 'c_seg.nii.gz'),
  ])
  assert.equal(o.differ, 0)
  assert.ok(o.affineDiff < 1e-4)

  // Resumable: existing masks are skipped, untouched.
  const before = statSync(join(out, 'a_seg.nii.gz')).mtimeMs
  const again = volseg('segment', cases, '-o', out, '--model', join(PACKS, 'threshold'), '--json')
  const rep = JSON.parse(again.stdout) as { cases: { id: string; status: string }[] }
  assert.deepEqual(
    rep.cases.map((c) => `${c.id}:${c.status}`),
    ['a:skipped', 'b:skipped', 'broken:failed', 'c:skipped'],
  )
  assert.equal(statSync(join(out, 'a_seg.nii.gz')).mtimeMs, before)

  // Shards: 1/2 and 2/2 cover every case exactly once.
  const ids = (k: string): string[] => {
    const s = volseg(
      'segment',
      cases,
      '-o',
      join(tmp, `shard${k}`),
      '--model',
      join(PACKS, 'threshold'),
      '--shard',
      `${k}/2`,
      '--json',
    )
    return (JSON.parse(s.stdout) as { cases: { id: string }[] }).cases.map((c) => c.id)
  }
  const s1 = ids('1')
  const s2 = ids('2')
  assert.deepEqual([...s1, ...s2].sort(), ['a', 'b', 'broken', 'c'])
  assert.equal(s1.length, 2)
  assert.ok(existsSync(join(tmp, 'shard1', 'volseg-report-shard-1-of-2.csv')))
})

test('segment a DICOM folder: mask on the DICOM grid, same voxels as the NIfTI it came from', () => {
  const out = join(tmp, 'dicom_seg.nii.gz')
  const dir = derived('dicom', 'ch2-crop')
  const r = volseg('segment', dir, '-o', out, '--model', join(PACKS, 'threshold'), '--json')
  assert.equal(r.code, 0, r.stderr)
  const info = JSON.parse(volseg('info', dir, '--json').stdout) as { affineRAS: number[] }
  const m = python<{ affine: number[]; fg: number; want: number }>(
    `import json,sys,nibabel as nib,numpy as np
m=nib.load(sys.argv[1]); src=np.asarray(nib.load(sys.argv[2]).dataobj,dtype=np.float64)
print(json.dumps({"affine":m.affine.ravel().tolist(),"fg":int(np.asarray(m.dataobj).sum()),"want":int((src>src.mean()).sum())}))`,
    [out, derived('ch2-crop.nii.gz')],
  )
  m.affine.forEach((x, k) =>
    assert.ok(Math.abs(x - (info.affineRAS[k] as number)) < 1e-4, `affine[${k}]`),
  )
  assert.equal(m.fg, m.want)
})

test('segment refuses to overwrite its input and explains bad arguments', () => {
  const src = join(tmp, 'x.nii.gz')
  copyFileSync(derived('ch2-crop.nii.gz'), src)
  const r = volseg('segment', src, '-o', src, '--model', join(PACKS, 'threshold'), '--overwrite')
  assert.equal(r.code, 1)
  assert.match(r.stderr, /refusing to overwrite an input/)
  assert.match(
    volseg('segment', src, '-o', join(tmp, 'y.nii.gz'), '--ep', 'tpu').stderr,
    /--ep must be one of/,
  )
  assert.match(
    volseg('segment', src, '-o', join(tmp, 'y.nii.gz'), '--model', 'nope').stderr,
    /no model pack "nope"/,
  )
  assert.match(
    volseg('segment', src, '-o', join(tmp, 'shardout'), '--shard', '3/2').stderr,
    /--shard must be k\/n/,
  )
  const cuda = volseg(
    'segment',
    src,
    '-o',
    join(tmp, 'y.nii.gz'),
    '--model',
    join(PACKS, 'threshold'),
    '--ep',
    'cuda',
  )
  assert.equal(cuda.code, 1)
  assert.match(
    cuda.stderr,
    /^volseg: provider cuda is not available: the CUDA provider is not installed/,
  )
})

test('a mask whose re-read does not match fails the case with E_VERIFY; the text names it', () => {
  // A float64 NRRD origin NIfTI-1 float32 cannot hold: 12345.678 mm is stored 2.7e-4 mm off.
  const voxels = Uint8Array.from({ length: 16 ** 3 }, (_, i) => (i * 37) % 251)
  const src = join(tmp, 'far.nrrd')
  writeFileSync(src, farOriginNrrd([16, 16, 16], voxels))
  const out = join(tmp, 'far', 'far_seg.nii.gz')
  const r = volseg('segment', src, '-o', out, '--model', join(PACKS, 'threshold'))
  assert.equal(r.code, 1)
  assert.match(
    r.stderr,
    /^volseg: .*far_seg\.nii\.gz: the written mask did not re-read as written: its affine differs by 2\.66e-4 mm/m,
  )
  assert.ok(!existsSync(out))
  const json = volseg('segment', src, '-o', out, '--model', join(PACKS, 'threshold'), '--json')
  const rep = JSON.parse(json.stdout) as { cases: { status: string; error: { code: string } }[] }
  assert.equal(rep.cases[0]?.status, 'failed')
  assert.equal(rep.cases[0]?.error.code, 'E_VERIFY')
})

test('models add installs a validated pack; models lists it with its card', () => {
  const add = volseg('models', 'add', join(PACKS, 'tiny-unet'))
  assert.equal(add.code, 0, add.stderr)
  assert.match(add.stdout, /installed tiny-unet 0\.1\.0/)
  assert.match(volseg('models', 'add', join(PACKS, 'tiny-unet')).stderr, /already installed/)
  const list = JSON.parse(volseg('models', '--json').stdout) as {
    packs: { id: string; card: { intendedUse: string } }[]
    providers: { id: string; available: boolean }[]
  }
  assert.ok(list.packs.some((p) => p.id === 'tiny-unet'))
  assert.ok(list.providers.find((p) => p.id === 'cpu')?.available)
  const text = volseg('models').stdout
  assert.match(text, /tiny-unet 0\.1\.0/)
  assert.match(text, /intended use: Test model/)
  // The installed pack runs by id.
  const out = join(tmp, 'byid.nii.gz')
  const r = volseg('segment', derived('ch2-crop.nii.gz'), '-o', out, '--model', 'tiny-unet')
  assert.equal(r.code, 0, r.stderr)
})

test('Ctrl-C cancels a running segmentation within a tile and writes nothing', async () => {
  const out = join(tmp, 'cancel.nii.gz')
  const child = spawn(
    process.execPath,
    [
      BIN,
      'segment',
      fixture('ch2.nii.gz'),
      '-o',
      out,
      '--model',
      join(PACKS, 'tiny-unet'),
      '--tta',
    ],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  // Wait until the model is loaded (the worker announces it), then interrupt.
  const started = Date.now()
  while (!/model tiny-unet/.test(stderr) && Date.now() - started < 60_000) {
    await new Promise((r) => setTimeout(r, 100))
  }
  await new Promise((r) => setTimeout(r, 500))
  const t0 = Date.now()
  child.kill('SIGINT')
  const code = await new Promise<number | null>((r) => child.once('exit', r))
  const ms = Date.now() - t0
  assert.equal(code, 1)
  assert.match(stderr, /cancelling/)
  assert.match(stderr, /volseg: .*cancelled/)
  assert.ok(ms < 20_000, `took ${ms} ms`)
  assert.ok(!existsSync(out))
})

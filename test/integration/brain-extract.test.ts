// The bundled brain-extraction model as a user runs it (`volseg segment ch2 -o mask`, default
// model), scored against the reference by the training recipe's own definition (largest
// component of ch2bet > 0, holes filled; models/training/make_label_maps.py), plus the CPU
// smoke run of the whole recipe: label maps -> a few training steps -> export -> the app runs it.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { ROOT, fixture, python } from '../helpers.js'

const BIN = join(ROOT, 'bin', 'volseg.mjs')
const PACK = join(ROOT, 'models', 'brain-extract')
const TRAINING = join(ROOT, 'models', 'training')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-brain-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }

/**
 * Regression floor for ch2 Dice through the app. The committed model is the CPU-trained one
 * (measured 0.8975 by models/training/evaluate.py); the goal, 0.97 (floor 0.95), needs
 * the GPU training run — raise this when that model lands.
 */
const DICE_FLOOR = 0.88

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, env, cwd: ROOT })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

const DICE = `
import json, sys
sys.path.insert(0, sys.argv[1])
import nibabel as nib, numpy as np
import make_label_maps as mlm
ref = mlm.reference_mask(np.asarray(nib.load(mlm.CH2BET).dataobj))
src = nib.load(sys.argv[2]); m = nib.load(sys.argv[3])
got = np.asarray(m.dataobj)
brain = got == 1
print(json.dumps({
  "dice": float(2 * (brain & ref).sum() / (brain.sum() + ref.sum())),
  "affineDiff": float(np.abs(src.affine - m.affine).max()),
  "shapeSame": list(src.shape) == list(m.shape),
  "values": sorted(int(v) for v in np.unique(got)),
}))
`

interface Score {
  dice: number
  affineDiff: number
  shapeSame: boolean
  values: number[]
}

test('the bundled model: card sha256 matches, size within 10 MB, default for segment', () => {
  const card = JSON.parse(readFileSync(join(PACK, 'model.json'), 'utf8')) as {
    id: string
    sha256: string
    modality: string
    intendedUse: string
  }
  const bytes = readFileSync(join(PACK, 'model.onnx'))
  assert.equal(createHash('sha256').update(bytes).digest('hex'), card.sha256)
  assert.ok(bytes.length <= 10 * 1024 * 1024, `${bytes.length} bytes`)
  assert.equal(card.id, 'brain-extract')
  assert.equal(card.modality, 'MR')
  assert.match(card.intendedUse, /T1-weighted/)
  const listed = JSON.parse(run(process.execPath, [BIN, 'models', '--json'])) as {
    packs: { id: string }[]
    problems: { dir: string }[]
  }
  assert.ok(listed.packs.some((p) => p.id === 'brain-extract'))
  // models/training, architectures and export hold recipes, not packs: no "broken pack" for them.
  assert.deepEqual(listed.problems, [])
})

test(`volseg segment ch2 with the default model: Dice ≥ ${DICE_FLOOR} on the source grid`, () => {
  const mask = join(tmp, 'ch2_seg.nii.gz')
  run(process.execPath, [BIN, 'segment', fixture('ch2.nii.gz'), '-o', mask])
  const s = python<Score>(DICE, [TRAINING, fixture('ch2.nii.gz'), mask])
  assert.ok(s.shapeSame)
  assert.ok(s.affineDiff < 1e-5, `affine differs by ${s.affineDiff}`)
  assert.deepEqual(s.values, [0, 1])
  assert.ok(s.dice >= DICE_FLOOR, `Dice ${s.dice.toFixed(4)} < ${DICE_FLOOR}`)
})

test('training recipe smoke run on the CPU: label maps, 4 steps, export, the app runs it', () => {
  const py = '/usr/bin/python3'
  run(py, [join(TRAINING, 'make_label_maps.py')])
  const out = join(tmp, 'run')
  const log = run(py, [
    join(TRAINING, 'train.py'),
    '--preset',
    'smoke',
    '--steps',
    '4',
    '--out',
    out,
  ])
  assert.match(log, /done: 4 steps/)
  const csv = readFileSync(join(out, 'log.csv'), 'utf8').trim().split('\n')
  assert.equal(csv[0], 'step,seconds,lr,loss,train_dice,val_dice')
  assert.equal(csv.length, 3) // validation every 2 steps
  assert.equal(readFileSync(join(out, 'curve.png')).subarray(1, 4).toString(), 'PNG')
  const pack = join(tmp, 'smoke-pack')
  run(py, [join(TRAINING, 'export.py'), join(out, 'best.pt'), pack, '--id', 'smoke-pack'])
  const mask = join(tmp, 'smoke_seg.nii.gz')
  run(process.execPath, [BIN, 'segment', fixture('ch2.nii.gz'), '-o', mask, '--model', pack])
  const s = python<Score>(DICE, [TRAINING, fixture('ch2.nii.gz'), mask])
  assert.ok(s.shapeSame && s.affineDiff < 1e-5)
})

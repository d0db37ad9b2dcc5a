// `volseg models import monai|nnunet` on the project's importer fixtures (real bundle and plans
// formats), with a small ONNX graph of the right interface made by test/tiny-model/make-conv-onnx.ts;
// the installed pack then runs in `volseg segment`.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { stringify } from 'yaml'
import type { ModelCard } from '../../src/shared/model-card.js'
import { ROOT, derived, fixture, python, runVolseg, type CliResult } from '../helpers.js'
import { makeConvOnnx } from '../tiny-model/make-conv-onnx.js'

const EXPORT = join(ROOT, 'models', 'export', 'monai_to_onnx.py')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-import-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const home = join(tmp, 'home')
const env = { ...process.env, VOLSEG_HOME: home, VOLSEG_MODELS: '' }
const volseg = (...args: string[]): CliResult => runVolseg(args, { env })
const readCard = (id: string): ModelCard =>
  JSON.parse(readFileSync(join(home, 'models', id, 'model.json'), 'utf8')) as ModelCard

test('MONAI bundle with inference.yaml: imported, installed, segments a CT', () => {
  const bundle = join(tmp, 'spleen_ct_segmentation')
  mkdirSync(join(bundle, 'configs'), { recursive: true })
  mkdirSync(join(bundle, 'models'))
  copyFileSync(
    fixture('importers', 'monai-spleen-metadata.json'),
    join(bundle, 'configs', 'metadata.json'),
  )
  const inference = JSON.parse(
    readFileSync(fixture('importers', 'monai-spleen-inference.json'), 'utf8'),
  ) as unknown
  writeFileSync(join(bundle, 'configs', 'inference.yaml'), stringify(inference))
  writeFileSync(join(bundle, 'models', 'model.onnx'), makeConvOnnx({ classes: 2 }))
  // The spleen bundle names a copyright but no licence: the error names the flag to pass.
  let r = volseg('models', 'import', 'monai', bundle)
  assert.equal(r.code, 1)
  assert.match(r.stderr, /metadata\.json has no licence .*pass --licence/)
  r = volseg('models', 'import', 'monai', bundle, '--licence', 'Apache-2.0')
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^installed spleen-ct-segmentation 0\.5\.9 → /)
  const card = readCard('spleen-ct-segmentation')
  const sha = python<string>(
    `import hashlib, json, sys; print(json.dumps(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()))`,
    [join(bundle, 'models', 'model.onnx')],
  )
  assert.equal(card.sha256, sha)
  assert.deepEqual(card.spacingMm, [1.5, 1.5, 2]) // read from the YAML's Spacingd
  assert.equal(card.orientation, 'RAS')
  // Installing the same id again is refused; the installed pack is untouched.
  r = volseg('models', 'import', 'monai', bundle, '--licence', 'Apache-2.0')
  assert.equal(r.code, 1)
  assert.match(r.stderr, /already installed/)
  const out = join(tmp, 'spleen_seg.nii.gz')
  r = volseg(
    'segment',
    derived('ct-synthetic-3mm.nii.gz'),
    '-o',
    out,
    '--model',
    'spleen-ct-segmentation',
  )
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /→ .*spleen_seg\.nii\.gz/)
})

test('a graph that does not fit the card is refused before installing, naming the ONNX file', () => {
  const bundle = join(tmp, 'spleen-bad')
  mkdirSync(join(bundle, 'configs'), { recursive: true })
  copyFileSync(
    fixture('importers', 'monai-spleen-metadata.json'),
    join(bundle, 'configs', 'metadata.json'),
  )
  copyFileSync(
    fixture('importers', 'monai-spleen-inference.json'),
    join(bundle, 'configs', 'inference.json'),
  )
  const onnx = join(tmp, 'three.onnx')
  writeFileSync(onnx, makeConvOnnx({ classes: 3 }))
  const r = volseg(
    'models',
    'import',
    'monai',
    bundle,
    '--onnx',
    onnx,
    '--id',
    'spleen-bad',
    '--licence',
    'Apache-2.0',
  )
  assert.equal(r.code, 1)
  assert.match(r.stderr, /three\.onnx: .*3/)
  assert.equal(volseg('models', '--json').stdout.includes('spleen-bad'), false)
})

test('nnU-Net results folder: card with summary.json Dice, installed, segments a CT', () => {
  const results = join(tmp, 'Dataset006_Lung')
  const trainer = join(results, 'nnUNetTrainer__nnUNetPlans__3d_fullres')
  mkdirSync(join(trainer, 'fold_0', 'validation'), { recursive: true })
  copyFileSync(fixture('importers', 'nnunet-plans.json'), join(trainer, 'plans.json'))
  copyFileSync(fixture('importers', 'nnunet-dataset.json'), join(trainer, 'dataset.json'))
  writeFileSync(
    join(trainer, 'fold_0', 'validation', 'summary.json'),
    JSON.stringify({
      foreground_mean: { Dice: 0.6512 },
      mean: { '1': { Dice: 0.6512, IoU: 0.5 } },
    }),
  )
  const dataset = JSON.parse(readFileSync(fixture('importers', 'nnunet-dataset.json'), 'utf8')) as {
    labels: Record<string, number>
  }
  const classes = Object.keys(dataset.labels).filter((k) => k !== 'ignore').length
  const onnx = join(tmp, 'lung.onnx')
  writeFileSync(onnx, makeConvOnnx({ classes }))
  let r = volseg(
    'models',
    'import',
    'nnunet',
    results,
    '--onnx',
    onnx,
    '--fold',
    '0',
    '--id',
    'lung',
  )
  assert.equal(r.code, 0, r.stderr)
  const card = readCard('lung')
  assert.equal(card.modality, 'CT')
  assert.ok(
    card.metrics.some((m) => m.value === 0.6512 && /fold 0 \(summary\.json\)/.test(m.dataset)),
    JSON.stringify(card.metrics),
  )
  r = volseg(
    'segment',
    derived('ct-synthetic-3mm.nii.gz'),
    '-o',
    join(tmp, 'lung_seg.nii.gz'),
    '--model',
    'lung',
  )
  assert.equal(r.code, 0, r.stderr)
  // plans.json + dataset.json given as files; --onnx missing is named.
  r = volseg(
    'models',
    'import',
    'nnunet',
    join(trainer, 'plans.json'),
    join(trainer, 'dataset.json'),
  )
  assert.equal(r.code, 1)
  assert.match(r.stderr, /needs --onnx/)
})

test('models/export/monai_to_onnx.py: a bundle TorchScript → ONNX that imports and runs', () => {
  const bundle = join(tmp, 'ts_bundle')
  mkdirSync(join(bundle, 'configs'), { recursive: true })
  mkdirSync(join(bundle, 'models'))
  copyFileSync(
    fixture('importers', 'monai-spleen-metadata.json'),
    join(bundle, 'configs', 'metadata.json'),
  )
  copyFileSync(
    fixture('importers', 'monai-spleen-inference.json'),
    join(bundle, 'configs', 'inference.json'),
  )
  // What a Model Zoo bundle ships: models/model.ts (TorchScript), here a tiny 3-D network.
  python<string>(
    `
import json, sys, torch
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Conv3d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv3d(4, 2, 1)).eval()
torch.jit.script(net).save(sys.argv[1])
print(json.dumps("ok"))
`,
    [join(bundle, 'models', 'model.ts')],
  )
  const exp = spawnSync('/usr/bin/python3', [EXPORT, bundle, '--patch', '32,32,32'], {
    encoding: 'utf8',
  })
  assert.equal(exp.status, 0, exp.stderr)
  assert.match(exp.stdout, /input \[N, 1, D, H, W\] → output \[N, 2, D, H, W\]/)
  let r = volseg(
    'models',
    'import',
    'monai',
    bundle,
    '--licence',
    'Apache-2.0',
    '--id',
    'ts-spleen',
  )
  assert.equal(r.code, 0, r.stderr)
  r = volseg(
    'segment',
    derived('ct-synthetic-3mm.nii.gz'),
    '-o',
    join(tmp, 'ts_seg.nii.gz'),
    '--model',
    'ts-spleen',
  )
  assert.equal(r.code, 0, r.stderr)
})

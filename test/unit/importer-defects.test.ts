// Importer defects found on real public configurations, each on the project's real fixture files
// (spleen_ct_segmentation, Dataset006_Lung) changed the way the named bundle or dataset differs.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { AppError } from '../../src/shared/errors.js'
import type { ModelCard, Normalisation } from '../../src/shared/model-card.js'
import { cardFromMonaiBundle } from '../../src/inference/importers/monai.js'
import { cardFromNnunet, modalityOf } from '../../src/inference/importers/nnunet.js'
import { fixture } from '../helpers.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const load = (name: string): Json =>
  JSON.parse(readFileSync(fixture('importers', name), 'utf8')) as Json
const SHA = 'ab'.repeat(32)

function monai(
  over: { meta?: Json; inference?: Json; opts?: Record<string, unknown> } = {},
): ModelCard {
  return cardFromMonaiBundle({
    metadata: over.meta ?? load('monai-spleen-metadata.json'),
    inference: over.inference ?? load('monai-spleen-inference.json'),
    onnxSha256: SHA,
    id: 'spleen-ct',
    licence: 'Apache-2.0',
    ...over.opts,
  })
}

function message(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof AppError, String(e))
    assert.equal(e.code, 'E_MODEL')
    return e.message
  }
  return assert.fail('expected E_MODEL')
}

const preIndex = (inf: Json, target: RegExp): number =>
  (inf.preprocessing.transforms as Json[]).findIndex((t) => target.test(t._target_ as string))

const NORM: Normalisation = { kind: 'zscore', foregroundOnly: true }

test('an option the error asks for is enough on its own (prostate_mri_anatomy, wholeBody_ct, UNEST)', () => {
  // The intensity transform as an expression: the error names normalisation, and normalisation
  // alone now gets past it (spacing and orientation still come from inference.json).
  const inf = load('monai-spleen-inference.json')
  inf.preprocessing.transforms[preIndex(inf, /ScaleIntensityRange/)].a_min = '$-57 if True else 0'
  const m = message(() => monai({ inference: inf }))
  assert.match(m, /preprocessing\.transforms\[4\]\.a_min is a Python expression/)
  assert.match(m, /pass normalisation instead/)
  const card = monai({ inference: inf, opts: { normalisation: NORM } })
  assert.deepEqual(card.normalisation, NORM)
  assert.equal(card.orientation, 'RAS')
  assert.deepEqual(card.spacingMm, [1.5, 1.5, 2])
  // An unknown transform: the error lists what is still missing, and giving it is enough.
  const inf2 = load('monai-spleen-inference.json')
  inf2.preprocessing.transforms.splice(3, 0, { _target_: 'HistogramNormalized', keys: 'image' })
  assert.match(
    message(() => monai({ inference: inf2, opts: { normalisation: NORM } })),
    /HistogramNormalized\) is not a transform .*; pass spacingMm, orientation to describe/,
  )
  const all = monai({
    inference: inf2,
    opts: { normalisation: NORM, spacingMm: [1, 1, 1], orientation: 'LPS' },
  })
  assert.equal(all.orientation, 'LPS')
})

test('a Python expression names the option that replaces it', () => {
  const inf = load('monai-spleen-inference.json')
  inf.preprocessing.transforms[preIndex(inf, /Spacing/)].pixdim = '$[1.5, 1.5, 2.0]'
  assert.match(
    message(() => monai({ inference: inf })),
    /pixdim is a Python expression .*; pass spacingMm instead/,
  )
  assert.deepEqual(
    monai({ inference: inf, opts: { spacingMm: [1.5, 1.5, 2] } }).spacingMm,
    [1.5, 1.5, 2],
  )
  const inf2 = load('monai-spleen-inference.json')
  inf2.inferer.roi_size = '@patch_size_expr'
  inf2.patch_size_expr = '$[96] * 3'
  assert.match(
    message(() => monai({ inference: inf2 })),
    /roi_size is a Python expression .*; pass patchSize instead/,
  )
})

test('KeepLargestConnectedComponentd becomes the card rule', () => {
  const inf = load('monai-spleen-inference.json')
  inf.postprocessing.transforms.splice(3, 0, {
    _target_: 'KeepLargestConnectedComponentd',
    keys: 'pred',
    applied_labels: [1],
  })
  assert.deepEqual(monai({ inference: inf }).postprocess, [{ label: 1, largestComponent: true }])
  // Without applied_labels: every foreground label (MONAI's default).
  delete inf.postprocessing.transforms[3].applied_labels
  assert.deepEqual(monai({ inference: inf }).postprocess, [{ label: 1, largestComponent: true }])
  assert.deepEqual(monai().postprocess, [])
})

test('a 2-D bundle (SliceInferer, or a 2-D roi_size) is refused as 2-D', () => {
  const inf = load('monai-spleen-inference.json')
  inf.inferer = { _target_: 'SliceInferer', roi_size: [96, 96], spatial_dim: 2 }
  assert.match(
    message(() => monai({ inference: inf })),
    /SliceInferer: a 2-D model .*only 3-D models/,
  )
  inf.inferer = { _target_: 'SlidingWindowInferer', roi_size: [160, 160] }
  assert.match(
    message(() => monai({ inference: inf })),
    /two sizes: a 2-D model/,
  )
})

test('a detection bundle is refused as detection', () => {
  const meta = load('monai-spleen-metadata.json')
  meta.task = 'CT lung nodule detection'
  meta.network_data_format.outputs = {
    box: { type: 'object', format: 'bounding box', num_channels: 6 },
    label: { type: 'object', format: 'label', num_channels: 1 },
  }
  assert.match(
    message(() => monai({ meta })),
    /detection bundle \(outputs box, label/,
  )
})

test('MONAI label_def names the channels when channel_def is absent', () => {
  const meta = load('monai-spleen-metadata.json')
  delete meta.network_data_format.outputs.pred.channel_def
  meta.label_def = { '0': 'background', '1': 'spleen parenchyma' }
  assert.deepEqual(
    monai({ meta }).labels.map((l) => l.name),
    ['background', 'spleen parenchyma'],
  )
})

function nnunet(dataset: Json, summary?: Json): ModelCard {
  return cardFromNnunet({
    plans: load('nnunet-plans.json'),
    dataset,
    onnxSha256: SHA,
    id: 'lung',
    licence: 'CC-BY-SA-4.0',
    intendedUse: 'Research only',
    ...(summary === undefined ? {} : { summary, fold: 0 }),
  })
}

test('nnU-Net channel names built on CT (CT_bone) give modality CT', () => {
  for (const [name, want] of [
    ['CT', 'CT'],
    ['CT_bone', 'CT'],
    ['ct-arterial', 'CT'],
    ['T2', 'MR'],
    ['CTA-like MR', 'MR'],
    ['noNorm', 'MR'],
  ] as const) {
    assert.equal(modalityOf(name), name === 'CTA-like MR' ? 'MR' : want, name)
  }
  const d = load('nnunet-dataset.json')
  d.channel_names = { '0': 'CT_bone' }
  assert.equal(nnunet(d).modality, 'CT')
})

test('nnU-Net summary.json Dice become card metrics', () => {
  const d = load('nnunet-dataset.json')
  const summary = {
    foreground_mean: { Dice: 0.712, IoU: 0.6 },
    mean: { '1': { Dice: 0.712, IoU: 0.6, n_pred: 10 } },
    metric_per_case: [],
  }
  const card = nnunet(d, summary)
  const fg = card.labels[1]!.name
  assert.deepEqual(card.metrics, [
    {
      name: 'dice',
      value: 0.712,
      dataset: 'nnU-Net cross-validation, fold 0 (summary.json)',
      label: 'foreground mean',
    },
    {
      name: 'dice',
      value: 0.712,
      dataset: 'nnU-Net cross-validation, fold 0 (summary.json)',
      label: fg,
    },
  ])
})

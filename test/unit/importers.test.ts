import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { AppError } from '../../src/shared/errors.js'
import type { ModelCard } from '../../src/shared/model-card.js'
import { parseModelCard } from '../../src/shared/parse-model-card.js'
import { cardFromNnunet, defaultLabelColor } from '../../src/inference/importers/nnunet.js'
import { cardFromMonaiBundle } from '../../src/inference/importers/monai.js'
import { fixture } from '../helpers.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function load(name: string): Json {
  return JSON.parse(readFileSync(fixture('importers', name), 'utf8')) as Json
}

const SHA = '0123456789abcdef'.repeat(4)

/** Imported cards must survive model.json: serialise, re-validate, compare. */
function roundTrips(card: ModelCard): void {
  assert.deepEqual(parseModelCard(JSON.parse(JSON.stringify(card)), 'model.json'), card)
}

/** Asserts `fn` throws E_MODEL whose message matches every pattern. */
function refused(fn: () => unknown, ...patterns: RegExp[]): void {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof AppError, `expected AppError, got ${String(e)}`)
    assert.equal(e.code, 'E_MODEL', e.message)
    for (const p of patterns) assert.match(e.message, p)
    return
  }
  assert.fail('expected E_MODEL')
}

// ---------------------------------------------------------------- nnU-Net

function nnunet(over: { plans?: Json; dataset?: Json; configuration?: string } = {}): ModelCard {
  return cardFromNnunet({
    plans: over.plans ?? load('nnunet-plans.json'),
    dataset: over.dataset ?? load('nnunet-dataset.json'),
    ...(over.configuration === undefined ? {} : { configuration: over.configuration }),
    onnxSha256: SHA,
    id: 'lung-nnunet',
    licence: 'CC-BY-SA-4.0',
    intendedUse: 'Research only; not for diagnosis.',
  })
}

test('nnU-Net: transpose_forward [2, 0, 1] with CTNormalization gives the exact card', () => {
  const card = nnunet()
  assert.deepEqual(card, {
    schema: 'volseg-model-card/1',
    id: 'lung-nnunet',
    name: 'Lung',
    version: '1.0.0',
    sha256: SHA,
    task: 'segmentation',
    modality: 'CT',
    description: 'Lung and cancer segmentation',
    intendedUse: 'Research only; not for diagnosis.',
    licence: 'CC-BY-SA-4.0',
    minAppVersion: '0.1.0',
    input: { name: 'input', channels: 1 },
    output: { name: 'output', kind: 'logits' },
    // Tensor dims are array axes (2, 0, 1) of (z, y, x) = (k, j, i): i, k, j.
    axisOrder: 'ikj',
    orientation: 'as-stored',
    // Copied unchanged: nnU-Net stores them in the transposed (tensor) order already.
    spacingMm: [1.244979977607727, 0.78515625, 0.78515625],
    normalisation: {
      kind: 'ct',
      clip: [-1024, 311],
      mean: -273.4598388671875,
      std: 346.9496765136719,
    },
    patchSize: [80, 192, 160],
    overlap: 0.5,
    gaussianSigmaFraction: 0.125,
    mirrorAxes: [0, 1, 2],
    labels: [
      { value: 0, name: 'background', color: [0, 0, 0] },
      { value: 1, name: 'cancer', color: [230, 25, 75] },
    ],
    postprocess: [],
    metrics: [],
    cropToNonzero: true,
  })
  roundTrips(card)
})

test('nnU-Net: axisOrder is transpose_forward mapped through kji, for all six', () => {
  const expected: [number[], string][] = [
    [[0, 1, 2], 'kji'],
    [[0, 2, 1], 'kij'],
    [[1, 0, 2], 'jki'],
    [[1, 2, 0], 'jik'],
    [[2, 0, 1], 'ikj'],
    [[2, 1, 0], 'ijk'],
  ]
  for (const [tf, order] of expected) {
    const plans = load('nnunet-plans.json')
    plans.transpose_forward = tf
    assert.equal(nnunet({ plans }).axisOrder, order, JSON.stringify(tf))
  }
})

test('nnU-Net: other configurations, readers and normalisation schemes', () => {
  const low = nnunet({ configuration: '3d_lowres' })
  assert.deepEqual(low.spacingMm, [2.3855103790575867, 1.5044405671133478, 1.5044405671133478])
  roundTrips(low)

  const plans = load('nnunet-plans.json')
  plans.image_reader_writer = 'NibabelIOWithReorient'
  assert.equal(nnunet({ plans }).orientation, 'RAS')
  plans.image_reader_writer = 'NibabelIO'
  assert.equal(nnunet({ plans }).orientation, 'as-stored')

  const scheme = (name: string, mask = false): ModelCard => {
    const p = load('nnunet-plans.json')
    p.configurations['3d_fullres'].normalization_schemes = [name]
    p.configurations['3d_fullres'].use_mask_for_norm = [mask]
    const d = load('nnunet-dataset.json')
    d.channel_names = { '0': 'T2' }
    return nnunet({ plans: p, dataset: d })
  }
  const mr = scheme('ZScoreNormalization', true)
  assert.deepEqual(mr.normalisation, { kind: 'zscore', foregroundOnly: true })
  assert.equal(mr.modality, 'MR')
  assert.deepEqual(scheme('ZScoreNormalization').normalisation, {
    kind: 'zscore',
    foregroundOnly: false,
  })
  assert.deepEqual(scheme('NoNormalization').normalisation, { kind: 'none' })
  assert.deepEqual(scheme('RescaleTo01Normalization').normalisation, {
    kind: 'percentile',
    lower: 0,
    upper: 100,
    outMin: 0,
    outMax: 1,
    clip: false,
  })
  refused(() => scheme('RGBTo01Normalization'), /RGBTo01Normalization/)
  refused(() => scheme('MyCustomNormalization'), /MyCustomNormalization/, /normalization_schemes/)
})

test('nnU-Net: labels are sorted by value; ignore is not a channel; colours are distinct', () => {
  const d = load('nnunet-dataset.json')
  d.labels = { tumour: 2, background: 0, ignore: 3, kidney: 1 }
  const card = nnunet({ dataset: d })
  assert.deepEqual(
    card.labels.map((l) => [l.value, l.name]),
    [
      [0, 'background'],
      [1, 'kidney'],
      [2, 'tumour'],
    ],
  )
  const colours = new Set(Array.from({ length: 40 }, (_, i) => defaultLabelColor(i).join()))
  assert.equal(colours.size, 40)
})

test('nnU-Net: what the engine cannot reproduce is refused, naming the field', () => {
  refused(() => nnunet({ configuration: '3d_cascade_fullres' }), /cascade/, /previous_stage/)
  refused(() => nnunet({ configuration: '2d' }), /2-D/)
  refused(
    () => nnunet({ configuration: '3d_fullres_bs4' }),
    /no configuration "3d_fullres_bs4"/,
    /3d_lowres/,
  )

  const regions = load('nnunet-dataset.json')
  regions.labels = { background: 0, 'whole tumor': [1, 2, 3], 'tumor core': [2, 3], enhancing: 3 }
  refused(() => nnunet({ dataset: regions }), /region-based training is not supported/)
  const order = load('nnunet-dataset.json')
  order.regions_class_order = [1, 2]
  refused(() => nnunet({ dataset: order }), /region-based/)

  const gap = load('nnunet-dataset.json')
  gap.labels = { background: 0, liver: 2 }
  refused(() => nnunet({ dataset: gap }), /without gaps/)

  const multi = load('nnunet-dataset.json')
  multi.channel_names = { '0': 'T2', '1': 'ADC' }
  refused(() => nnunet({ dataset: multi }), /2 channels/, /one volume/)

  const tf = load('nnunet-plans.json')
  tf.transpose_forward = [0, 0, 1]
  refused(() => nnunet({ plans: tf }), /transpose_forward/)

  const reader = load('nnunet-plans.json')
  reader.image_reader_writer = 'Tiff3DIO'
  refused(() => nnunet({ plans: reader }), /Tiff3DIO/)

  const noProps = load('nnunet-plans.json')
  delete noProps.foreground_intensity_properties_per_channel
  refused(() => nnunet({ plans: noProps }), /foreground_intensity_properties_per_channel/)

  const badStd = load('nnunet-plans.json')
  badStd.foreground_intensity_properties_per_channel['0'].std = 0
  refused(() => nnunet({ plans: badStd }), /std/)
})

// ---------------------------------------------------------------- MONAI

function monai(
  over: { metadata?: Json; inference?: Json | null; extra?: Record<string, unknown> } = {},
): ModelCard {
  const inference =
    over.inference === null
      ? {}
      : { inference: over.inference ?? load('monai-spleen-inference.json') }
  return cardFromMonaiBundle({
    metadata: over.metadata ?? load('monai-spleen-metadata.json'),
    ...inference,
    onnxSha256: SHA,
    id: 'spleen-ct',
    licence: 'Apache-2.0',
    ...over.extra,
  })
}

/** inference.json with preprocessing transform `i` replaced (or removed when `t` is null). */
function withTransform(i: number, t: Json | null): Json {
  const inf = load('monai-spleen-inference.json')
  if (t === null) inf.preprocessing.transforms.splice(i, 1)
  else inf.preprocessing.transforms[i] = t
  return inf
}

test('MONAI: spleen_ct_segmentation gives the exact card', () => {
  const card = monai()
  assert.deepEqual(card, {
    schema: 'volseg-model-card/1',
    id: 'spleen-ct',
    name: 'Spleen CT segmentation',
    version: '0.5.9',
    sha256: SHA,
    task: 'segmentation',
    modality: 'CT',
    description: 'A pre-trained model for volumetric (3D) segmentation of the spleen from CT image',
    intendedUse: 'This is an example, not to be used for diagnostic purposes',
    licence: 'Apache-2.0; Copyright (c) MONAI Consortium',
    minAppVersion: '0.1.0',
    input: { name: 'input', channels: 1 },
    output: { name: 'output', kind: 'logits' },
    axisOrder: 'ijk',
    orientation: 'RAS',
    spacingMm: [1.5, 1.5, 2],
    // ScaleIntensityRanged -57..164 → 0..1, clipped: (x − (−57)) / 221 after clipping x.
    normalisation: { kind: 'ct', clip: [-57, 164], mean: -57, std: 221 },
    patchSize: [96, 96, 96],
    overlap: 0.5,
    // The inferer's default "constant" blending, approximated by a flat Gaussian.
    gaussianSigmaFraction: 1,
    mirrorAxes: [],
    labels: [
      { value: 0, name: 'background', color: [0, 0, 0] },
      { value: 1, name: 'spleen', color: [230, 25, 75] },
    ],
    postprocess: [],
    metrics: [
      {
        name: 'mean_dice',
        value: 0.961,
        dataset: 'Task09_Spleen.tar from http://medicaldecathlon.com/',
      },
    ],
  })
  roundTrips(card)
})

test('MONAI: the ct mapping reproduces ScaleIntensityRange exactly, clipped or not', () => {
  const monaiScale = (x: number, a0: number, a1: number, b0: number, b1: number, clip: boolean) => {
    const y = ((x - a0) / (a1 - a0)) * (b1 - b0) + b0
    return clip ? Math.min(b1, Math.max(b0, y)) : y
  }
  for (const [a0, a1, b0, b1] of [
    [-57, 164, 0, 1],
    [-1000, 1000, -1, 1],
    [-175, 250, 0.5, 3.5],
  ] as const) {
    for (const clip of [true, false]) {
      const t = {
        _target_: 'ScaleIntensityRanged',
        keys: 'image',
        a_min: a0,
        a_max: a1,
        b_min: b0,
        b_max: b1,
        clip,
      }
      const card = monai({ inference: withTransform(4, t) })
      const n = card.normalisation
      assert.equal(n.kind, 'ct')
      if (n.kind !== 'ct') return
      if (!clip) assert.deepEqual(n.clip, [-3.4028234663852886e38, 3.4028234663852886e38])
      for (const x of [-3000, a0, -20, 0, 37.5, a1, 5000]) {
        const ours = (Math.min(n.clip[1], Math.max(n.clip[0], x)) - n.mean) / n.std
        assert.ok(Math.abs(ours - monaiScale(x, a0, a1, b0, b1, clip)) < 1e-12, `${x} ${clip}`)
      }
      roundTrips(card)
    }
  }
})

test('MONAI: other intensity transforms, inferer settings and option overrides', () => {
  const zs = monai({
    inference: withTransform(4, {
      _target_: 'NormalizeIntensityd',
      keys: '@image_key',
      nonzero: true,
      channel_wise: true,
    }),
  })
  assert.deepEqual(zs.normalisation, { kind: 'zscore', foregroundOnly: true })
  const pct = monai({
    inference: withTransform(4, {
      _target_: 'monai.transforms.ScaleIntensityRangePercentilesd',
      keys: ['image'],
      lower: 0.5,
      upper: 99.5,
      b_min: 0,
      b_max: 1,
      clip: true,
    }),
  })
  assert.deepEqual(pct.normalisation, {
    kind: 'percentile',
    lower: 0.5,
    upper: 99.5,
    outMin: 0,
    outMax: 1,
    clip: true,
  })
  const mm = monai({ inference: withTransform(4, { _target_: 'ScaleIntensityd', keys: 'image' }) })
  assert.deepEqual(mm.normalisation, {
    kind: 'percentile',
    lower: 0,
    upper: 100,
    outMin: 0,
    outMax: 1,
    clip: false,
  })
  const none = monai({ inference: withTransform(4, null) })
  assert.deepEqual(none.normalisation, { kind: 'none' })

  // No Orientationd / Spacingd: as stored, source spacing.
  const bare = load('monai-spleen-inference.json')
  bare.preprocessing.transforms.splice(2, 2)
  const b = monai({ inference: bare })
  assert.equal(b.orientation, 'as-stored')
  assert.equal(b.spacingMm, null)

  // A label-only transform is not the image's.
  const labelOnly = withTransform(5, { _target_: 'ScaleIntensityd', keys: ['label'] })
  assert.deepEqual(monai({ inference: labelOnly }).normalisation.kind, 'ct')

  const gauss = load('monai-spleen-inference.json')
  gauss.inferer = {
    _target_: 'SlidingWindowInferer',
    roi_size: [160, 160, 64],
    overlap: 0.625,
    mode: 'gaussian',
  }
  const g = monai({ inference: gauss })
  assert.equal(g.gaussianSigmaFraction, 0.125)
  assert.equal(g.overlap, 0.625)
  assert.deepEqual(g.patchSize, [160, 160, 64])

  const o = monai({
    extra: {
      spacingMm: [1, 1, 1],
      patchSize: [64, 64, 64],
      mirrorAxes: [0, 1],
      outputName: 'logits',
    },
  })
  assert.deepEqual(
    [o.spacingMm, o.patchSize, o.mirrorAxes, o.output.name],
    [[1, 1, 1], [64, 64, 64], [0, 1], 'logits'],
  )
  roundTrips(o)
})

test('MONAI: metadata alone needs the preprocessing as options', () => {
  refused(() => monai({ inference: null }), /pass spacingMm, orientation, normalisation/)
  const card = monai({
    inference: null,
    extra: {
      orientation: 'RAS',
      spacingMm: null,
      normalisation: { kind: 'zscore', foregroundOnly: false },
    },
  })
  // Patch size from spatial_shape, MONAI's default overlap.
  assert.deepEqual([card.patchSize, card.overlap, card.spacingMm], [[96, 96, 96], 0.25, null])
  roundTrips(card)
})

test('MONAI: what the engine cannot reproduce is refused, naming the field or option', () => {
  const meta = (edit: (m: Json) => void): Json => {
    const m = load('monai-spleen-metadata.json')
    edit(m)
    return m
  }
  refused(
    () =>
      cardFromMonaiBundle({
        metadata: load('monai-spleen-metadata.json'),
        inference: load('monai-spleen-inference.json'),
        onnxSha256: SHA,
        id: 'x',
      }),
    /pass licence/,
  )
  refused(
    () => monai({ metadata: meta((m) => (m.network_data_format.inputs.image.num_channels = 2)) }),
    /num_channels/,
  )
  refused(
    () => monai({ metadata: meta((m) => (m.network_data_format.outputs.pred.num_channels = 1)) }),
    /1 channel/,
  )
  refused(
    () => monai({ metadata: meta((m) => delete m.network_data_format.outputs.pred.channel_def) }),
    /labelNames/,
  )
  refused(
    () => monai({ metadata: meta((m) => delete m.network_data_format.inputs.image.modality) }),
    /pass modality/,
  )

  refused(
    () => monai({ inference: withTransform(4, { _target_: 'RandGaussianNoised', keys: 'image' }) }),
    /transforms\[4\]/,
    /RandGaussianNoised/,
  )
  const two = load('monai-spleen-inference.json')
  two.preprocessing.transforms.push({ _target_: 'NormalizeIntensityd', keys: 'image' })
  refused(() => monai({ inference: two }), /two intensity transforms/)
  refused(
    () =>
      monai({
        inference: withTransform(3, {
          _target_: 'Spacingd',
          keys: 'image',
          pixdim: [1.5, 1.5, -1],
        }),
      }),
    /pixdim/,
    /spacingMm/,
  )
  refused(
    () =>
      monai({
        inference: withTransform(3, { _target_: 'Spacingd', keys: 'image', pixdim: '$@spacing' }),
      }),
    /Python expression/,
  )
  refused(
    () =>
      monai({
        inference: withTransform(4, {
          _target_: 'ScaleIntensityRanged',
          keys: 'image',
          a_min: 0,
          a_max: 1,
        }),
      }),
    /b_min/,
  )
  refused(
    () =>
      monai({
        inference: withTransform(4, {
          _target_: 'NormalizeIntensityd',
          keys: 'image',
          subtrahend: 5,
          divisor: 2,
        }),
      }),
    /subtrahend/,
  )
  const sigmoid = load('monai-spleen-inference.json')
  sigmoid.postprocessing.transforms[0] = { _target_: 'Activationsd', keys: 'pred', sigmoid: true }
  refused(() => monai({ inference: sigmoid }), /sigmoid/)
  const badRef = withTransform(2, {
    _target_: 'Orientationd',
    keys: 'image',
    axcodes: '@orientation',
  })
  refused(() => monai({ inference: badRef }), /@orientation/)
})

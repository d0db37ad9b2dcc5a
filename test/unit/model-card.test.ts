import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AppError } from '../../src/shared/errors.js'
import {
  checkAppVersion,
  compareVersions,
  parseModelCard,
} from '../../src/shared/parse-model-card.js'

const FILE = '/models/liver/model.json'

/** A complete, valid card as it would come out of JSON.parse. */
function validJson(): Record<string, unknown> {
  return {
    schema: 'volseg-model-card/1',
    id: 'liver-ct.v2',
    name: 'Liver (CT)',
    version: '1.2.3',
    sha256: 'a'.repeat(64),
    task: 'segmentation',
    modality: 'CT',
    description: 'Liver and tumour in contrast-enhanced abdominal CT.',
    intendedUse: 'Research only.',
    licence: 'CC-BY-4.0',
    minAppVersion: '0.1.0',
    input: { name: 'input', channels: 1 },
    output: { name: 'output', kind: 'logits' },
    axisOrder: 'kji',
    orientation: 'as-stored',
    spacingMm: [1, 0.75, 0.75],
    normalisation: { kind: 'ct', clip: [-100, 300], mean: 99.5, std: 40 },
    patchSize: [128, 128, 128],
    overlap: 0.5,
    gaussianSigmaFraction: 0.125,
    mirrorAxes: [0, 1, 2],
    labels: [
      { value: 0, name: 'background', color: [0, 0, 0] },
      { value: 1, name: 'liver', color: [230, 25, 75], snomed: '10200004' },
      { value: 2, name: 'tumour', color: [60, 180, 75] },
    ],
    postprocess: [{ label: 1, largestComponent: true, minIslandMm3: 50 }],
    metrics: [{ name: 'dice', value: 0.95, dataset: 'LiTS validation', label: 'liver' }],
    maxBatch: 2,
  }
}

/** Asserts `fn` throws E_MODEL for FILE and returns the message. */
function modelError(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof AppError, `expected AppError, got ${String(e)}`)
    assert.equal(e.code, 'E_MODEL', e.message)
    assert.equal(e.file, FILE)
    return e.message
  }
  assert.fail('expected E_MODEL')
}

/** Parses a valid card changed by `mutate`; asserts it is refused naming `path`. */
function refused(mutate: (c: Record<string, unknown>) => void, path: string): string {
  const c = validJson()
  mutate(c)
  const message = modelError(() => parseModelCard(c, FILE))
  assert.ok(message.includes(`${path} `), `message should name ${path}: ${message}`)
  return message
}

test('a valid card passes and comes back equal', () => {
  const json = validJson()
  const card = parseModelCard(json, FILE)
  assert.deepEqual(card, json)
  // Optional fields absent stay absent (no `undefined` keys).
  const min = validJson()
  delete min.maxBatch
  min.labels = [
    { value: 0, name: 'background', color: [0, 0, 0] },
    { value: 7, name: 'liver', color: [1, 2, 3] },
  ]
  min.postprocess = []
  min.metrics = []
  min.spacingMm = null
  min.normalisation = { kind: 'none' }
  assert.deepEqual(parseModelCard(min, FILE), min)
})

test('every normalisation kind and axis order is accepted', () => {
  const kinds = [
    { kind: 'zscore', foregroundOnly: true },
    { kind: 'percentile', lower: 0.5, upper: 99.5, outMin: 0, outMax: 1, clip: true },
    { kind: 'none' },
    { kind: 'ct', clip: [-1024, 3071], mean: 0, std: 1 },
  ]
  for (const normalisation of kinds) {
    assert.deepEqual(
      parseModelCard({ ...validJson(), normalisation }, FILE).normalisation,
      normalisation,
    )
  }
  for (const axisOrder of ['kji', 'kij', 'jki', 'jik', 'ikj', 'ijk']) {
    assert.equal(parseModelCard({ ...validJson(), axisOrder }, FILE).axisOrder, axisOrder)
  }
})

test('orientation: as-stored or one letter of each R/L, A/P, S/I pair', () => {
  for (const orientation of ['RAS', 'LPI', 'PSR', 'LPS', 'SAL', 'as-stored']) {
    assert.equal(parseModelCard({ ...validJson(), orientation }, FILE).orientation, orientation)
  }
  for (const bad of ['RRS', 'RAX', 'ras', 'RA', 'RASL', 'RLS', '', 'stored']) {
    refused((c) => (c.orientation = bad), 'orientation')
  }
})

test('scalar fields: each mistake is named', () => {
  const cases: [string, (c: Record<string, unknown>) => void][] = [
    ['schema', (c) => (c.schema = 'volseg-model-card/2')],
    ['id', (c) => (c.id = 'Liver')],
    ['id', (c) => (c.id = '-liver')],
    ['id', (c) => (c.id = 'a'.repeat(65))],
    ['name', (c) => (c.name = '  ')],
    ['version', (c) => (c.version = '1.2')],
    ['version', (c) => (c.version = 'v1.2.3')],
    ['minAppVersion', (c) => (c.minAppVersion = '01.0.0')],
    ['sha256', (c) => (c.sha256 = 'A'.repeat(64))],
    ['sha256', (c) => (c.sha256 = 'a'.repeat(63))],
    ['task', (c) => (c.task = 'classification')],
    ['modality', (c) => delete c.modality],
    ['description', (c) => (c.description = 3)],
    ['intendedUse', (c) => (c.intendedUse = '')],
    ['licence', (c) => delete c.licence],
    ['axisOrder', (c) => (c.axisOrder = 'kjj')],
    ['overlap', (c) => (c.overlap = 0.96)],
    ['overlap', (c) => (c.overlap = -0.1)],
    ['gaussianSigmaFraction', (c) => (c.gaussianSigmaFraction = 0)],
    ['gaussianSigmaFraction', (c) => (c.gaussianSigmaFraction = 1.5)],
    ['maxBatch', (c) => (c.maxBatch = 0)],
    ['maxBatch', (c) => (c.maxBatch = 65)],
    ['maxBatch', (c) => (c.maxBatch = 1.5)],
  ]
  for (const [path, mutate] of cases) refused(mutate, path)
})

test('input and output', () => {
  refused((c) => (c.input = { name: 'input', channels: 0 }), 'input.channels')
  refused((c) => (c.input = { name: 'input', channels: 17 }), 'input.channels')
  refused((c) => (c.input = { name: 'input', channels: 1.5 }), 'input.channels')
  refused((c) => (c.input = { name: '', channels: 1 }), 'input.name')
  refused((c) => (c.input = 'input'), 'input')
  refused((c) => (c.output = { name: 'output', kind: 'softmax' }), 'output.kind')
  refused((c) => (c.output = { kind: 'logits' }), 'output.name')
})

test('spacing, patch size and mirroring', () => {
  refused((c) => (c.spacingMm = [1, 1]), 'spacingMm')
  refused((c) => (c.spacingMm = [1, 0, 1]), 'spacingMm')
  refused((c) => (c.spacingMm = [1, 1, 101]), 'spacingMm')
  refused((c) => (c.spacingMm = [1, 1, Number.NaN]), 'spacingMm')
  refused((c) => delete c.spacingMm, 'spacingMm')
  refused((c) => (c.patchSize = [128, 128, 3]), 'patchSize')
  refused((c) => (c.patchSize = [128, 128, 1025]), 'patchSize')
  refused((c) => (c.patchSize = [128, 128.5, 128]), 'patchSize')
  refused((c) => (c.mirrorAxes = [0, 0]), 'mirrorAxes')
  refused((c) => (c.mirrorAxes = [3]), 'mirrorAxes')
  refused((c) => (c.mirrorAxes = 'all'), 'mirrorAxes')
  assert.deepEqual(parseModelCard({ ...validJson(), mirrorAxes: [] }, FILE).mirrorAxes, [])
})

test('normalisation: each kind checks its own fields', () => {
  const n = (normalisation: unknown) => (c: Record<string, unknown>) =>
    (c.normalisation = normalisation)
  refused(n({ kind: 'zscore' }), 'normalisation.foregroundOnly')
  refused(n({ kind: 'zscore', foregroundOnly: 'yes' }), 'normalisation.foregroundOnly')
  refused(n({ kind: 'ct', clip: [300, -100], mean: 0, std: 1 }), 'normalisation.clip')
  refused(n({ kind: 'ct', clip: [-100, Infinity], mean: 0, std: 1 }), 'normalisation.clip')
  refused(n({ kind: 'ct', clip: [-100, 300], mean: Number.NaN, std: 1 }), 'normalisation.mean')
  refused(n({ kind: 'ct', clip: [-100, 300], mean: 0, std: 0 }), 'normalisation.std')
  const pct = { kind: 'percentile', lower: 1, upper: 99, outMin: 0, outMax: 1, clip: true }
  refused(n({ ...pct, lower: 99, upper: 1 }), 'normalisation.lower')
  refused(n({ ...pct, upper: 101 }), 'normalisation.upper')
  refused(n({ ...pct, lower: -1 }), 'normalisation.lower')
  refused(n({ ...pct, outMin: 1, outMax: 1 }), 'normalisation.outMin')
  refused(n({ ...pct, clip: 1 }), 'normalisation.clip')
  refused(n({ kind: 'minmax' }), 'normalisation.kind')
  refused(n(null), 'normalisation')
  // A field of another kind is an unknown key.
  refused(n({ kind: 'none', foregroundOnly: true }), 'normalisation.foregroundOnly')
})

test('labels: background first, unique values and names, colours, SNOMED ids', () => {
  const l = (labels: unknown) => (c: Record<string, unknown>) => (c.labels = labels)
  const bg = { value: 0, name: 'background', color: [0, 0, 0] }
  refused(l([bg]), 'labels')
  refused(l('liver'), 'labels')
  refused(
    l([
      { ...bg, value: 1 },
      { value: 0, name: 'x', color: [1, 1, 1] },
    ]),
    'labels[0].value',
  )
  refused(l([bg, { value: 0, name: 'x', color: [1, 1, 1] }]), 'labels[1].value')
  refused(l([bg, { value: 65536, name: 'x', color: [1, 1, 1] }]), 'labels[1].value')
  refused(l([bg, { value: 1.5, name: 'x', color: [1, 1, 1] }]), 'labels[1].value')
  refused(l([bg, { value: 1, name: 'background', color: [1, 1, 1] }]), 'labels[1].name')
  refused(l([bg, { value: 1, name: '', color: [1, 1, 1] }]), 'labels[1].name')
  const msg = refused(
    l([bg, { value: 1, name: 'x', color: [1, 1, 1] }, { value: 2, name: 'y', color: [300, 0, 0] }]),
    'labels[2].color',
  )
  assert.match(msg, /0\.\.255/)
  refused(l([bg, { value: 1, name: 'x', color: [1, 1] }]), 'labels[1].color')
  refused(l([bg, { value: 1, name: 'x', color: [1, 1, 1], snomed: 10200004 }]), 'labels[1].snomed')
  refused(l([bg, { value: 1, name: 'x', color: [1, 1, 1], snomed: '12345' }]), 'labels[1].snomed')
  refused(l([bg, { value: 1, name: 'x', colour: [1, 1, 1] }]), 'labels[1].colour')
})

test('postprocess rules refer to existing foreground labels; metrics are complete', () => {
  refused((c) => (c.postprocess = [{ label: 0, largestComponent: true }]), 'postprocess[0].label')
  refused((c) => (c.postprocess = [{ label: 9, largestComponent: true }]), 'postprocess[0].label')
  refused(
    (c) => (c.postprocess = [{ label: 1 }, { label: 1, largestComponent: true }]),
    'postprocess[1].label',
  )
  refused((c) => (c.postprocess = [{ label: 1, minIslandMm3: -1 }]), 'postprocess[0].minIslandMm3')
  refused(
    (c) => (c.postprocess = [{ label: 1, minIslandMm3: Infinity }]),
    'postprocess[0].minIslandMm3',
  )
  refused(
    (c) => (c.postprocess = [{ label: 1, largestComponent: 'yes' }]),
    'postprocess[0].largestComponent',
  )
  refused((c) => delete c.postprocess, 'postprocess')
  refused(
    (c) => (c.metrics = [{ name: 'dice', value: Number.NaN, dataset: 'x' }]),
    'metrics[0].value',
  )
  refused((c) => (c.metrics = [{ name: 'dice', value: 0.9 }]), 'metrics[0].dataset')
  refused((c) => (c.metrics = [{ name: '', value: 0.9, dataset: 'x' }]), 'metrics[0].name')
  refused((c) => (c.metrics = {}), 'metrics')
})

test('unknown keys are refused at every level, with a hint for near misses', () => {
  const top = refused((c) => (c.patch_size = [64, 64, 64]), 'patch_size')
  assert.match(top, /did you mean "patchSize"/)
  const nested = refused(
    (c) => (c.input = { name: 'input', channels: 1, dtype: 'float32' }),
    'input.dtype',
  )
  assert.match(nested, /not a known key/)
  refused(
    (c) => (c.metrics = [{ name: 'd', value: 1, dataset: 'x', split: 'val' }]),
    'metrics[0].split',
  )
})

test('all problems are reported at once, with details', () => {
  const c = validJson()
  c.id = 'Bad Id'
  c.overlap = 2
  c.labels = [
    { value: 0, name: 'background', color: [0, 0, 0] },
    { value: 1, name: 'x', color: [] },
  ]
  try {
    parseModelCard(c, FILE)
    assert.fail('expected E_MODEL')
  } catch (e) {
    assert.ok(e instanceof AppError)
    assert.match(e.message, /3 problems/)
    assert.deepEqual(
      (e.details as { problems: string[] }).problems.map((p) => p.split(' ')[0]),
      ['id', 'overlap', 'labels[1].color'],
    )
  }
  modelError(() => parseModelCard([], FILE))
  modelError(() => parseModelCard(null, FILE))
})

test('compareVersions orders x.y.z numerically, pre-releases first', () => {
  assert.equal(compareVersions('1.2.3', '1.2.3'), 0)
  assert.ok(compareVersions('0.10.0', '0.9.9') > 0)
  assert.ok(compareVersions('1.0.0', '2.0.0') < 0)
  assert.ok(compareVersions('1.0.0-rc.1', '1.0.0') < 0)
  assert.ok(compareVersions('1.0.0', '1.0.0-rc.1') > 0)
  assert.equal(compareVersions('1.0.0+build.5', '1.0.0'), 0)
  assert.throws(
    () => compareVersions('1.0', '1.0.0'),
    (e) => e instanceof AppError && e.code === 'E_ARGS',
  )
})

test('checkAppVersion refuses a card that needs a newer VolSeg', () => {
  const card = parseModelCard({ ...validJson(), minAppVersion: '0.3.0' }, FILE)
  checkAppVersion(card, '0.3.0', FILE)
  checkAppVersion(card, '1.0.0', FILE)
  const message = modelError(() => checkAppVersion(card, '0.2.9', FILE))
  assert.match(message, /needs VolSeg ≥ 0\.3\.0/)
  assert.match(message, /0\.2\.9/)
})

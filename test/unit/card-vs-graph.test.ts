import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AppError } from '../../src/shared/errors.js'
import type { ModelCard } from '../../src/shared/model-card.js'
import { parseModelCard } from '../../src/shared/parse-model-card.js'
import {
  checkCardAgainstGraph,
  type GraphIO,
  type IOInfo,
} from '../../src/inference/card/check-card-against-graph.js'

const FILE = '/models/lung/model.onnx'

/** A card with patch [80, 192, 160], one input channel and three labels. */
function card(over: Record<string, unknown> = {}): ModelCard {
  return parseModelCard(
    {
      schema: 'volseg-model-card/1',
      id: 'lung',
      name: 'Lung',
      version: '1.0.0',
      sha256: 'f'.repeat(64),
      task: 'segmentation',
      modality: 'CT',
      description: 'Lobes.',
      intendedUse: 'Research.',
      licence: 'MIT',
      minAppVersion: '0.1.0',
      input: { name: 'input', channels: 1 },
      output: { name: 'seg', kind: 'logits' },
      axisOrder: 'kji',
      orientation: 'as-stored',
      spacingMm: [1.25, 0.8, 0.8],
      normalisation: { kind: 'none' },
      patchSize: [80, 192, 160],
      overlap: 0.5,
      gaussianSigmaFraction: 0.125,
      mirrorAxes: [0, 1, 2],
      labels: [
        { value: 0, name: 'background', color: [0, 0, 0] },
        { value: 1, name: 'left', color: [1, 2, 3] },
        { value: 2, name: 'right', color: [4, 5, 6] },
      ],
      postprocess: [],
      metrics: [],
      ...over,
    },
    'model.json',
  )
}

const input = (over: Partial<IOInfo> = {}): IOInfo => ({
  name: 'input',
  elemType: 'float32',
  shape: [1, 1, 80, 192, 160],
  ...over,
})
const output = (over: Partial<IOInfo> = {}): IOInfo => ({
  name: 'seg',
  elemType: 'float32',
  shape: [1, 3, 80, 192, 160],
  ...over,
})

/** Asserts the check refuses with E_MODEL for FILE and a message matching every pattern. */
function refused(c: ModelCard, io: GraphIO, ...patterns: RegExp[]): string {
  try {
    checkCardAgainstGraph(c, io, FILE)
  } catch (e) {
    assert.ok(e instanceof AppError, `expected AppError, got ${String(e)}`)
    assert.equal(e.code, 'E_MODEL')
    assert.equal(e.file, FILE)
    for (const p of patterns) assert.match(e.message, p)
    return e.message
  }
  assert.fail('expected E_MODEL')
}

test('matching graphs pass, with fixed or dynamic dims', () => {
  checkCardAgainstGraph(card(), { inputs: [input()], outputs: [output()] }, FILE)
  const dynamic: GraphIO = {
    inputs: [input({ shape: ['batch', 1, 'd', 'h', 'w'] })],
    outputs: [output({ shape: [null, 3, null, null, null], elemType: 'float16' })],
  }
  checkCardAgainstGraph(card({ maxBatch: 8 }), dynamic, FILE)
  // -1 / 0 are how some exporters spell "dynamic".
  const minusOne: GraphIO = {
    inputs: [input({ shape: [-1, 1, -1, -1, -1] })],
    outputs: [output({ shape: [-1, -1, 0, 0, 0] })],
  }
  checkCardAgainstGraph(card(), minusOne, FILE)
  // Extra outputs (deep supervision) are fine when the card names the full-resolution one.
  const ds: GraphIO = {
    inputs: [input()],
    outputs: [output(), output({ name: 'seg_ds1', shape: [1, 3, 40, 96, 80] })],
  }
  checkCardAgainstGraph(card(), ds, FILE)
})

test('input name missing: the graph inputs are listed', () => {
  refused(
    card(),
    { inputs: [input({ name: 'x' }), input({ name: 'y' })], outputs: [output()] },
    /input "input" is not an input of the graph/,
    /"x", "y"/,
  )
})

test('inputs the engine would not feed are refused', () => {
  refused(
    card(),
    { inputs: [input(), input({ name: 'prev_seg' })], outputs: [output()] },
    /other inputs the engine would not feed: "prev_seg"/,
  )
})

test('input rank, channels, element type and batch', () => {
  refused(card(), { inputs: [input({ shape: [1, 80, 192, 160] })], outputs: [output()] }, /rank 4/)
  refused(
    card(),
    { inputs: [input({ shape: [1, 2, 80, 192, 160] })], outputs: [output()] },
    /input "input" has 2 channels but the card says input\.channels = 1/,
  )
  refused(card(), { inputs: [input({ elemType: 'int64' })], outputs: [output()] }, /int64/)
  refused(card(), { inputs: [input({ elemType: 'float64' })], outputs: [output()] }, /float64/)
  refused(
    card({ maxBatch: 4 }),
    { inputs: [input()], outputs: [output({ shape: ['n', 3, 80, 192, 160] })] },
    /fixes the batch at 1 but the card's maxBatch is 4/,
  )
})

test('fixed input spatial dims must be the patch size, in tensor order', () => {
  refused(
    card(),
    {
      inputs: [input({ shape: [1, 1, 96, 192, 160] })],
      outputs: [output({ shape: [1, 3, 'd', 'h', 'w'] })],
    },
    /spatial dims \[96, 192, 160\]/,
    /patchSize is \[80, 192, 160\]/,
  )
  refused(
    card(),
    {
      inputs: [input({ shape: [1, 1, 160, 192, 80] })],
      outputs: [output({ shape: [1, 3, 'd', 'h', 'w'] })],
    },
    /another order/,
  )
})

test('output name missing: outputs listed, deep supervision mentioned when several', () => {
  const one = refused(
    card(),
    { inputs: [input()], outputs: [output({ name: 'logits' })] },
    /output "seg" is not an output of the graph/,
    /"logits"/,
  )
  assert.doesNotMatch(one, /deep supervision/)
  refused(
    card(),
    {
      inputs: [input()],
      outputs: [output({ name: 'out0' }), output({ name: 'out1', shape: [1, 3, 40, 96, 80] })],
    },
    /"out0", "out1"/,
    /deep supervision/,
  )
})

test('output rank, channels and element type', () => {
  refused(
    card(),
    { inputs: [input()], outputs: [output({ shape: [1, 3, 80, 192] })] },
    /output "seg" has rank 4/,
  )
  refused(
    card(),
    { inputs: [input()], outputs: [output({ shape: [1, 2, 80, 192, 160] })] },
    /output "seg" has 2 channels but the card says 3 labels/,
  )
  refused(
    card(),
    { inputs: [input()], outputs: [output({ elemType: 'int64' })] },
    /output "seg" has element type int64/,
  )
})

test('a half-resolution deep-supervision head chosen by mistake is caught', () => {
  const io: GraphIO = {
    inputs: [input({ shape: ['n', 1, 'd', 'h', 'w'] })],
    outputs: [output({ name: 'full' }), output({ shape: [1, 3, 40, 96, 80] })],
  }
  refused(card(), io, /spatial dims \[40, 96, 80\]/, /deep-supervision head/)
  // Anisotropic pooling ([1, 2, 2]) too.
  const aniso: GraphIO = {
    inputs: [input()],
    outputs: [output({ shape: [1, 3, 80, 96, 80] })],
  }
  refused(card(), aniso, /deep-supervision head/)
})

test('every problem is reported in one error', () => {
  const message = refused(
    card(),
    {
      inputs: [input({ shape: [1, 2, 80, 192, 160] }), input({ name: 'extra' })],
      outputs: [output({ shape: [1, 2, 80, 192, 160] })],
    },
    /other inputs/,
    /2 channels but the card says input\.channels/,
    /2 channels but the card says 3 labels/,
  )
  assert.match(message, /^The model graph does not match its card: /)
})

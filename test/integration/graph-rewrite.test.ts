import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import type { onnx } from 'onnx-proto'
import { AppError } from '../../src/shared/errors.js'
import {
  decodeModel,
  encodeModel,
  float32Tensor,
  graphProblems,
  intAttr,
  intsAttr,
  proto,
  tensorDims,
} from '../../src/inference/graph/onnx-model.js'
import { readGraphIO, rewriteForProvider } from '../../src/inference/graph/rewrite-for-provider.js'
import { ROOT } from '../helpers.js'

const PACKS = join(ROOT, 'test', 'tiny-model', 'packs')

function pack(id: string): Uint8Array {
  return new Uint8Array(readFileSync(join(PACKS, id, 'model.onnx')))
}

/** Deterministic uniform values in [-1, 1) (mulberry32). */
function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1
  }
  return out
}

async function run(
  bytes: Uint8Array,
  feeds: Record<string, { dims: number[]; data: Float32Array }>,
): Promise<Map<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] })
  try {
    const f: Record<string, ort.Tensor> = {}
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.dims)
    const out = await s.run(f)
    return new Map(s.outputNames.map((n) => [n, out[n]!]))
  } finally {
    await s.release()
  }
}

/** Runs both graphs on the same input and returns the largest difference over all outputs. */
async function maxDiff(a: Uint8Array, b: Uint8Array, input: string, dims: number[], seed: number) {
  const data = seeded(
    dims.reduce((x, y) => x * y, 1),
    seed,
  )
  const ra = await run(a, { [input]: { dims, data } })
  const rb = await run(b, { [input]: { dims, data } })
  assert.deepEqual([...rb.keys()], [...ra.keys()])
  let m = 0
  for (const [name, ta] of ra) {
    const tb = rb.get(name)!
    assert.deepEqual(tb.dims, ta.dims, name)
    const [x, y] = [ta.data as Float32Array, tb.data as Float32Array]
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!))
    assert.ok(Number.isFinite(m), `${name} has non-finite values`)
  }
  return m
}

/** Ops a WebGPU session cannot run well: any ConvTranspose, any Conv with a 3-D kernel > 1. */
function webgpuUnfriendly(bytes: Uint8Array): string[] {
  const g = decodeModel(bytes).graph!
  const inits = new Map((g.initializer ?? []).map((t) => [t.name, tensorDims(t)]))
  return (g.node ?? [])
    .filter((n) => {
      if (n.opType === 'ConvTranspose') return true
      const w = inits.get(n.input?.[1] ?? '')
      return n.opType === 'Conv' && w?.length === 5 && w.slice(2).some((d) => d !== 1)
    })
    .map((n) => n.name ?? '')
}

for (const [id, outputs] of [
  ['tiny-unet', 1],
  ['tiny-unet-ds', 2],
] as const) {
  test(`${id}: WebGPU rewrite is exact and leaves no ConvTranspose or 3×3×3 Conv`, async () => {
    const bytes = pack(id)
    assert.ok(webgpuUnfriendly(bytes).length > 0)
    const r = rewriteForProvider(bytes, 'webgpu')
    assert.equal(r.applied.filter((a) => /ConvTranspose/.test(a)).length, 2)
    assert.equal(r.applied.filter((a) => /Conv 3×3×3/.test(a)).length, 10)
    assert.deepEqual(r.skipped, [])
    assert.deepEqual(webgpuUnfriendly(r.bytes), [])
    const m = decodeModel(r.bytes)
    assert.deepEqual(graphProblems(m.graph!), [])
    assert.deepEqual(readGraphIO(r.bytes), readGraphIO(bytes))
    assert.equal(readGraphIO(r.bytes).outputs.length, outputs)
    // The old 3-D weights are gone, not carried along.
    const names = new Set((m.graph!.initializer ?? []).map((t) => t.name))
    assert.ok(!names.has('up1.weight') && !names.has('enc0.0.weight'))
    for (const [dims, seed] of [
      [[1, 1, 32, 32, 32], 1],
      [[1, 1, 40, 32, 48], 2],
      [[2, 1, 16, 24, 8], 3],
    ] as const) {
      const d = await maxDiff(bytes, r.bytes, 'image', [...dims], seed)
      assert.ok(d < 1e-4, `${id} ${dims.join('×')}: max |diff| ${d}`)
    }
  })
}

test('readGraphIO reports names, element types, dynamic dims and the opset', () => {
  assert.deepEqual(readGraphIO(pack('tiny-unet-ds')), {
    inputs: [{ name: 'image', elemType: 'float32', shape: ['N', 1, 'D', 'H', 'W'] }],
    outputs: [
      { name: 'logits_ds', elemType: 'float32', shape: ['N', 3, 'Dh', 'Hh', 'Wh'] },
      { name: 'logits', elemType: 'float32', shape: ['N', 3, 'D', 'H', 'W'] },
    ],
    opset: 17,
  })
})

test('cpu (and webgpu with nothing to rewrite) return the very same bytes', () => {
  for (const id of ['tiny-unet', 'threshold']) {
    const bytes = pack(id)
    const r = rewriteForProvider(bytes, 'cpu')
    assert.equal(r.bytes, bytes)
    assert.deepEqual([r.applied, r.skipped], [[], []])
  }
  const t = pack('threshold')
  const r = rewriteForProvider(t, 'webgpu')
  assert.equal(r.bytes, t)
  assert.deepEqual([r.applied, r.skipped], [[], []])
})

interface OneNode {
  readonly op: 'Conv' | 'ConvTranspose'
  /** Input channels. */
  readonly c: number
  readonly inits: readonly { name: string; dims: number[] }[]
  readonly attrs: readonly onnx.IAttributeProto[]
  readonly opset?: number
  readonly irVersion?: number
}

/** A one-node model: x [N, C, D, H, W] (dynamic) → op → y, with float32 initializers. */
function oneNode({ op, c, inits, attrs, opset = 17, irVersion = 8 }: OneNode): Uint8Array {
  const dyn = (n: string): onnx.TensorShapeProto.IDimension => ({ dimParam: n })
  const value = (name: string, dim: onnx.TensorShapeProto.IDimension[]) => ({
    name,
    type: { tensorType: { elemType: 1, shape: { dim } } },
  })
  const sizes = (dims: number[]) => dims.reduce((a, b) => a * b, 1)
  const initializer = inits.map((t, k) => float32Tensor(t.name, t.dims, seeded(sizes(t.dims), k)))
  const xy = ['N', 'D', 'H', 'W'].map(dyn)
  const input = [value('x', [xy[0]!, { dimValue: c }, ...xy.slice(1)])]
  // Before IR version 4 every initializer is also a graph input.
  if (irVersion < 4) {
    for (const t of inits) {
      input.push(
        value(
          t.name,
          t.dims.map((d) => ({ dimValue: d })),
        ),
      )
    }
  }
  const node = { name: 'n', opType: op, input: ['x', ...inits.map((t) => t.name)], output: ['y'] }
  const model = proto.ModelProto.create({
    irVersion,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: [{ ...node, attribute: [...attrs] }],
      input,
      output: [value('y', [xy[0]!, dyn('C'), ...['Do', 'Ho', 'Wo'].map(dyn)])],
      initializer,
    },
  })
  return encodeModel(model)
}

function autoPad(mode: string): onnx.IAttributeProto {
  const s = Uint8Array.from(mode, (ch) => ch.charCodeAt(0))
  return { name: 'auto_pad', type: proto.AttributeProto.AttributeType.STRING, s }
}

/** Rewrites a one-node model and checks it against the original on CPU at a few input sizes. */
async function assertExactRewrite(m: OneNode, inputs: number[][], what: string): Promise<void> {
  const bytes = oneNode(m)
  const r = rewriteForProvider(bytes, 'webgpu')
  assert.equal(r.applied.length, 1, `${what}: ${r.skipped.join('; ')}`)
  assert.deepEqual(webgpuUnfriendly(r.bytes), [], what)
  assert.deepEqual(graphProblems(decodeModel(r.bytes).graph!), [], what)
  for (const [k, dims] of inputs.entries()) {
    const d = await maxDiff(bytes, r.bytes, 'x', [dims[0]!, m.c, ...dims.slice(1)], 50 + k)
    assert.ok(d < 1e-5, `${what}, input ${dims.join('×')}: max |diff| ${d}`)
  }
}

const bias = (n: number) => ({ name: 'b', dims: [n] })

test('single ConvTranspose with kernel = stride, with and without bias: rewrite is exact', async () => {
  for (const [k, withBias] of [
    [[2, 2, 2], true],
    [[2, 2, 2], false],
    [[1, 2, 2], true],
    [[3, 1, 2], true],
  ] as const) {
    const inits = [{ name: 'w', dims: [3, 5, ...k] }, ...(withBias ? [bias(5)] : [])]
    const attrs = [intsAttr('kernel_shape', k), intsAttr('strides', k)]
    const inputs = [
      [1, 4, 4, 4],
      [2, 3, 5, 7],
    ]
    await assertExactRewrite({ op: 'ConvTranspose', c: 3, inits, attrs }, inputs, `kernel ${k}`)
  }
  // Kernel 1×1×1 with default strides, in an IR version 3 graph (initializers are inputs too).
  const inits = [{ name: 'w', dims: [3, 2, 1, 1, 1] }, bias(2)]
  const m: OneNode = { op: 'ConvTranspose', c: 3, inits, attrs: [], irVersion: 3 }
  await assertExactRewrite(m, [[1, 2, 3, 4]], 'IR 3')
})

test('single Conv 3-D, with and without bias, strided, anisotropic, padded: rewrite is exact', async () => {
  const cases: [string, number[], onnx.IAttributeProto[]][] = [
    ['3×3×3 pad 1', [3, 3, 3], [intsAttr('pads', [1, 1, 1, 1, 1, 1])]],
    [
      '3×3×3 stride 2 pad 1',
      [3, 3, 3],
      [intsAttr('strides', [2, 2, 2]), intsAttr('pads', [1, 1, 1, 1, 1, 1])],
    ],
    ['1×3×3 pad 0,1,1', [1, 3, 3], [intsAttr('pads', [0, 1, 1, 0, 1, 1])]],
    [
      '3×1×1 stride 2,1,1',
      [3, 1, 1],
      [intsAttr('strides', [2, 1, 1]), intsAttr('pads', [1, 0, 0, 0, 0, 0])],
    ],
    [
      '2×3×2 stride 2,3,1',
      [2, 3, 2],
      [intsAttr('strides', [2, 3, 1]), intsAttr('pads', [1, 0, 2, 0, 1, 1])],
    ],
    ['1×1×1 stride 1,2,2', [1, 1, 1], [intsAttr('strides', [1, 2, 2])]],
    ['2×2×2 SAME_UPPER', [2, 2, 2], [autoPad('SAME_UPPER')]],
    ['2×3×2 SAME_LOWER', [2, 3, 2], [autoPad('SAME_LOWER')]],
    ['3×3×3 VALID', [3, 3, 3], [autoPad('VALID')]],
  ]
  for (const [what, k, attrs] of cases) {
    for (const withBias of [true, false]) {
      const inits = [{ name: 'w', dims: [4, 3, ...k] }, ...(withBias ? [bias(4)] : [])]
      const m = { op: 'Conv', c: 3, inits, attrs: [intsAttr('kernel_shape', k), ...attrs] } as const
      const inputs = [
        [1, 5, 6, 7],
        [2, 4, 9, 5],
        [1, 3, 3, 3],
      ]
      await assertExactRewrite(m, inputs, `${what}${withBias ? ' with bias' : ''}`)
    }
  }
})

test('nodes that cannot be rewritten are left alone and reported', () => {
  const w = { name: 'w', dims: [4, 3, 3, 3, 3] }
  const pads = intsAttr('pads', [1, 1, 1, 1, 1, 1])
  // Weights fed as a graph input rather than an initializer.
  const noInit = decodeModel(oneNode({ op: 'Conv', c: 3, inits: [w], attrs: [pads] }))
  noInit.graph!.initializer = []
  noInit.graph!.input!.push({ name: 'w', type: { tensorType: { elemType: 1 } } })
  const a = encodeModel(noInit)
  const ra = rewriteForProvider(a, 'webgpu')
  assert.equal(ra.bytes, a)
  assert.deepEqual(ra.skipped, ['n: Conv, weights are not an initializer'])
  const skipped = (m: OneNode) => rewriteForProvider(oneNode(m), 'webgpu').skipped
  const dilated = [pads, intsAttr('dilations', [2, 2, 2])]
  assert.deepEqual(skipped({ op: 'Conv', c: 3, inits: [w], attrs: dilated }), ['n: Conv, dilated'])
  const grouped = { op: 'Conv', c: 6, inits: [w], attrs: [pads, intAttr('group', 2)] } as const
  assert.deepEqual(skipped(grouped), ['n: Conv, grouped'])
  const strided = [intsAttr('strides', [2, 2, 2]), autoPad('SAME_UPPER')]
  assert.deepEqual(skipped({ op: 'Conv', c: 3, inits: [w], attrs: strided }), [
    'n: Conv, auto_pad SAME_UPPER with strides',
  ])
  // 2-D Convs are fine on WebGPU: neither rewritten nor reported.
  const w2 = { name: 'w', dims: [4, 3, 3, 3] }
  const conv2d = rewriteForProvider(oneNode({ op: 'Conv', c: 3, inits: [w2], attrs: [] }), 'webgpu')
  assert.deepEqual([conv2d.applied, conv2d.skipped], [[], []])
  const wt = { name: 'w', dims: [3, 5, 2, 2, 2] }
  assert.deepEqual(skipped({ op: 'ConvTranspose', c: 3, inits: [wt], attrs: [] }), [
    'n: ConvTranspose, kernel 2×2×2 ≠ strides 1×1×1',
  ])
  const padded = [intsAttr('strides', [2, 2, 2]), intsAttr('pads', [1, 1, 1, 1, 1, 1])]
  assert.deepEqual(skipped({ op: 'ConvTranspose', c: 3, inits: [wt], attrs: padded }), [
    'n: ConvTranspose, padded',
  ])
  // Opset 10 has no Pad with a pads input: nothing is rewritten, the opset is not raised.
  const strides = [intsAttr('strides', [2, 2, 2])]
  const old = oneNode({ op: 'ConvTranspose', c: 3, inits: [wt], attrs: strides, opset: 10 })
  const ro = rewriteForProvider(old, 'webgpu')
  assert.equal(ro.bytes, old)
  assert.deepEqual(ro.skipped, ['n: ConvTranspose, opset 10 < 11'])
})

test('models with external data or that are not ONNX are refused with E_MODEL', () => {
  const m = decodeModel(pack('threshold'))
  const w = m.graph!.initializer!.find((t) => t.name === 'weight')!
  w.rawData = new Uint8Array(0)
  w.dataLocation = proto.TensorProto.DataLocation.EXTERNAL
  w.externalData = [{ key: 'location', value: '../../etc/passwd' }]
  const bytes = encodeModel(m)
  for (const f of [
    () => rewriteForProvider(bytes, 'cpu'),
    () => rewriteForProvider(bytes, 'webgpu'),
    () => readGraphIO(bytes),
  ]) {
    assert.throws(f, (e) => {
      assert.ok(e instanceof AppError)
      assert.equal(e.code, 'E_MODEL')
      assert.match(e.message, /"weight".*external data at "\.\.\/\.\.\/etc\/passwd"/)
      return true
    })
  }
  assert.throws(
    () => rewriteForProvider(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), 'cpu'),
    (e) => e instanceof AppError && e.code === 'E_MODEL',
  )
  assert.throws(
    () => readGraphIO(new Uint8Array(0)),
    (e) => e instanceof AppError && e.code === 'E_MODEL',
  )
})

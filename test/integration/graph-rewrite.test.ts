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

/** A one-node model: x [N, C, D, H, W] (dynamic) → op → y, with float32 initializers. */
function oneNode(
  op: string,
  c: number,
  inits: { name: string; dims: number[] }[],
  attrs: onnx.IAttributeProto[],
  opset = 17,
): Uint8Array {
  const dyn = (n: string): onnx.TensorShapeProto.IDimension => ({ dimParam: n })
  const value = (name: string, ch: onnx.TensorShapeProto.IDimension) => ({
    name,
    type: {
      tensorType: { elemType: 1, shape: { dim: [dyn('N'), ch, dyn('D'), dyn('H'), dyn('W')] } },
    },
  })
  const initializer = inits.map((t, k) =>
    float32Tensor(
      t.name,
      t.dims,
      seeded(
        t.dims.reduce((a, b) => a * b, 1),
        100 + k,
      ),
    ),
  )
  const model = proto.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'g',
      node: [
        {
          name: 'n',
          opType: op,
          input: ['x', ...inits.map((t) => t.name)],
          output: ['y'],
          attribute: attrs,
        },
      ],
      input: [value('x', { dimValue: c })],
      output: [value('y', dyn('C'))],
      initializer,
    },
  })
  return encodeModel(model)
}

test('single ConvTranspose 2×2×2 stride 2 with bias: rewrite is exact', async () => {
  const bytes = oneNode(
    'ConvTranspose',
    3,
    [
      { name: 'w', dims: [3, 5, 2, 2, 2] },
      { name: 'b', dims: [5] },
    ],
    [intsAttr('kernel_shape', [2, 2, 2]), intsAttr('strides', [2, 2, 2])],
  )
  const r = rewriteForProvider(bytes, 'webgpu')
  assert.equal(r.applied.length, 1)
  assert.deepEqual(webgpuUnfriendly(r.bytes), [])
  for (const dims of [
    [1, 3, 4, 4, 4],
    [2, 3, 3, 5, 7],
  ]) {
    const d = await maxDiff(bytes, r.bytes, 'x', dims, 7)
    assert.ok(d < 1e-5, `${dims.join('×')}: ${d}`)
  }
})

test('single Conv 3×3×3 pad 1, with and without bias: rewrite is exact', async () => {
  const attrs = [intsAttr('kernel_shape', [3, 3, 3]), intsAttr('pads', [1, 1, 1, 1, 1, 1])]
  for (const inits of [
    [
      { name: 'w', dims: [4, 3, 3, 3, 3] },
      { name: 'b', dims: [4] },
    ],
    [{ name: 'w', dims: [4, 3, 3, 3, 3] }],
  ]) {
    const bytes = oneNode('Conv', 3, inits, attrs)
    const r = rewriteForProvider(bytes, 'webgpu')
    assert.equal(r.applied.length, 1)
    assert.deepEqual(webgpuUnfriendly(r.bytes), [])
    for (const dims of [
      [1, 3, 5, 6, 7],
      [2, 3, 1, 4, 3],
    ]) {
      const d = await maxDiff(bytes, r.bytes, 'x', dims, 9)
      assert.ok(d < 1e-5, `${inits.length} initializers, ${dims.join('×')}: ${d}`)
    }
  }
})

test('nodes that cannot be rewritten are left alone and reported', () => {
  // Weights fed as a graph input rather than an initializer.
  const noInit = decodeModel(
    oneNode(
      'Conv',
      3,
      [{ name: 'w', dims: [4, 3, 3, 3, 3] }],
      [intsAttr('pads', [1, 1, 1, 1, 1, 1])],
    ),
  )
  noInit.graph!.initializer = []
  noInit.graph!.input!.push({ name: 'w', type: { tensorType: { elemType: 1 } } })
  const a = encodeModel(noInit)
  const ra = rewriteForProvider(a, 'webgpu')
  assert.equal(ra.bytes, a)
  assert.deepEqual(ra.skipped, ['n: Conv, weights are not an initializer'])
  // Strided Conv and stride-1 ConvTranspose.
  const strided = oneNode(
    'Conv',
    3,
    [{ name: 'w', dims: [4, 3, 3, 3, 3] }],
    [intsAttr('strides', [2, 2, 2]), intsAttr('pads', [1, 1, 1, 1, 1, 1])],
  )
  assert.deepEqual(rewriteForProvider(strided, 'webgpu').skipped, ['n: Conv, strided'])
  const ct = oneNode('ConvTranspose', 3, [{ name: 'w', dims: [3, 5, 2, 2, 2] }], [])
  assert.deepEqual(rewriteForProvider(ct, 'webgpu').skipped, [
    'n: ConvTranspose, strides are not 2',
  ])
  // Opset 10 has no Pad with a pads input: nothing is rewritten, the opset is not raised.
  const old = oneNode(
    'ConvTranspose',
    3,
    [{ name: 'w', dims: [3, 5, 2, 2, 2] }],
    [intsAttr('strides', [2, 2, 2])],
    10,
  )
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

// The U-Net family demo packs (models/architectures/, random weights): each loads (sha256), matches
// its card, reproduces the PyTorch outputs recorded at export time, survives the WebGPU graph
// rewrite exactly, and segments a crop of a real MRI through the engine on the CPU provider; on
// WebGPU too, against the CPU, where the machine has an adapter.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import * as ort from 'onnxruntime-node'
import type { ModelCard } from '../../src/shared/model-card.js'
import type { Volume } from '../../src/shared/volume.js'
import { openVolume } from '../../src/io/open-volume.js'
import { segmentVolume } from '../../src/inference/segment-volume.js'
import { loadPackFromDir, type LoadedPack } from '../../src/inference/ort/model-store.js'
import { openModelSession, PROVIDER_TOLERANCE } from '../../src/inference/ort/open-session.js'
import { readGraphIO, rewriteForProvider } from '../../src/inference/graph/rewrite-for-provider.js'
import {
  attrInt,
  decodeModel,
  graphProblems,
  tensorDims,
} from '../../src/inference/graph/onnx-model.js'
import { softmaxChannels } from '../../src/inference/tta.js'
import { AppError } from '../../src/shared/errors.js'
import { ROOT, fixture } from '../helpers.js'

const ARCH = join(ROOT, 'models', 'architectures')
const IDS = ['unet3d', 'attention-unet', 'unet-plus-plus', 'sd-unet', 'transunet'] as const
/** Deep-supervision outputs, in graph order, before the card's `logits`. */
const EXTRA_OUTPUTS: Readonly<Record<string, readonly string[]>> = {
  'unet-plus-plus': ['logits_ds1', 'logits_ds2'],
}
const MAX_BYTES = 2 * 1024 * 1024
/** ONNX Runtime (CPU) against PyTorch, and a rewritten graph against the original. */
const TOLERANCE = 1e-4

interface RefOutput {
  readonly dims: number[]
  readonly mean: number
  readonly meanAbs: number
  /** Flat index → value. */
  readonly samples: Record<string, number>
}
interface RefCase {
  readonly dims: number[]
  readonly seed: number
  readonly outputs: Record<string, RefOutput>
}
const REFERENCE = JSON.parse(readFileSync(join(ARCH, 'reference.json'), 'utf8')) as Record<
  string,
  { params: number; bytes: number; cases: RefCase[] }
>

/** Uniform values in [-1, 1) (mulberry32), bit for bit the export script's `mulberry32`. */
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

/** Runs `bytes` on the CPU provider on one reference case; every output by name. */
async function runCpu(bytes: Uint8Array, c: RefCase): Promise<Map<string, ort.Tensor>> {
  const data = seeded(
    c.dims.reduce((a, b) => a * b, 1),
    c.seed,
  )
  const s = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] })
  try {
    const out = await s.run({ image: new ort.Tensor('float32', data, c.dims) })
    return new Map(s.outputNames.map((n) => [n, out[n]!]))
  } finally {
    await s.release()
  }
}

/** Largest deviation of `got` from the recorded PyTorch output (relative above magnitude 1). */
function refError(got: ort.Tensor, want: RefOutput, what: string): number {
  assert.deepEqual(got.dims, want.dims, `${what}: dims`)
  const y = got.data as Float32Array
  let sum = 0
  let sumAbs = 0
  for (let i = 0; i < y.length; i++) {
    assert.ok(Number.isFinite(y[i]), `${what}: non-finite output at ${i}`)
    sum += y[i]!
    sumAbs += Math.abs(y[i]!)
  }
  const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1, Math.abs(b))
  let err = Math.max(rel(sum / y.length, want.mean), rel(sumAbs / y.length, want.meanAbs))
  for (const [i, v] of Object.entries(want.samples)) err = Math.max(err, rel(y[Number(i)]!, v))
  return err
}

/**
 * Nodes a WebGPU session runs badly or wrongly: any ConvTranspose, any 3-D Conv with a kernel > 1
 * (naive kernel) or with groups (its naive Conv3D kernel has no groups).
 */
function webgpuUnfriendly(bytes: Uint8Array): string[] {
  const g = decodeModel(bytes).graph!
  const inits = new Map((g.initializer ?? []).map((t) => [t.name, tensorDims(t)]))
  return (g.node ?? [])
    .filter((n) => {
      if (n.opType === 'ConvTranspose') return true
      const w = inits.get(n.input?.[1] ?? '')
      if (n.opType !== 'Conv' || w?.length !== 5) return false
      return w.slice(2).some((d) => d !== 1) || (attrInt(n, 'group') ?? 1) !== 1
    })
    .map((n) => `${n.name ?? ''} (${n.opType})`)
}

/** A box of `v` (voxel ranges along i, j, k), with the geometry that keeps it in place. */
function cropVolume(v: Volume, from: readonly number[], size: [number, number, number]): Volume {
  const [si, sj] = v.sizeIJK
  const voxels = new Float32Array(size[0] * size[1] * size[2])
  let o = 0
  for (let k = 0; k < size[2]; k++) {
    for (let j = 0; j < size[1]; j++) {
      const row = from[0]! + si * (from[1]! + j + sj * (from[2]! + k))
      for (let i = 0; i < size[0]; i++) voxels[o++] = v.voxels[row + i] as number
    }
  }
  const d = v.directionLPS
  const step = from.map((f, c) => f * v.spacingMm[c]!)
  const origin = [0, 1, 2].map(
    (r) =>
      v.originLPS[r]! + d[r * 3]! * step[0]! + d[r * 3 + 1]! * step[1]! + d[r * 3 + 2]! * step[2]!,
  )
  return {
    ...v,
    sizeIJK: size,
    originLPS: origin as unknown as Volume['originLPS'],
    pixelType: 'float32',
    voxels,
  }
}

// A 40×44×36 box from the middle of the Colin27 brain (ch2, 1 mm, 181×217×181), as float32:
// 2×2×2 tiles of 32³ at overlap 0.5.
const ch2 = (await openVolume(fixture('ch2.nii.gz'))).volume
const CROP = cropVolume(ch2, [70, 86, 72], [40, 44, 36])

const packs = new Map<string, LoadedPack>()
async function pack(id: string): Promise<LoadedPack> {
  let p = packs.get(id)
  if (p === undefined) {
    p = await loadPackFromDir(join(ARCH, id))
    packs.set(id, p)
  }
  return p
}

for (const id of IDS) {
  test(`${id}: the pack loads (sha256), its card matches the graph, under 2 MB`, async () => {
    const p = await pack(id)
    assert.equal(p.card.id, id)
    assert.ok(p.bytes.length < MAX_BYTES, `${p.bytes.length} bytes`)
    assert.equal(p.bytes.length, REFERENCE[id]?.bytes)
    assert.match(p.card.intendedUse, /random weights; not for clinical or research use/)
    assert.deepEqual(
      p.card.patchSize.map((n) => n % 8),
      [0, 0, 0],
    )
    const io = readGraphIO(p.bytes)
    assert.equal(io.opset, 17)
    assert.deepEqual(io.inputs, [
      { name: 'image', elemType: 'float32', shape: ['N', 1, 'D', 'H', 'W'] },
    ])
    const outs = [...(EXTRA_OUTPUTS[id] ?? []), 'logits']
    assert.deepEqual(
      io.outputs,
      outs.map((name) => ({ name, elemType: 'float32', shape: ['N', 3, 'D', 'H', 'W'] })),
    )
    assert.deepEqual(p.card.input, { name: 'image', channels: 1 })
    assert.deepEqual(p.card.output, { name: 'logits', kind: 'logits' })
    assert.equal(p.card.labels.length, 3)
    // openModelSession cross-checks the card against the graph as the runtime reports it.
    const s = await openModelSession(p.bytes, p.card, 'cpu')
    await s.release()
  })

  test(`${id}: onnxruntime (CPU) matches PyTorch (cubic, batch 2, non-cubic)`, async () => {
    const p = await pack(id)
    const cases = REFERENCE[id]!.cases
    assert.ok(cases.length >= 3)
    for (const c of cases) {
      const out = await runCpu(p.bytes, c)
      assert.deepEqual([...out.keys()].sort(), Object.keys(c.outputs).sort())
      for (const [name, want] of Object.entries(c.outputs)) {
        const what = `${id} ${name} ${c.dims.join('×')}`
        const err = refError(out.get(name)!, want, what)
        assert.ok(err < TOLERANCE, `${what}: differs from PyTorch by ${err}`)
      }
    }
  })

  test(`${id}: the WebGPU rewrite is complete and exact (run on the CPU)`, async () => {
    const p = await pack(id)
    const r = rewriteForProvider(p.bytes, 'webgpu')
    assert.deepEqual(r.skipped, [])
    assert.ok(r.applied.length > 0)
    assert.deepEqual(webgpuUnfriendly(r.bytes), [])
    assert.deepEqual(graphProblems(decodeModel(r.bytes).graph!), [])
    assert.deepEqual(readGraphIO(r.bytes), readGraphIO(p.bytes))
    for (const c of REFERENCE[id]!.cases) {
      const [a, b] = [await runCpu(p.bytes, c), await runCpu(r.bytes, c)]
      for (const [name, ta] of a) {
        const [x, y] = [ta.data as Float32Array, b.get(name)!.data as Float32Array]
        assert.deepEqual(b.get(name)!.dims, ta.dims)
        let m = 0
        for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!))
        assert.ok(m < TOLERANCE, `${id} ${name} ${c.dims.join('×')}: rewrite differs by ${m}`)
      }
    }
  })

  test(`${id}: segments a crop of ch2 through the engine (CPU, sliding window)`, async () => {
    const p = await pack(id)
    const s = await openModelSession(p.bytes, p.card, 'cpu')
    try {
      const res = await segmentVolume(CROP, p.card, s.runner, { uncertainty: true })
      assert.equal(res.tiles, 8)
      const n = CROP.sizeIJK[0] * CROP.sizeIJK[1] * CROP.sizeIJK[2]
      assert.equal(res.labels.length, n)
      assert.ok(res.labels.every((l) => l <= 2))
      assert.equal(
        res.labelVoxels.reduce((a, b) => a + b, 0),
        n,
      )
      assert.ok(res.uncertainty?.every((u) => u >= 0 && u <= 1 + 1e-6))
    } finally {
      await s.release()
    }
  })

  test(`${id}: WebGPU matches the CPU (needs a GPU adapter)`, async (t) => {
    const p = await pack(id)
    let gpu
    try {
      gpu = await openModelSession(p.bytes, p.card, 'webgpu')
    } catch (e) {
      if (e instanceof AppError && e.code === 'E_PROVIDER') {
        t.skip(`no WebGPU here: ${e.message}`)
        return
      }
      throw e
    }
    const cpu = await openModelSession(p.bytes, p.card, 'cpu')
    try {
      // Raw logits on the non-cubic reference input, then the softmax the engine compares.
      const c = REFERENCE[id]!.cases[2]!
      const input = seeded(
        c.dims.reduce((a, b) => a * b, 1),
        c.seed,
      )
      const shape = c.dims as unknown as [number, number, number, number, number]
      const [a, b] = [await cpu.runner.run(input, shape), await gpu.runner.run(input, shape)]
      assert.equal(b.length, a.length)
      const scale = a.reduce((m, v) => Math.max(m, Math.abs(v)), 1)
      let logit = 0
      for (let i = 0; i < a.length; i++) logit = Math.max(logit, Math.abs(a[i]! - b[i]!))
      assert.ok(logit <= 1e-3 * scale, `${id}: WebGPU logits differ by ${logit} (scale ${scale})`)
      const voxels = a.length / 3
      softmaxChannels(a, 1, 3, voxels)
      softmaxChannels(b, 1, 3, voxels)
      let prob = 0
      for (let i = 0; i < a.length; i++) prob = Math.max(prob, Math.abs(a[i]! - b[i]!))
      assert.ok(prob <= PROVIDER_TOLERANCE, `${id}: WebGPU probabilities differ by ${prob}`)
      // And the engine's labels on the crop, voxel for voxel but for near-ties.
      const card: ModelCard = p.card
      const [la, lb] = [
        (await segmentVolume(CROP, card, cpu.runner)).labels,
        (await segmentVolume(CROP, card, gpu.runner)).labels,
      ]
      let same = 0
      for (let i = 0; i < la.length; i++) if (la[i] === lb[i]) same++
      assert.ok(same / la.length >= 0.999, `${id}: label agreement ${same / la.length}`)
    } finally {
      await gpu.release()
      await cpu.release()
    }
  })
}

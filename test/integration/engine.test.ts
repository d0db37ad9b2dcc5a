// The engine end to end with onnxruntime-node (CPU) and the tiny test packs: sliding window vs
// whole-volume inference, exact reorientation on flipped/oblique inputs, resampling, TTA,
// cancellation, provider fallback and pack checks.
import assert from 'node:assert/strict'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import * as ort from 'onnxruntime-node'
import type { ModelCard } from '../../src/shared/model-card.js'
import type { Volume } from '../../src/shared/volume.js'
import { openVolume } from '../../src/io/open-volume.js'
import { segmentVolume, type TileRunner } from '../../src/inference/segment-volume.js'
import { normaliseIntensity } from '../../src/inference/preprocess/normalise.js'
import { loadPackFromDir, loadModelPack } from '../../src/inference/ort/model-store.js'
import { openModelSession } from '../../src/inference/ort/open-session.js'
import { AppError } from '../../src/shared/errors.js'
import { softmaxChannels } from '../../src/inference/tta.js'
import { ROOT, derived, fixture, rejectsWith } from '../helpers.js'

const PACKS = join(ROOT, 'test', 'tiny-model', 'packs')
const tmp = await mkdtemp(join(tmpdir(), 'volseg-engine-'))
after(() => rm(tmp, { recursive: true, force: true }))

/** A smooth random volume, deterministic. */
function syntheticVolume(size: [number, number, number]): Volume {
  const n = size[0] * size[1] * size[2]
  const voxels = new Float32Array(n)
  let seed = 99
  for (let i = 0; i < n; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0
    const x = i % size[0]
    const y = Math.floor(i / size[0]) % size[1]
    const z = Math.floor(i / (size[0] * size[1]))
    voxels[i] = 100 * Math.sin(x / 3) * Math.cos(y / 4) + 20 * z + 10 * (seed / 2 ** 32)
  }
  return {
    sizeIJK: size,
    spacingMm: [1, 1, 1],
    originLPS: [0, 0, 0],
    directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    pixelType: 'float32',
    voxels,
  }
}

function countingRunner(inner: TileRunner): TileRunner & { calls: number } {
  const r = {
    calls: 0,
    run(input: Float32Array, shape: readonly [number, number, number, number, number]) {
      r.calls++
      return inner.run(input, shape)
    },
  }
  return r
}

test('one tile covering the volume equals whole-volume inference (tiny U-Net, CPU)', async () => {
  const pack = await loadPackFromDir(join(PACKS, 'tiny-unet'))
  const card: ModelCard = { ...pack.card, patchSize: [32, 32, 32] }
  const vol = syntheticVolume([32, 32, 32])
  const s = await openModelSession(pack.bytes, card, 'cpu')
  try {
    const res = await segmentVolume(vol, card, s.runner, { uncertainty: true })
    assert.equal(res.tiles, 1)
    // Direct: normalise, one run of the whole grid, softmax, argmax (as-stored, kji: tensor = memory order).
    const x = normaliseIntensity(vol.voxels, card.normalisation).data
    const session = await ort.InferenceSession.create(pack.bytes)
    const out = await session.run({ image: new ort.Tensor('float32', x, [1, 1, 32, 32, 32]) })
    await session.release()
    const logits = out.logits?.data as Float32Array
    const n = 32 ** 3
    let mismatch = 0
    let maxEntDiff = 0
    for (let v = 0; v < n; v++) {
      const l = [0, 1, 2].map((c) => logits[c * n + v] as number)
      const m = Math.max(...l)
      const e = l.map((z) => Math.exp(z - m))
      const sum = e.reduce((a, b) => a + b, 0)
      const p = e.map((z) => z / sum)
      const arg = p.indexOf(Math.max(...p))
      if (arg !== res.labels[v]) mismatch++
      const ent = -p.reduce((a, q) => a + (q > 0 ? q * Math.log(q) : 0), 0) / Math.log(3)
      maxEntDiff = Math.max(maxEntDiff, Math.abs(ent - (res.uncertainty?.[v] as number)))
    }
    assert.equal(mismatch, 0)
    assert.ok(maxEntDiff < 1e-5, `entropy differs by ${maxEntDiff}`)
    assert.equal(res.uncertaintyKind, 'entropy')
    assert.ok(
      res.labelVoxels.every((c) => c > 0),
      `all three classes occur: ${res.labelVoxels.join(',')}`,
    )
  } finally {
    await s.release()
  }
})

/** Expected threshold-model labels on the source grid: voxel > mean of the volume. */
function aboveMean(v: Volume): Uint8Array {
  let sum = 0
  for (let i = 0; i < v.voxels.length; i++) sum += v.voxels[i] as number
  const mean = sum / v.voxels.length
  return Uint8Array.from(v.voxels, (x) => (x > mean ? 1 : 0))
}

for (const name of ['flipped.nii.gz', 'oblique.nii.gz', 'ch2-crop.nii.gz']) {
  test(`threshold model (RAS, sliding window) is exact on the source grid: ${name}`, async () => {
    const { volume } = await openVolume(derived(name))
    const pack = await loadPackFromDir(join(PACKS, 'threshold'))
    const s = await openModelSession(pack.bytes, pack.card, 'cpu')
    try {
      const res = await segmentVolume(volume, pack.card, s.runner, { tta: true, uncertainty: true })
      assert.ok(res.tiles > 1)
      assert.equal(res.networkRuns, Math.ceil(res.tiles) * 8)
      assert.equal(res.uncertaintyKind, 'tta-variance')
      const want = aboveMean(volume)
      let diff = 0
      for (let i = 0; i < want.length; i++) if (want[i] !== res.labels[i]) diff++
      assert.equal(diff, 0, `${diff} voxels differ`)
      // A pointwise model is mirror-invariant: TTA variance is 0 up to float32 cancellation.
      let maxVar = 0
      for (const u of res.uncertainty ?? []) maxVar = Math.max(maxVar, u)
      assert.ok(maxVar < 1e-4, `tta variance ${maxVar}`)
    } finally {
      await s.release()
    }
  })
}

test('resampling to 2 mm and back lands on the source grid (threshold model, ch2)', async () => {
  const { volume } = await openVolume(fixture('ch2.nii.gz'))
  const pack = await loadPackFromDir(join(PACKS, 'threshold'))
  const card: ModelCard = { ...pack.card, spacingMm: [2, 2, 2], patchSize: [64, 64, 64] }
  const s = await openModelSession(pack.bytes, card, 'cpu')
  try {
    const res = await segmentVolume(volume, card, s.runner)
    // Tensor order D, H, W = k (S), j (A), i (R): 181/2, 217/2, 181/2, rounded.
    assert.deepEqual(res.modelShape, [91, 109, 91])
    const want = aboveMean(volume)
    let inter = 0
    let a = 0
    let b = 0
    for (let i = 0; i < want.length; i++) {
      a += want[i] as number
      b += res.labels[i] as number
      if (want[i] && res.labels[i]) inter++
    }
    const dice = (2 * inter) / (a + b)
    assert.ok(dice > 0.95, `Dice ${dice}`)
  } finally {
    await s.release()
  }
})

test('cropToNonzero: statistics and prediction inside the non-zero box, background outside (flipped axes)', async () => {
  const size: [number, number, number] = [40, 36, 30]
  const vol = syntheticVolume(size)
  const inBox = (i: number, j: number, k: number): boolean =>
    i >= 5 && i <= 30 && j >= 4 && j <= 25 && k >= 3 && k <= 20
  const voxels = vol.voxels as Float32Array
  let sum = 0
  let count = 0
  for (let k = 0, v = 0; k < size[2]; k++) {
    for (let j = 0; j < size[1]; j++) {
      for (let i = 0; i < size[0]; i++, v++) {
        if (!inBox(i, j, k)) voxels[v] = 0
        else {
          voxels[v] = (voxels[v] as number) + 500 // keep the box free of exact zeros
          sum += voxels[v] as number
          count++
        }
      }
    }
  }
  const mean = sum / count
  // i → R (flipped against LPS), j → I, k → P: every tensor axis is permuted or flipped.
  const flipped: Volume = { ...vol, directionLPS: [-1, 0, 0, 0, 0, 1, 0, -1, 0] }
  const pack = await loadPackFromDir(join(PACKS, 'threshold'))
  const card: ModelCard = { ...pack.card, cropToNonzero: true, patchSize: [16, 16, 16] }
  const s = await openModelSession(pack.bytes, card, 'cpu')
  try {
    const res = await segmentVolume(flipped, card, s.runner, { uncertainty: true })
    let diff = 0
    for (let k = 0, v = 0; k < size[2]; k++) {
      for (let j = 0; j < size[1]; j++) {
        for (let i = 0; i < size[0]; i++, v++) {
          const want = inBox(i, j, k) && (voxels[v] as number) > mean ? 1 : 0
          if (res.labels[v] !== want) diff++
          if (!inBox(i, j, k)) assert.equal(res.uncertainty?.[v], 0)
        }
      }
    }
    assert.equal(diff, 0)
    // Without the crop the mean includes the zeros, so the box is almost all foreground.
    const plain = await segmentVolume(flipped, { ...card, cropToNonzero: false }, s.runner)
    assert.ok(plain.labelVoxels[1]! > res.labelVoxels[1]!)
  } finally {
    await s.release()
  }
})

test('a probabilities output gives the same labels and entropy as its logits (tiny U-Net, TTA off and on)', async () => {
  const pack = await loadPackFromDir(join(PACKS, 'tiny-unet'))
  const vol = syntheticVolume([40, 36, 44])
  const card: ModelCard = { ...pack.card, patchSize: [16, 16, 16] }
  const s = await openModelSession(pack.bytes, card, 'cpu')
  try {
    // The same network with a softmax at its end: a model whose card says "probabilities".
    const probsRunner: TileRunner = {
      async run(input, shape) {
        const y = await s.runner.run(input, shape)
        softmaxChannels(y, shape[0], 3, y.length / (shape[0] * 3))
        return y
      },
    }
    const probsCard: ModelCard = { ...card, output: { name: 'logits', kind: 'probabilities' } }
    const a = await segmentVolume(vol, card, s.runner, { uncertainty: true })
    const b = await segmentVolume(vol, probsCard, probsRunner, { uncertainty: true })
    let same = 0
    let worst = 0
    for (let v = 0; v < a.labels.length; v++) {
      if (a.labels[v] === b.labels[v]) same++
      worst = Math.max(worst, Math.abs((a.uncertainty?.[v] ?? 0) - (b.uncertainty?.[v] ?? 0)))
    }
    // Blending logits vs probabilities differs only where tiles overlap and classes nearly tie.
    assert.ok(same / a.labels.length > 0.97, `agreement ${same / a.labels.length}`)
    assert.ok(worst < 0.5, `entropy differs by ${worst}`)
    // With one tile the two are the same computation.
    const one = { ...card, patchSize: [44, 36, 40] as [number, number, number] }
    const c1 = await segmentVolume(vol, one, s.runner, { uncertainty: true })
    const c2 = await segmentVolume(vol, { ...one, output: probsCard.output }, probsRunner, {
      uncertainty: true,
    })
    let diff = 0
    let ent = 0
    for (let v = 0; v < c1.labels.length; v++) {
      if (c1.labels[v] !== c2.labels[v]) diff++
      ent = Math.max(ent, Math.abs((c1.uncertainty?.[v] ?? 0) - (c2.uncertainty?.[v] ?? 0)))
    }
    assert.equal(diff, 0)
    assert.ok(ent < 1e-4, `entropy differs by ${ent}`)
  } finally {
    await s.release()
  }
})

test('batches of tiles give the same result as one tile per run (card maxBatch 4, with TTA)', async () => {
  const pack = await loadPackFromDir(join(PACKS, 'tiny-unet'))
  const card: ModelCard = { ...pack.card, patchSize: [16, 16, 16], maxBatch: 4 }
  const vol = syntheticVolume([40, 36, 30])
  const s = await openModelSession(pack.bytes, card, 'cpu')
  try {
    const one = await segmentVolume(vol, card, s.runner, { tta: true, uncertainty: true })
    const runner = countingRunner(s.runner)
    const four = await segmentVolume(vol, card, runner, { tta: true, uncertainty: true, batch: 4 })
    assert.equal(runner.calls, Math.ceil(one.tiles / 4) * 8)
    assert.equal(four.networkRuns, runner.calls)
    let diff = 0
    let worst = 0
    for (let v = 0; v < one.labels.length; v++) {
      if (one.labels[v] !== four.labels[v]) diff++
      worst = Math.max(worst, Math.abs((one.uncertainty?.[v] ?? 0) - (four.uncertainty?.[v] ?? 0)))
    }
    assert.equal(diff, 0)
    assert.ok(worst < 1e-5, `uncertainty differs by ${worst}`)
  } finally {
    await s.release()
  }
})

test('cancellation stops within one network run', async () => {
  const pack = await loadPackFromDir(join(PACKS, 'tiny-unet'))
  const s = await openModelSession(pack.bytes, pack.card, 'cpu')
  try {
    const runner = countingRunner(s.runner)
    let cancel = false
    const p = segmentVolume(
      syntheticVolume([64, 64, 64]),
      { ...pack.card, patchSize: [16, 16, 16] },
      runner,
      {
        onProgress: (e) => {
          if (e.stage === 'inference' && e.done === 3) cancel = true
        },
        isCancelled: () => cancel,
      },
    )
    await rejectsWith(p, 'E_CANCELLED')
    assert.equal(runner.calls, 3)
  } finally {
    await s.release()
  }
})

test('provider choice: an unavailable provider is refused by name; auto falls back to the CPU and says why', async () => {
  const pack = await loadPackFromDir(join(PACKS, 'tiny-unet'))
  await rejectsWith(openModelSession(pack.bytes, pack.card, 'cuda'), 'E_PROVIDER')
  await rejectsWith(openModelSession(pack.bytes, pack.card, 'coreml'), 'E_PROVIDER')
  const s = await openModelSession(pack.bytes, pack.card, 'auto', 'tiny', [
    'cuda',
    'coreml',
    'webgpu',
    'cpu',
  ])
  try {
    const byName = new Map(s.attempts.map((a) => [a.provider, a]))
    assert.match(byName.get('cuda')?.reason ?? '', /not installed/)
    assert.match(byName.get('coreml')?.reason ?? '', /macOS/)
    const webgpu = byName.get('webgpu')
    assert.ok(webgpu, 'webgpu was tried')
    if (s.provider === 'webgpu') {
      // A machine with a GPU: kept only because it matched the CPU reference tile.
      assert.ok((webgpu.maxProbDiff ?? 1) <= 1e-3)
    } else {
      assert.equal(s.provider, 'cpu')
      assert.equal(webgpu.ok, false)
      assert.ok((webgpu.reason ?? '').length > 0)
    }
    assert.ok(s.device.length > 0)
  } finally {
    await s.release()
  }
})

test('packs: sha256 mismatch, card typo and wrong output are refused with E_MODEL', async () => {
  const dir = join(tmp, 'tiny-unet')
  await cp(join(PACKS, 'tiny-unet'), dir, { recursive: true })
  const onnx = await readFile(join(dir, 'model.onnx'))
  onnx[onnx.length - 5] = (onnx[onnx.length - 5] as number) ^ 1
  await writeFile(join(dir, 'model.onnx'), onnx)
  const e = await rejectsWith(loadPackFromDir(dir), 'E_MODEL')
  assert.match(e.message, /sha256/)

  const typo = join(tmp, 'typo')
  await cp(join(PACKS, 'threshold'), typo, { recursive: true })
  const card = JSON.parse(await readFile(join(typo, 'model.json'), 'utf8')) as Record<
    string,
    unknown
  >
  card.patch_size = card.patchSize
  await writeFile(join(typo, 'model.json'), JSON.stringify(card))
  await rejectsWith(loadPackFromDir(typo), 'E_MODEL')

  const ds = await loadPackFromDir(join(PACKS, 'tiny-unet-ds'))
  await rejectsWith(
    openModelSession(ds.bytes, { ...ds.card, output: { name: 'nope', kind: 'logits' } }, 'cpu'),
    'E_MODEL',
  )
  // Choosing the half-resolution deep-supervision head is caught by the output size.
  const s = await openModelSession(
    ds.bytes,
    { ...ds.card, output: { name: 'logits_ds', kind: 'logits' } },
    'cpu',
  )
  try {
    await rejectsWith(
      segmentVolume(
        syntheticVolume([32, 32, 32]),
        { ...ds.card, output: { name: 'logits_ds', kind: 'logits' } },
        s.runner,
      ),
      'E_MODEL',
    )
  } finally {
    await s.release()
  }
  await rejectsWith(loadModelPack('no-such-model', [PACKS]), 'E_MODEL')
  assert.ok((await loadModelPack('threshold', [PACKS])).card.id === 'threshold')
  assert.ok(e instanceof AppError)
})

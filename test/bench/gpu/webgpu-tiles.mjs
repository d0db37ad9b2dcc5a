// WebGPU side of `webgpu-vs-torch.sh`: per-patch time of a pack on onnxruntime-node's WebGPU
// provider (graph rewritten by the engine) and on the CPU, from the compiled engine in dist/
// (the GPU machine has Node but no tsx). Prints one JSON line.
// Usage: node test/bench/gpu/webgpu-tiles.mjs <pack-dir> <patch> [reps]
import { loadPackFromDir } from '../../../dist/inference/ort/model-store.js'
import { openModelSession } from '../../../dist/inference/ort/open-session.js'

const [dir, patchArg, repsArg] = process.argv.slice(2)
const patch = Number(patchArg ?? 64)
const reps = Number(repsArg ?? 30)
const pack = await loadPackFromDir(dir)
const card = { ...pack.card, patchSize: [patch, patch, patch] }
const input = new Float32Array(patch ** 3).map((_, i) => Math.sin(i * 0.37))
const shape = [1, 1, patch, patch, patch]

async function time(provider) {
  let s
  try {
    s = await openModelSession(pack.bytes, card, provider)
  } catch (e) {
    return { provider, error: String(e.message ?? e) }
  }
  try {
    for (let i = 0; i < 3; i++) await s.runner.run(input, shape)
    const t = []
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now()
      await s.runner.run(input, shape)
      t.push(performance.now() - t0)
    }
    t.sort((a, b) => a - b)
    return { provider, ms: t[Math.floor(t.length / 2)], rewrites: s.rewrites, device: s.device }
  } finally {
    await s.release()
  }
}

const results = []
for (const p of ['webgpu', 'cpu']) results.push(await time(p))
console.log(JSON.stringify({ pack: card.id, patch, results }))

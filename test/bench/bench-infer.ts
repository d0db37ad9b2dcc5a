/**
 * Inference benchmark: the engine (`segmentVolume`, CPU provider, no TTA) end to end against a
 * bare ONNX Runtime loop over the same tiles, in the same process. The bare loop builds its own
 * `ort.InferenceSession` (CPU, graphOptimizationLevel 'all', the engine's session options), runs
 * every tile the engine runs (same origins, same patch, cut out of the same preprocessed grid with
 * `extractPatch`) and does nothing else: no softmax, no blending, no resampling back.
 * Target: engine / bare ≤ 1.10 (printed, not asserted).
 *
 * Also printed: the engine's stage timings (preprocess / inference / postprocess, with the time
 * spent inside the runner split out of inference), the tile loop's JS work (cut-out, Gaussian
 * accumulation of the scores; softmax happens once, after blending) timed step by step without the network, tiles/s for every provider this
 * machine lists as available (a session that fails to build prints why), and peak RSS. Exits
 * non-zero only when something fails to run.
 *
 * Cases: ch2.nii.gz with the pack's card copied at patch 64³ and 32³ (overlap as in the card).
 * Engine and bare runs alternate (warm-up first, then 5 pairs) so machine load hits both; medians
 * are reported, with the per-pair ratios and the engine's own ORT time as checks on the headline.
 *
 * Usage: npm run bench:infer [-- --quick] [-- --pack <dir>] [-- --patch N]
 *   --quick     1 timed repetition after the warm-up, and only patch 64³ unless --patch is given
 *   --pack DIR  model pack folder (default test/tiny-model/packs/tiny-unet)
 *   --patch N   patch edge; repeat for several cases (default 64 and 32)
 *   --ct-only   only the post-processing at CT size (synthetic 512×512×300, made by bench:io)
 */
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as ort from 'onnxruntime-node'
import { openVolume } from '../../src/io/open-volume.js'
import { loadPackFromDir } from '../../src/inference/ort/model-store.js'
import { openModelSession, type ModelSession } from '../../src/inference/ort/open-session.js'
import { providerStatus, type ProviderId } from '../../src/inference/ort/providers.js'
import { planGrid, prepareGrid } from '../../src/inference/preprocess/prepare-grid.js'
import { type Shape3, voxelCount } from '../../src/inference/preprocess/resample.js'
import {
  accumulatePatch,
  extractPatch,
  gaussianImportance,
  tileOrigins,
} from '../../src/inference/sliding-window.js'
import { segmentVolume, type TileRunner } from '../../src/inference/segment-volume.js'
import type { ModelCard } from '../../src/shared/model-card.js'
import type { Volume } from '../../src/shared/volume.js'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '..', '..')
const TARGET = 1.1
/** Wall-clock budget per non-CPU provider and case for the tiles/s figure. */
const PROVIDER_BUDGET_MS = 20_000

type Shape5 = [number, number, number, number, number]

interface Prepared {
  readonly grid: Float32Array
  readonly padded: Shape3
  readonly origins: readonly [number, number, number][]
}

interface EngineRun {
  readonly ms: number
  readonly runnerMs: number
  readonly tiles: number
  readonly stages: Readonly<Record<'preprocess' | 'inference' | 'postprocess', number>>
}

interface ProviderLine {
  readonly provider: ProviderId
  readonly tilesPerS?: number
  readonly tilesTimed?: number
  readonly note: string
}

interface CaseResult {
  readonly patch: number
  readonly tiles: number
  readonly modelShape: Shape3
  readonly runs: number
  readonly engineMs: number
  readonly bareMs: number
  readonly ratio: number
  readonly engineAllMs: readonly number[]
  readonly bareAllMs: readonly number[]
  readonly runnerMs: number
  readonly stagesMs: Readonly<Record<'preprocess' | 'inference' | 'postprocess', number>>
  readonly loopWorkMs: Readonly<Record<string, number>>
  readonly providers: readonly ProviderLine[]
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** First line of an error, without onnxruntime's source-location prefix. */
function reason(e: unknown): string {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''
  return line.replace(/^\/onnxruntime_src\/\S+ /, '').slice(0, 200)
}

/** The engine's own preprocessing (`planGrid` + `prepareGrid`), so the bare loop sees the same tiles. */
function prepare(volume: Volume, card: ModelCard): Prepared {
  const plan = planGrid(volume, card)
  const grid = prepareGrid(volume, card, plan)
  return {
    grid,
    padded: plan.padded,
    origins: tileOrigins(plan.padded, card.patchSize, card.overlap),
  }
}

/** Wraps a runner and adds up the time spent inside `run`. */
function timedRunner(inner: TileRunner): TileRunner & { ms: number } {
  const r = {
    ms: 0,
    async run(input: Float32Array, shape: readonly [number, number, number, number, number]) {
      const t0 = performance.now()
      try {
        return await inner.run(input, shape)
      } finally {
        r.ms += performance.now() - t0
      }
    },
  }
  return r
}

async function engineOnce(volume: Volume, card: ModelCard, runner: TileRunner): Promise<EngineRun> {
  const timed = timedRunner(runner)
  const t0 = performance.now()
  const res = await segmentVolume(volume, card, timed, { tta: false })
  const ms = performance.now() - t0
  return { ms, runnerMs: timed.ms, tiles: res.tiles, stages: res.timingsMs }
}

/**
 * Runs `tiles` (default all) of `prep` through `run`, one tile per call, input cut out exactly as
 * the engine does. Stops early once `budgetMs` is spent (always runs at least one tile).
 */
async function tileLoop(
  prep: Prepared,
  card: ModelCard,
  run: (input: Float32Array, shape: Shape5) => Promise<Float32Array>,
  budgetMs = Infinity,
): Promise<{ ms: number; tiles: number; checksum: number }> {
  const patch = card.patchSize
  const channels = card.input.channels
  const patchVox = voxelCount(patch)
  const one = new Float32Array(patchVox)
  const input = new Float32Array(channels * patchVox)
  const shape: Shape5 = [1, channels, patch[0], patch[1], patch[2]]
  let checksum = 0
  let tiles = 0
  const t0 = performance.now()
  for (const o of prep.origins) {
    extractPatch(prep.grid, prep.padded, o, patch, one)
    for (let c = 0; c < channels; c++) input.set(one, c * patchVox)
    const y = await run(input, shape)
    checksum += y[0]!
    tiles++
    if (performance.now() - t0 > budgetMs) break
  }
  return { ms: performance.now() - t0, tiles, checksum }
}

/** The bare loop's session: built directly, CPU, the engine's session options. */
async function bareSession(bytes: Uint8Array, card: ModelCard) {
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  })
  const run = async (input: Float32Array, shape: Shape5): Promise<Float32Array> => {
    const feeds = { [card.input.name]: new ort.Tensor('float32', input, shape) }
    const out = await session.run(feeds, [card.output.name])
    return out[card.output.name]!.data as Float32Array
  }
  return { session, run }
}

/**
 * The tile loop's JS work without the network (no TTA, one tile per run): every tile in the
 * engine's order, each step timed on its own, into a fresh accumulator like the engine's (so
 * first-touch page faults count as they do there). The logits are tile-sized stand-ins, refilled
 * outside the timing. Totals over all tiles, in ms, best of two passes.
 */
function perTileWork(prep: Prepared, card: ModelCard): Record<string, number> {
  const patch = card.patchSize
  const classes = card.labels.length
  const patchVox = voxelCount(patch)
  const logits = new Float32Array(classes * patchVox)
  for (let i = 0; i < logits.length; i++) logits[i] = Math.sin(i * 0.37) * 4
  const y = new Float32Array(logits.length)
  const weight = gaussianImportance(patch, card.gaussianSigmaFraction)
  const nPadded = voxelCount(prep.padded)
  const one = new Float32Array(patchVox)
  let best: Record<string, number> | undefined
  // Best of two passes: a diagnostic, so a busy spell of the machine should not inflate it.
  for (let pass = 0; pass < 2; pass++) {
    // As the engine: classes 1…C−1 only, the weight sum computed separably (not per tile).
    const acc = new Float32Array((classes - 1) * nPadded)
    let tExtract = 0
    let tAccumulate = 0
    for (const o of prep.origins) {
      y.set(logits)
      const t0 = performance.now()
      extractPatch(prep.grid, prep.padded, o, patch, one)
      const t1 = performance.now()
      // l_c − l_0 fused into the accumulation, as the engine does.
      const rest = y.subarray(patchVox)
      accumulatePatch(
        acc,
        null,
        prep.padded,
        classes - 1,
        o,
        patch,
        rest,
        weight,
        y.subarray(0, patchVox),
      )
      const t2 = performance.now()
      tExtract += t1 - t0
      tAccumulate += t2 - t1
    }
    const t: Record<string, number> = {
      extractPatch: tExtract,
      accumulatePatch: tAccumulate,
    }
    best = best
      ? Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.min(v, best![k]!)]))
      : t
  }
  return best!
}

/** tiles/s for every provider whose status is available (CPU from the bare loop already timed). */
async function providerLines(
  bytes: Uint8Array,
  card: ModelCard,
  prep: Prepared,
  cpu: { bareMs: number; engineMs: number },
): Promise<ProviderLine[]> {
  const lines: ProviderLine[] = []
  for (const s of providerStatus()) {
    if (s.id === 'cpu') {
      const n = prep.origins.length
      lines.push({
        provider: 'cpu',
        tilesPerS: n / (cpu.bareMs / 1000),
        tilesTimed: n,
        note: `bare loop; engine end to end ${(n / (cpu.engineMs / 1000)).toFixed(1)} tiles/s`,
      })
      continue
    }
    if (!s.available) {
      lines.push({ provider: s.id, note: `not available: ${s.reason ?? 'unknown'}` })
      continue
    }
    let session: ModelSession | undefined
    try {
      session = await openModelSession(bytes, card, s.id)
      const runner = session.runner
      const run = (x: Float32Array, shape: Shape5): Promise<Float32Array> => runner.run(x, shape)
      await tileLoop({ ...prep, origins: prep.origins.slice(0, 1) }, card, run) // warm-up
      const r = await tileLoop(prep, card, run, PROVIDER_BUDGET_MS)
      lines.push({
        provider: s.id,
        tilesPerS: r.tiles / (r.ms / 1000),
        tilesTimed: r.tiles,
        note: `${session.device}${session.rewrites.length ? `, rewrites: ${session.rewrites.join(', ')}` : ''}`,
      })
    } catch (e) {
      lines.push({ provider: s.id, note: `no session: ${reason(e)}` })
    } finally {
      await session?.release()
    }
  }
  return lines
}

async function measureCase(
  volume: Volume,
  bytes: Uint8Array,
  baseCard: ModelCard,
  edge: number,
  runs: number,
): Promise<CaseResult> {
  const card: ModelCard = { ...baseCard, patchSize: [edge, edge, edge] }
  const prep = prepare(volume, card)
  const engine = await openModelSession(bytes, card, 'cpu')
  const bare = await bareSession(bytes, card)
  const engineRuns: EngineRun[] = []
  const bareMs: number[] = []
  try {
    process.stdout.write(`patch ${edge}³: ${prep.origins.length} tiles; warm-up`)
    const w = await engineOnce(volume, card, engine.runner)
    if (w.tiles !== prep.origins.length) {
      throw new Error(`the engine ran ${w.tiles} tiles, the bare loop has ${prep.origins.length}`)
    }
    await tileLoop(prep, card, bare.run)
    for (let r = 0; r < runs; r++) {
      process.stdout.write(` · run ${r + 1}/${runs}`)
      // Alternate which goes first, so a slow spell of the machine is shared out.
      if (r % 2 === 0) {
        engineRuns.push(await engineOnce(volume, card, engine.runner))
        bareMs.push((await tileLoop(prep, card, bare.run)).ms)
      } else {
        bareMs.push((await tileLoop(prep, card, bare.run)).ms)
        engineRuns.push(await engineOnce(volume, card, engine.runner))
      }
    }
    process.stdout.write('\n')
  } finally {
    await engine.release()
    await bare.session.release()
  }
  const engineMs = median(engineRuns.map((e) => e.ms))
  const bareMed = median(bareMs)
  const stage = (k: 'preprocess' | 'inference' | 'postprocess'): number =>
    median(engineRuns.map((e) => e.stages[k]))
  const loopWorkMs = perTileWork(prep, card)
  const providers = await providerLines(bytes, card, prep, { bareMs: bareMed, engineMs })
  return {
    patch: edge,
    tiles: prep.origins.length,
    modelShape: prep.padded,
    runs,
    engineMs,
    bareMs: bareMed,
    ratio: engineMs / bareMed,
    engineAllMs: engineRuns.map((e) => e.ms),
    bareAllMs: bareMs,
    runnerMs: median(engineRuns.map((e) => e.runnerMs)),
    stagesMs: {
      preprocess: stage('preprocess'),
      inference: stage('inference'),
      postprocess: stage('postprocess'),
    },
    loopWorkMs,
    providers,
  }
}

function printCase(c: CaseResult): void {
  const verdict = c.ratio <= TARGET ? 'PASS' : `OVER TARGET (> ${TARGET.toFixed(2)})`
  const ms = (x: number): string => `${x.toFixed(0).padStart(7)} ms`
  const pct = (x: number): string => `${((100 * x) / c.engineMs).toFixed(1).padStart(5)} %`
  console.log(
    `\n== patch ${c.patch}³ · ${c.tiles} tiles · padded grid ${c.modelShape.join('×')} · ` +
      `median of ${c.runs} ==`,
  )
  console.log(
    `engine end to end   ${ms(c.engineMs)}   (runs: ${c.engineAllMs.map((x) => x.toFixed(0)).join(', ')})`,
  )
  console.log(
    `bare ORT loop       ${ms(c.bareMs)}   (runs: ${c.bareAllMs.map((x) => x.toFixed(0)).join(', ')})`,
  )
  console.log(
    `engine / bare       ${c.ratio.toFixed(3).padStart(10)}   target ≤ ${TARGET.toFixed(2)}: ${verdict}`,
  )
  // Checks on the headline: the runs of a pair are back to back, so their ratio shares the load;
  // the engine's own ORT time should match the bare loop's (same graph, same options).
  const pairs = c.engineAllMs.map((e, i) => e / c.bareAllMs[i]!)
  console.log(
    `  per-pair ratios   ${pairs.map((r) => r.toFixed(3)).join(', ')} (median ${median(pairs).toFixed(3)})`,
  )
  const ortDrift = c.runnerMs / c.bareMs - 1
  console.log(
    `  ORT inside the engine ${c.runnerMs.toFixed(0)} ms vs bare ${c.bareMs.toFixed(0)} ms ` +
      `(${(100 * ortDrift).toFixed(1)} %); engine time outside ORT ÷ bare + 1 = ` +
      `${((c.engineMs - c.runnerMs) / c.bareMs + 1).toFixed(3)}` +
      (Math.abs(ortDrift) > 0.05 ? '  (ORT times differ > 5 %: the machine was busy; rerun)' : ''),
  )
  const s = c.stagesMs
  const loopRest = s.inference - c.runnerMs
  console.log('engine stages (medians; % of engine end to end):')
  console.log(`  preprocess                     ${ms(s.preprocess)} ${pct(s.preprocess)}`)
  console.log(`  inference                      ${ms(s.inference)} ${pct(s.inference)}`)
  console.log(`    inside runner.run (ORT)      ${ms(c.runnerMs)} ${pct(c.runnerMs)}`)
  console.log(`    rest of the tile loop        ${ms(loopRest)} ${pct(loopRest)}`)
  console.log(`  postprocess                    ${ms(s.postprocess)} ${pct(s.postprocess)}`)
  const over = c.engineMs - c.bareMs
  console.log(
    `  overhead vs bare ${over.toFixed(0)} ms = preprocess ${s.preprocess.toFixed(0)} + ` +
      `(inference − bare) ${(s.inference - c.bareMs).toFixed(0)} + postprocess ${s.postprocess.toFixed(0)}`,
  )
  const work = Object.entries(c.loopWorkMs)
  const workSum = work.reduce((a, [, v]) => a + v, 0)
  const perTile = (x: number): string => `${(x / c.tiles).toFixed(2).padStart(6)} ms/tile`
  console.log(
    `tile-loop JS work without the network, each step timed alone over all ${c.tiles} tiles, best of 2 ` +
      `(ORT: ${(c.bareMs / c.tiles).toFixed(2)} ms/tile in the bare loop):`,
  )
  for (const [label, v] of work) console.log(`  ${label.padEnd(31)}${ms(v)}  ${perTile(v)}`)
  console.log(`  ${'sum'.padEnd(31)}${ms(workSum)}  ${perTile(workSum)}`)
  console.log(
    `  ${'(in the engine: rest of loop)'.padEnd(31)}${ms(loopRest)}  ${perTile(loopRest)}`,
  )
  console.log('providers (tiles/s, one tile per run):')
  for (const p of c.providers) {
    const rate = p.tilesPerS === undefined ? '      –' : p.tilesPerS.toFixed(1).padStart(7)
    const n = p.tilesTimed === undefined ? '' : ` over ${p.tilesTimed} tiles`
    console.log(`  ${p.provider.padEnd(7)} ${rate}${n}  ${p.note}`)
  }
}

/** The synthetic CT that bench:io makes (512×512×300 int16, 0.7×0.7×1.0 mm), cached there. */
const SYNTH_NII = join(tmpdir(), 'volseg-bench', 'synth-512x512x300-int16.nii.gz')

/**
 * Post-processing at CT size: the engine's whole post-inference stage (scores back to the source
 * grid, argmax, the card's rules: largest component and islands for two labels) on the synthetic
 * 512×512×300 volume, divided by `openVolume` of the same file in the same run. The network is
 * replaced by a runner whose logits follow the input intensity (label 1 soft tissue, label 2
 * bright), so the mask has realistic islands; the card is the tiny pack's at patch 128³.
 * Printed, never asserted. Skipped (with a line saying why) when the volume is not there.
 */
async function measurePostprocessAtCtSize(
  card: ModelCard,
): Promise<Record<string, number> | undefined> {
  if (!existsSync(SYNTH_NII)) {
    console.log(
      `post-processing at CT size: skipped, ${SYNTH_NII} not found (npm run bench:io makes it)`,
    )
    return undefined
  }
  const t0 = performance.now()
  const { volume } = await openVolume(SYNTH_NII)
  const readMs = performance.now() - t0
  const ctCard: ModelCard = {
    ...card,
    patchSize: [128, 128, 128],
    normalisation: { kind: 'none' },
    postprocess: [
      { label: 1, largestComponent: true },
      { label: 2, minIslandMm3: 50 },
    ],
  } as ModelCard
  const runner: TileRunner = {
    run: (input, shape) => {
      const n = shape[2] * shape[3] * shape[4]
      const b = shape[0]
      const out = new Float32Array(b * 3 * n)
      for (let q = 0; q < b; q++) {
        for (let v = 0; v < n; v++) {
          const x = input[q * n + v]!
          out[(q * 3 + 1) * n + v] = 1 - Math.abs(x - 40) / 100 // soft tissue
          out[(q * 3 + 2) * n + v] = (x - 300) / 100 // bright
        }
      }
      return Promise.resolve(out)
    },
  }
  const steps: string[] = []
  const t1 = performance.now()
  const res = await segmentVolume(volume, ctCard, runner, {
    tta: false,
    onProgress: (p) => {
      if (p.stage === 'postprocess') {
        steps.push(`${p.done}/${p.total} ${(performance.now() - t1).toFixed(0)}`)
      }
    },
  })
  const totalMs = performance.now() - t1
  const post = res.timingsMs.postprocess
  console.log(
    `\npost-processing at CT size (${volume.sizeIJK.join('×')} ${volume.pixelType}, ` +
      `${res.tiles} tiles of 128³, stand-in network):`,
  )
  console.log(`  openVolume (read)              ${readMs.toFixed(0).padStart(7)} ms`)
  console.log(`  post-processing                ${post.toFixed(0).padStart(7)} ms`)
  console.log(`  post-processing ÷ read         ${(post / readMs).toFixed(2).padStart(7)}`)
  console.log(
    `  (whole segmentVolume ${totalMs.toFixed(0)} ms; removed ${JSON.stringify(res.postprocessRemoved)}; ` +
      `progress events (step, ms since start) ${steps.join(', ') || 'none'})`,
  )
  return { readMs: Math.round(readMs), postprocessMs: Math.round(post), ratio: post / readMs }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'ct-only': { type: 'boolean', default: false },
      pack: { type: 'string' },
      patch: { type: 'string', multiple: true },
    },
  })
  const quick = values.quick === true
  const packDir = resolve(values.pack ?? join(ROOT, 'test', 'tiny-model', 'packs', 'tiny-unet'))
  const edges = (values.patch ?? (quick ? ['64'] : ['64', '32'])).map((p) => {
    const n = Number(p)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--patch needs a positive integer, got ${p}`)
    return n
  })
  const runs = quick ? 1 : 5
  const input = join(ROOT, 'test', 'fixtures', 'ch2.nii.gz')
  const pack = await loadPackFromDir(packDir)
  const { volume } = await openVolume(input)
  console.log(
    `bench:infer · pack ${pack.id} (${packDir}) · ch2.nii.gz ${volume.sizeIJK.join('×')} ` +
      `${volume.pixelType} · ${quick ? 'quick' : 'full'} · onnxruntime-node ${ort.env.versions.common}`,
  )
  const results: CaseResult[] = []
  for (const edge of values['ct-only'] === true ? [] : edges) {
    results.push(await measureCase(volume, pack.bytes, pack.card, edge, runs))
  }
  for (const r of results) printCase(r)
  const ct = await measurePostprocessAtCtSize(pack.card)
  const maxRssMiB = process.resourceUsage().maxRSS / 1024
  console.log(`\npeak RSS ${maxRssMiB.toFixed(0)} MiB (node ${process.version})`)
  const round = (x: number): number => Math.round(x * 100) / 100
  const json = {
    target: TARGET,
    pack: pack.id,
    maxRssMiB: Math.round(maxRssMiB),
    ...(ct ? { postprocessAtCtSize: ct } : {}),
    cases: results.map((r) => ({
      patch: r.patch,
      tiles: r.tiles,
      runs: r.runs,
      engineMs: round(r.engineMs),
      bareMs: round(r.bareMs),
      ratio: Math.round(r.ratio * 1000) / 1000,
      pass: r.ratio <= TARGET,
      runnerMs: round(r.runnerMs),
      stagesMs: Object.fromEntries(Object.entries(r.stagesMs).map(([k, v]) => [k, round(v)])),
      loopWorkMs: Object.fromEntries(Object.entries(r.loopWorkMs).map(([k, v]) => [k, round(v)])),
      tilesPerS: Object.fromEntries(
        r.providers
          .filter((p) => p.tilesPerS !== undefined)
          .map((p) => [p.provider, round(p.tilesPerS!)]),
      ),
    })),
  }
  console.log(`BENCH_INFER ${JSON.stringify(json)}`)
}

main().catch((e: unknown) => {
  console.error('bench-infer failed:', e)
  process.exit(1)
})

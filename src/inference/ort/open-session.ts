/**
 * ONNX Runtime sessions for a model pack, and provider selection. `auto` keeps a provider only
 * when its session builds and a reference tile matches the CPU result; otherwise it falls back
 * and records why. Graph rewrites (e.g. 3-D convolutions for WebGPU) are applied only for the
 * providers that need them.
 */
import * as ort from 'onnxruntime-node'
import { AppError } from '../../shared/errors.js'
import type { ModelCard } from '../../shared/model-card.js'
import { checkCardAgainstGraph, type GraphIO } from '../card/check-card-against-graph.js'
import { rewriteForProvider } from '../graph/rewrite-for-provider.js'
import type { TileRunner } from '../segment-volume.js'
import { softmaxChannels } from '../tta.js'
import {
  AUTO_ORDER,
  ORT_EP_NAME,
  deviceName,
  providerStatus,
  type ProviderChoice,
  type ProviderId,
} from './providers.js'

export interface ProviderAttempt {
  readonly provider: ProviderId
  readonly ok: boolean
  /** False when the provider was not even tried (not installed, wrong OS). */
  readonly tried: boolean
  /** Why it was not kept (build error, mismatch, not installed). */
  readonly reason?: string
  /** Largest |Δp| against the CPU reference tile (softmax probabilities). */
  readonly maxProbDiff?: number
  readonly ms: number
}

export interface ModelSession {
  readonly provider: ProviderId
  readonly device: string
  readonly rewrites: readonly string[]
  readonly attempts: readonly ProviderAttempt[]
  readonly runner: TileRunner
  release(): Promise<void>
}

/** Largest allowed |Δp| between a provider's reference tile and the CPU's (fp32 kernels differ in summation order). */
export const PROVIDER_TOLERANCE = 1e-3

function graphIO(session: ort.InferenceSession): GraphIO {
  const conv = (m: ort.InferenceSession.ValueMetadata): GraphIO['inputs'][number] =>
    m.isTensor
      ? {
          name: m.name,
          elemType: m.type,
          shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))),
        }
      : { name: m.name, elemType: 'non-tensor', shape: [] }
  return { inputs: session.inputMetadata.map(conv), outputs: session.outputMetadata.map(conv) }
}

/** Builds a session for one provider (rewriting the graph when that provider needs it). */
async function build(
  bytes: Uint8Array,
  card: ModelCard,
  provider: ProviderId,
  file: string,
): Promise<{ session: ort.InferenceSession; rewrites: string[] }> {
  const rewritten = rewriteForProvider(bytes, provider)
  const rewrites = [...rewritten.applied]
  const session = await ort.InferenceSession.create(rewritten.bytes, {
    executionProviders: [ORT_EP_NAME[provider]],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  })
  try {
    checkCardAgainstGraph(card, graphIO(session), file)
    const input = session.inputMetadata.find((m) => m.name === card.input.name)
    if (input?.isTensor && input.type !== 'float32') {
      throw new AppError(
        'E_MODEL',
        `the graph's input is ${input.type}; only float32 inputs are supported`,
        { file },
      )
    }
  } catch (e) {
    await session.release()
    throw e
  }
  return { session, rewrites }
}

function runnerFor(session: ort.InferenceSession, card: ModelCard): TileRunner {
  return {
    async run(input, shape) {
      const feeds = { [card.input.name]: new ort.Tensor('float32', input, [...shape]) }
      const out = await session.run(feeds, [card.output.name])
      const t = out[card.output.name]
      if (!t || t.type !== 'float32') {
        throw new AppError('E_MODEL', `the model's output "${card.output.name}" is not float32`)
      }
      return t.data as Float32Array
    },
  }
}

/** A deterministic reference tile: smooth structure plus seeded noise, in normalised units. */
export function referenceTile(card: ModelCard): {
  data: Float32Array
  shape: [number, number, number, number, number]
} {
  const [d, h, w] = card.patchSize
  const c = card.input.channels
  const data = new Float32Array(c * d * h * w)
  let seed = 12345
  let o = 0
  for (let ch = 0; ch < c; ch++) {
    for (let z = 0; z < d; z++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          seed = (seed * 1103515245 + 12345) >>> 0
          const r = ((z - d / 2) / d) ** 2 + ((y - h / 2) / h) ** 2 + ((x - w / 2) / w) ** 2
          data[o++] = 2 * Math.cos(8 * r) + (seed / 2 ** 32 - 0.5)
        }
      }
    }
  }
  return { data, shape: [1, c, d, h, w] }
}

async function probabilities(runner: TileRunner, card: ModelCard): Promise<Float32Array> {
  const ref = referenceTile(card)
  const y = Float32Array.from(await runner.run(ref.data, ref.shape))
  if (card.output.kind === 'logits') {
    softmaxChannels(y, 1, card.labels.length, y.length / card.labels.length)
  }
  return y
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)))
  return Number.isNaN(m) ? Infinity : m
}

/** First line of an error, without onnxruntime's source-location prefix. */
const message = (e: unknown): string => {
  const line = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''
  return line.replace(/^.*? was false\. /, '').replace(/^\/onnxruntime_src\/\S+ /, '')
}

/**
 * Opens a session for `card`'s graph `bytes` on `choice`. An explicit provider that cannot run
 * throws E_PROVIDER with the reason; `auto` walks {@link AUTO_ORDER}, checks each GPU provider
 * against the CPU on a reference tile, and falls back to the CPU.
 */
export async function openModelSession(
  bytes: Uint8Array,
  card: ModelCard,
  choice: ProviderChoice,
  file = card.id,
  order: readonly ProviderId[] = AUTO_ORDER,
): Promise<ModelSession> {
  const status = new Map(providerStatus().map((s) => [s.id, s]))
  const attempts: ProviderAttempt[] = []
  const wrap = (
    session: ort.InferenceSession,
    provider: ProviderId,
    rewrites: string[],
  ): ModelSession => ({
    provider,
    device: deviceName(provider),
    rewrites,
    attempts,
    runner: runnerFor(session, card),
    release: () => session.release(),
  })
  if (choice !== 'auto') {
    const s = status.get(choice)
    if (!s?.available) {
      throw new AppError(
        'E_PROVIDER',
        `provider ${choice} is not available: ${s?.reason ?? 'unknown'}`,
      )
    }
    const t0 = performance.now()
    try {
      const { session, rewrites } = await build(bytes, card, choice, file)
      attempts.push({ provider: choice, ok: true, tried: true, ms: performance.now() - t0 })
      return wrap(session, choice, rewrites)
    } catch (e) {
      if (e instanceof AppError && e.code === 'E_MODEL') throw e
      throw new AppError(
        'E_PROVIDER',
        `provider ${choice} could not run this model: ${message(e)}`,
        { cause: e },
      )
    }
  }
  // auto: the CPU session is built first; it is the reference and the fallback.
  const t0 = performance.now()
  const cpu = await build(bytes, card, 'cpu', file)
  const cpuRunner = runnerFor(cpu.session, card)
  let reference: Float32Array | undefined
  for (const provider of order) {
    if (provider === 'cpu') break
    const s = status.get(provider)
    const t = performance.now()
    if (!s?.available) {
      attempts.push({
        provider,
        ok: false,
        tried: false,
        reason: s?.reason ?? 'unknown provider',
        ms: 0,
      })
      continue
    }
    let candidate: Awaited<ReturnType<typeof build>> | undefined
    try {
      candidate = await build(bytes, card, provider, file)
      reference ??= await probabilities(cpuRunner, card)
      const diff = maxDiff(await probabilities(runnerFor(candidate.session, card), card), reference)
      if (!(diff <= PROVIDER_TOLERANCE)) {
        attempts.push({
          provider,
          ok: false,
          tried: true,
          reason: `results differ from the CPU's (max |Δp| ${diff.toExponential(2)} > ${PROVIDER_TOLERANCE})`,
          maxProbDiff: diff,
          ms: performance.now() - t,
        })
        await candidate.session.release()
        continue
      }
      attempts.push({
        provider,
        ok: true,
        tried: true,
        maxProbDiff: diff,
        ms: performance.now() - t,
      })
      await cpu.session.release()
      return wrap(candidate.session, provider, candidate.rewrites)
    } catch (e) {
      if (candidate) await candidate.session.release()
      attempts.push({
        provider,
        ok: false,
        tried: true,
        reason: message(e),
        ms: performance.now() - t,
      })
    }
  }
  attempts.push({ provider: 'cpu', ok: true, tried: true, ms: performance.now() - t0 })
  return wrap(cpu.session, 'cpu', cpu.rewrites)
}

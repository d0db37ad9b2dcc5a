/**
 * The engine: volume + card + a tile runner → label mask and uncertainty on the exact source
 * grid. Stages: reorient (exact) → crop to the non-zero box (if the card says) → normalise →
 * resample to the card spacing → pad → sliding window with Gaussian blending of the scores
 * (+ mirror TTA) → resample back, one class at a time → argmax + uncertainty (softmax once, per
 * voxel) → scatter to source order → post-processing.
 *
 * Pure: the runner (ONNX Runtime in `ort/`) is passed in, so this runs wherever a runner exists.
 */
import { AppError } from '../shared/errors.js'
import type { ModelCard } from '../shared/model-card.js'
import type { Volume } from '../shared/volume.js'
import { assertFits, planMemory, type MemoryPlan } from './memory-plan.js'
import { fromTensorGrid, type TensorAxisPlan } from './preprocess/reorient.js'
import { resampleLinear, voxelCount } from './preprocess/resample.js'
import { uncropInto } from './preprocess/crop.js'
import { planGrid, prepareGrid } from './preprocess/prepare-grid.js'
import { applyPostprocess } from './postprocess/components.js'
import {
  accumulatePatch,
  cropChannels,
  extractPatch,
  gaussianImportance,
  separableWeightSum,
  tileOrigins,
  tileTotal,
} from './sliding-window.js'
import { addSquares, flipGrids, mirrorCombos, softmaxChannels } from './tta.js'
import { scoresToLabels } from './scores-to-labels.js'

/**
 * Runs one batch `[n, channels, D, H, W]` and returns the card's output `[n, classes, D, H, W]`
 * in a buffer the caller owns (the engine edits it in place).
 */
export interface TileRunner {
  run(
    input: Float32Array,
    shape: readonly [number, number, number, number, number],
  ): Promise<Float32Array>
}

/**
 * Steps of the post-processing stage, reported as done/total: scores normalised, argmax back on
 * the source grid, labels in source order, the card's rules, label counts.
 */
export const POSTPROCESS_STEPS = 5

export interface SegmentProgress {
  readonly stage: 'preprocess' | 'inference' | 'postprocess'
  /**
   * Inference: network runs done / planned (tiles × mirror passes). Post-processing: steps done /
   * {@link POSTPROCESS_STEPS}. 0/0 in preprocessing.
   */
  readonly done: number
  readonly total: number
}

export interface SegmentPlan {
  readonly memory: MemoryPlan
  /** Model grid [D, H, W] before padding. */
  readonly modelShape: readonly [number, number, number]
  readonly tiles: number
  readonly networkRuns: number
}

export interface SegmentOptions {
  readonly tta?: boolean
  /** Compute the uncertainty map (entropy, or TTA variance when `tta`). */
  readonly uncertainty?: boolean
  /** Tiles per network run (capped by the card's `maxBatch`). */
  readonly batch?: number
  readonly onProgress?: (p: SegmentProgress) => void
  /** Called once the run is planned, before anything large is allocated (and before a refusal). */
  readonly onPlan?: (p: SegmentPlan) => void
  /** Polled before every network run; true stops the job with E_CANCELLED. */
  readonly isCancelled?: () => boolean
  /** Memory the engine may plan for, in bytes (default 8 GiB). */
  readonly maxBytes?: number
  /** File named in errors. */
  readonly file?: string
}

export interface SegmentationResult {
  /** Label values from the card, source grid, i fastest. */
  readonly labels: Uint8Array | Uint16Array
  /** Uncertainty in [0, 1] on the source grid, when asked for. */
  readonly uncertainty?: Float32Array
  readonly uncertaintyKind: 'entropy' | 'tta-variance' | 'none'
  /** Voxel count per card label (same order as `card.labels`). */
  readonly labelVoxels: readonly number[]
  readonly axes: TensorAxisPlan
  /** Model grid [D, H, W] before padding. */
  readonly modelShape: readonly [number, number, number]
  readonly tiles: number
  readonly networkRuns: number
  readonly memory: MemoryPlan
  readonly postprocessRemoved: Readonly<Record<number, number>>
  readonly timingsMs: Readonly<Record<'preprocess' | 'inference' | 'postprocess', number>>
}

// The pure layer has no DOM/Node typings; performance.now exists in both runtimes.
const perf = (globalThis as { performance?: { now(): number } }).performance
const now = (): number => perf?.now() ?? Date.now()

/**
 * Segments `volume` with the model described by `card`, running tiles through `runner`.
 * Result arrays are on the source grid (`volume.sizeIJK`, i fastest); label values come from
 * `card.labels`. Throws E_TOO_LARGE before allocating when the memory plan exceeds the limit,
 * E_CANCELLED when cancelled, E_MODEL when the runner's output has the wrong size.
 */
export async function segmentVolume(
  volume: Volume,
  card: ModelCard,
  runner: TileRunner,
  options: SegmentOptions = {},
): Promise<SegmentationResult> {
  const t0 = now()
  const where = options.file === undefined ? {} : { file: options.file }
  const classes = card.labels.length
  const channels = card.input.channels
  const patch = card.patchSize
  const batchSize = Math.max(1, Math.min(options.batch ?? 1, card.maxBatch ?? 1))
  const tta = options.tta === true && card.mirrorAxes.length > 0
  const wantUncertainty = options.uncertainty === true
  const logits = card.output.kind === 'logits'

  const plan = planGrid(volume, card)
  const { axes, box, workShape, modelShape, pad, padded } = plan
  const memory = planMemory({
    sourceVoxels: voxelCount(volume.sizeIJK),
    tensorShape: axes.shape,
    modelShape: padded,
    classes,
    channels,
    patch,
    batch: batchSize,
    tta,
    uncertainty: wantUncertainty,
  })
  // Planned and checked from the sizes alone: the tile list of an absurd grid (a tiny volume
  // with a huge spacing) would itself exhaust the memory before any refusal.
  const tiles = tileTotal(padded, patch, card.overlap)
  const combos = tta ? mirrorCombos(card.mirrorAxes) : [[]]
  const total = Math.ceil(tiles / batchSize) * combos.length
  options.onPlan?.({ memory, modelShape, tiles, networkRuns: total })
  assertFits(memory, options.maxBytes ?? 8 * 2 ** 30, options.file)
  const origins = tileOrigins(padded, patch, card.overlap)

  options.onProgress?.({ stage: 'preprocess', done: 0, total: 0 })
  const grid = prepareGrid(volume, card, plan)
  const tPre = now()

  // --- sliding window -------------------------------------------------------------------
  // Scores are blended as the network gives them (logits, as nnU-Net v2 does; or
  // probabilities), weighted by the Gaussian; softmax happens once, per voxel, at the end.
  const weight = gaussianImportance(patch, card.gaussianSigmaFraction)
  const nPadded = voxelCount(padded)
  const patchVox = voxelCount(patch)
  // Softmax and argmax do not change when every class's logit shifts by the same amount, and
  // blended probabilities sum to 1: so class 0 is not stored (logits l_c − l_0; p_0 = 1 − Σ p_c),
  // a third less accumulator traffic and memory for three classes.
  const stored = classes - 1
  const acc = new Float32Array(stored * nPadded)
  const separableSum = separableWeightSum(padded, patch, card.overlap, card.gaussianSigmaFraction)
  const weightSum = separableSum ?? new Float32Array(nPadded)
  // TTA variance: per tile, mean over classes of the variance of p_c across mirror passes,
  // blended like the scores (one channel).
  const ttaVar = tta && wantUncertainty ? new Float32Array(nPadded) : undefined
  let done = 0
  const inBuf = new Float32Array(batchSize * channels * patchVox)
  const flipBuf = new Float32Array(batchSize * channels * patchVox)
  const one = new Float32Array(patchVox)
  const tilePlane = new Float32Array(patchVox)
  const passes = combos.length
  options.onProgress?.({ stage: 'inference', done, total })
  for (let b0 = 0; b0 < origins.length; b0 += batchSize) {
    const batch = origins.slice(b0, b0 + batchSize)
    const n = batch.length
    batch.forEach((o, bi) => {
      extractPatch(grid, padded, o, patch, one)
      for (let c = 0; c < channels; c++) inBuf.set(one, (bi * channels + c) * patchVox)
    })
    const input = inBuf.subarray(0, n * channels * patchVox)
    // Without TTA the one prediction is the mean: no extra buffer or pass.
    let mean: Float32Array | undefined =
      passes > 1 ? new Float32Array(n * classes * patchVox) : undefined
    const pMean = ttaVar ? new Float32Array(n * classes * patchVox) : undefined
    const pSq = ttaVar ? new Float32Array(n * patchVox) : undefined
    for (const axesToFlip of combos) {
      if (options.isCancelled?.()) {
        throw new AppError('E_CANCELLED', 'segmentation was cancelled', where)
      }
      const x =
        axesToFlip.length === 0 ? input : flipGrids(input, n * channels, patch, axesToFlip, flipBuf)
      let y = await runner.run(x, [n, channels, patch[0], patch[1], patch[2]])
      if (y.length !== n * classes * patchVox) {
        throw new AppError(
          'E_MODEL',
          `the model returned ${y.length} values for ${n} tile(s); ${classes} classes × ` +
            `${patch.join('×')} needs ${n * classes * patchVox}`,
          where,
        )
      }
      if (axesToFlip.length > 0) {
        y = flipGrids(y, n * classes, patch, axesToFlip, new Float32Array(y.length))
      }
      if (pMean && pSq) {
        const p = Float32Array.from(y)
        if (logits) softmaxChannels(p, n, classes, patchVox)
        addSquares(p, n, classes, patchVox, passes, pMean, pSq)
      }
      if (mean === undefined) mean = y
      else {
        const k = 1 / passes
        for (let i = 0; i < y.length; i++) mean[i] = (mean[i] as number) + (y[i] as number) * k
      }
      done++
      options.onProgress?.({ stage: 'inference', done, total })
    }
    batch.forEach((o, bi) => {
      const scores = (mean as Float32Array).subarray(
        bi * classes * patchVox,
        (bi + 1) * classes * patchVox,
      )
      accumulatePatch(
        acc,
        separableSum ? null : weightSum,
        padded,
        stored,
        o,
        patch,
        scores.subarray(patchVox),
        weight,
        logits ? scores.subarray(0, patchVox) : undefined, // l_c − l_0
      )
      if (ttaVar && pMean && pSq) {
        // Σ_c Var(p_c) = Σ_c E[p_c²] − Σ_c E[p_c]², averaged over classes.
        for (let v = 0; v < patchVox; v++) {
          let m2 = 0
          for (let c = 0; c < classes; c++) {
            const q = pMean[(bi * classes + c) * patchVox + v] as number
            m2 += q * q
          }
          tilePlane[v] = Math.max(0, ((pSq[bi * patchVox + v] as number) - m2) / classes)
        }
        accumulatePatch(ttaVar, null, padded, 1, o, patch, tilePlane, weight)
      }
    })
  }
  const tInf = now()
  // Post-processing is a fixed sequence of linear passes over the grid: report each one done,
  // so a large volume shows "post-processing 2/5" instead of an idle 0/0.
  let postStep = 0
  const postDone = (): void => {
    options.onProgress?.({ stage: 'postprocess', done: postStep, total: POSTPROCESS_STEPS })
    postStep++
  }
  postDone()

  // --- back to the source grid, one class at a time --------------------------------------
  const sameGrid = modelShape.every((n, t) => n === workShape[t])
  const labelsOnly = logits && !wantUncertainty
  // Dividing by the weight sum scales every class of a voxel alike, so the argmax of logit
  // differences does not need it unless the scores are interpolated or turned into entropy.
  if (!(labelsOnly && sameGrid)) {
    const inv = new Float32Array(nPadded)
    for (let v = 0; v < nPadded; v++) inv[v] = 1 / (weightSum[v] as number)
    for (let c = 0; c < stored; c++) {
      const base = c * nPadded
      for (let v = 0; v < nPadded; v++) {
        acc[base + v] = (acc[base + v] as number) * (inv[v] as number)
      }
    }
    if (ttaVar) {
      for (let v = 0; v < nPadded; v++) ttaVar[v] = (ttaVar[v] as number) * (inv[v] as number)
    }
  }
  postDone()
  const storedModel = cropChannels(acc, stored, padded, pad, modelShape)
  const nM = voxelCount(modelShape)
  // Class 0's grid, made only if asked for (not for logits when only the argmax is wanted).
  const classZero = (): Float32Array => {
    const z = new Float32Array(nM) // logits: l_0 − l_0 = 0
    if (!logits) {
      z.fill(1)
      for (let c = 0; c < stored; c++) {
        for (let v = 0; v < nM; v++) z[v] = (z[v] as number) - (storedModel[c * nM + v] as number)
      }
    }
    return z
  }
  const nT = voxelCount(axes.shape)
  const { classIndex: arg, entropy } = scoresToLabels(
    (c) => (c === 0 ? classZero() : storedModel.subarray((c - 1) * nM, c * nM)),
    classes,
    modelShape,
    workShape,
    logits ? 'logits' : 'probabilities',
    wantUncertainty && !tta,
    logits, // class 0's logit difference is 0 everywhere
  )
  let uncertaintyTensor: Float32Array | undefined = entropy
  if (ttaVar) {
    // Mean variance of p_c across mirror passes: at most 1/4, scaled to [0, 1].
    const varModel = cropChannels(ttaVar, 1, padded, pad, modelShape)
    uncertaintyTensor = resampleLinear(varModel, modelShape, workShape)
    for (let v = 0; v < uncertaintyTensor.length; v++) {
      uncertaintyTensor[v] = Math.min(1, (uncertaintyTensor[v] as number) * 4)
    }
  }
  const nW = arg.length
  postDone()

  const values = card.labels.map((l) => l.value)
  const wide = values.some((v) => v > 255)
  let labelTensor = wide ? new Uint16Array(nW) : new Uint8Array(nW)
  for (let v = 0; v < nW; v++) labelTensor[v] = values[arg[v] as number] as number
  if (box) {
    // Outside the box: background (card label 0), uncertainty 0.
    const fullLabels = wide ? new Uint16Array(nT) : new Uint8Array(nT)
    fullLabels.fill(values[0] as number)
    labelTensor = uncropInto(labelTensor, box, axes.shape, fullLabels)
    if (uncertaintyTensor) {
      uncertaintyTensor = uncropInto(uncertaintyTensor, box, axes.shape, new Float32Array(nT))
    }
  }
  const labels = fromTensorGrid(
    labelTensor,
    volume.sizeIJK,
    axes,
    wide ? new Uint16Array(nT) : new Uint8Array(nT),
  )
  const uncertainty = uncertaintyTensor
    ? fromTensorGrid(uncertaintyTensor, volume.sizeIJK, axes, new Float32Array(nT))
    : undefined
  postDone()
  const { removedVoxels } = applyPostprocess(
    labels,
    volume.sizeIJK,
    volume.spacingMm,
    card.postprocess,
    0,
  )
  postDone()
  const histogram = new Uint32Array(wide ? 65536 : 256)
  for (let v = 0; v < nT; v++) {
    histogram[labels[v] as number] = (histogram[labels[v] as number] as number) + 1
  }
  postDone()
  const tPost = now()
  return {
    labels,
    ...(uncertainty ? { uncertainty } : {}),
    uncertaintyKind: uncertainty ? (tta ? 'tta-variance' : 'entropy') : 'none',
    labelVoxels: values.map((v) => histogram[v] ?? 0),
    axes,
    modelShape,
    tiles: origins.length,
    networkRuns: done,
    memory,
    postprocessRemoved: removedVoxels,
    timingsMs: { preprocess: tPre - t0, inference: tInf - tPre, postprocess: tPost - tInf },
  }
}

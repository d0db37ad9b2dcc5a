/**
 * From blended class scores on the model grid to labels (and uncertainty) on the working grid at
 * source spacing, one class at a time so only one resampled class is held at once: running
 * argmax, and for logits a running log-sum-exp so the entropy needs no second pass.
 */
import { resampleLinear, type Shape3, voxelCount } from './preprocess/resample.js'

export interface ScoresToLabelsResult {
  /** Class index (channel) per voxel of the working grid. */
  readonly classIndex: Uint16Array
  /** Normalised entropy in [0, 1] per voxel, when asked for. */
  readonly entropy?: Float32Array
}

/**
 * `scores(c)` is class c's [D, H, W] grid on `modelShape`: logits (softmax applied implicitly)
 * or probabilities. `class0IsZero` says class 0's grid is all zeros (logit differences). Each class is resampled linearly to `workShape`, then reduced.
 * For logits, entropy uses H = log Z − Σ p_c l_c with Z tracked as a running
 * `m + log s` (s = Σ e^(l_c − m), t = Σ e^(l_c − m) l_c, rescaled when the max m grows).
 */
export function scoresToLabels(
  scores: (c: number) => Float32Array,
  classes: number,
  modelShape: Shape3,
  workShape: Shape3,
  kind: 'logits' | 'probabilities',
  wantEntropy: boolean,
  class0IsZero = false,
): ScoresToLabelsResult {
  const nW = voxelCount(workShape)
  const best = new Float32Array(nW).fill(-Infinity)
  const arg = new Uint16Array(nW)
  // logits: s and t of the running log-sum-exp; probabilities: −Σ p log p in `t`.
  const s = wantEntropy && kind === 'logits' ? new Float32Array(nW) : undefined
  const t = wantEntropy ? new Float32Array(nW) : undefined
  // A class 0 known to be 0 everywhere needs no pass when only the argmax is wanted.
  const first = class0IsZero && !wantEntropy ? 1 : 0
  if (first === 1) best.fill(0)
  for (let c = first; c < classes; c++) {
    const sc = resampleLinear(scores(c), modelShape, workShape)
    if (s && t) {
      for (let v = 0; v < nW; v++) {
        const l = sc[v] as number
        const m = best[v] as number
        if (l > m) {
          const r = m === -Infinity ? 0 : Math.exp(m - l)
          s[v] = (s[v] as number) * r + 1
          t[v] = (t[v] as number) * r + l
          best[v] = l
          arg[v] = c
        } else {
          const e = Math.exp(l - m)
          s[v] = (s[v] as number) + e
          t[v] = (t[v] as number) + e * l
        }
      }
    } else {
      for (let v = 0; v < nW; v++) {
        const p = sc[v] as number
        if (p > (best[v] as number)) {
          best[v] = p
          arg[v] = c
        }
        if (t && p > 0) t[v] = (t[v] as number) - p * Math.log(p)
      }
    }
  }
  if (!t) return { classIndex: arg }
  const norm = classes > 1 ? 1 / Math.log(classes) : 0
  if (s) {
    for (let v = 0; v < nW; v++) {
      const sv = s[v] as number
      // log Z − Σ p l = m + log s − t / s
      const h = (best[v] as number) + Math.log(sv) - (t[v] as number) / sv
      t[v] = Math.min(1, Math.max(0, h * norm))
    }
  } else {
    for (let v = 0; v < nW; v++) t[v] = Math.min(1, Math.max(0, (t[v] as number) * norm))
  }
  return { classIndex: arg, entropy: t }
}

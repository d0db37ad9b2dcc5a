/**
 * Memory planned before a run, from the volume size, the class count and the card, so a run that
 * cannot fit is refused with the reason before anything large is allocated.
 */
import { AppError } from '../shared/errors.js'
import { type Shape3, voxelCount } from './preprocess/resample.js'

export interface MemoryPlanInput {
  /** Source voxel count and bytes per source voxel (the decoded volume already in memory). */
  readonly sourceVoxels: number
  /** Tensor grid at source spacing [D, H, W]. */
  readonly tensorShape: Shape3
  /** Model grid after resampling and padding [D, H, W]. */
  readonly modelShape: Shape3
  readonly classes: number
  readonly channels: number
  readonly patch: Shape3
  readonly batch: number
  readonly tta: boolean
  readonly uncertainty: boolean
}

export interface MemoryPlan {
  /** Bytes per part (for the report). */
  readonly parts: Readonly<Record<string, number>>
  readonly totalBytes: number
}

/** Peak bytes the engine holds at once (ONNX Runtime's own arena not included). */
export function planMemory(p: MemoryPlanInput): MemoryPlan {
  const nT = voxelCount(p.tensorShape)
  const nM = voxelCount(p.modelShape)
  const patchVox = voxelCount(p.patch)
  const parts: Record<string, number> = {
    // float32 copy of the source in tensor order and its normalised copy, then the model grid
    // (resampling passes hold two grids at once)
    tensorGrid: 4 * nT * 2,
    modelGrid: 4 * nM * 2,
    // blended scores of classes 1…C−1, the weight sum and its inverse (+ TTA variance)
    accumulator: 4 * nM * (p.classes + 1 + (p.tta && p.uncertainty ? 1 : 0)),
    // one batch in and out, plus the flipped copies for TTA
    tiles: 4 * patchVox * p.batch * (p.channels + p.classes) * (p.tta ? 2 : 1),
    // back on the source grid: one class at a time, running max, labels, uncertainty
    sourceGrid: 4 * nT * 2 + 2 * nT + (p.uncertainty ? 4 * nT * 2 : 0) + 2 * p.sourceVoxels,
  }
  const totalBytes = Object.values(parts).reduce((a, b) => a + b, 0)
  return { parts, totalBytes }
}

/** Throws E_TOO_LARGE (with the breakdown) when the plan exceeds `limitBytes`. */
export function assertFits(plan: MemoryPlan, limitBytes: number, file?: string): void {
  if (plan.totalBytes <= limitBytes) return
  const gib = (b: number): string =>
    b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : `${Math.ceil(b / 2 ** 20)} MiB`
  const biggest = Object.entries(plan.parts).sort((a, b) => b[1] - a[1])[0] as [string, number]
  throw new AppError(
    'E_TOO_LARGE',
    `segmentation would need about ${gib(plan.totalBytes)} of memory (largest part: ${biggest[0]} ` +
      `${gib(biggest[1])}), more than the ${gib(limitBytes)} allowed; crop the image, use a ` +
      `model with coarser spacing, or raise the limit`,
    { ...(file === undefined ? {} : { file }), details: plan },
  )
}

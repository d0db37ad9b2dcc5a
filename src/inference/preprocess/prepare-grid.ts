/**
 * The engine's preprocessing in one place: which grids a run uses (planned from the geometry
 * and card, before anything large is allocated) and the padded, normalised model grid the
 * tiles are cut from. `segmentVolume` and `npm run bench:infer` both use it, so the benchmark's
 * bare loop sees exactly the engine's tile inputs.
 */
import type { ModelCard } from '../../shared/model-card.js'
import type { Volume } from '../../shared/volume.js'
import { cropGrid, nonzeroTensorBox, type TensorBox } from './crop.js'
import { normaliseIntensity } from './normalise.js'
import { planTensorAxes, toTensorGrid, type TensorAxisPlan } from './reorient.js'
import { resampleLinear, targetShape } from './resample.js'
import { padGrid, padToPatch } from '../sliding-window.js'

type Grid3 = readonly [number, number, number]

export interface GridPlan {
  /** Source voxel axes → tensor dims D, H, W. */
  readonly axes: TensorAxisPlan
  /** The non-zero bounding box (tensor coordinates) when the card crops to it. */
  readonly box: TensorBox | null
  /** Tensor grid at source spacing that is segmented: the box, or the whole volume. */
  readonly workShape: Grid3
  /** `workShape` resampled to the card spacing, before padding. */
  readonly modelShape: Grid3
  /** Padding [before, after] per tensor dim up to the patch size. */
  readonly pad: readonly [number, number][]
  /** The grid the tiles cover: `modelShape` + `pad`. */
  readonly padded: Grid3
}

/**
 * Plans the grids for `volume` under `card`. Scans the voxels only for the non-zero box (when
 * the card crops); allocates nothing large.
 */
export function planGrid(volume: Volume, card: ModelCard): GridPlan {
  const axes = planTensorAxes(volume, card.orientation, card.axisOrder)
  // nnU-Net models see only the non-zero bounding box; the rest is background.
  const box =
    card.cropToNonzero === true ? nonzeroTensorBox(volume.voxels, volume.sizeIJK, axes) : null
  const workShape = box ? box.shape : axes.shape
  const modelShape = targetShape(workShape, axes.spacingMm, card.spacingMm)
  const pad = padToPatch(modelShape, card.patchSize)
  const padded = modelShape.map(
    (n, t) => n + (pad[t] as [number, number])[0] + (pad[t] as [number, number])[1],
  ) as [number, number, number]
  return { axes, box, workShape, modelShape, pad, padded }
}

/**
 * Reorients (exact), crops to the box, normalises, resamples to the card spacing and pads:
 * the float32 [D, H, W] grid of `plan.padded` that tiles are cut from.
 */
export function prepareGrid(volume: Volume, card: ModelCard, plan: GridPlan): Float32Array {
  let grid = toTensorGrid(volume.voxels, volume.sizeIJK, plan.axes)
  if (plan.box) grid = cropGrid(grid, plan.axes.shape, plan.box)
  // Normalise before resampling, as nnU-Net v2 does (statistics and the foreground mask come
  // from the source voxels); the point-wise kinds commute with linear interpolation anyway.
  const [td, th, tw] = plan.workShape
  grid = normaliseIntensity(grid, card.normalisation, [tw, th, td]).data
  grid = resampleLinear(grid, plan.workShape, plan.modelShape)
  return padGrid(grid, plan.modelShape, plan.pad)
}

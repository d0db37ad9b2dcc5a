/**
 * The model card (`models/<id>/model.json`): everything the engine needs to run a model pack
 * correctly, and everything a user needs to decide whether to trust it.
 *
 * Conventions (why: one order everywhere avoids silent axis swaps):
 * - Every per-axis field (`spacingMm`, `patchSize`, `mirrorAxes`) is in **tensor order**: the
 *   three spatial dims of the model input `[N, C, D, H, W]`, i.e. `[D, H, W]`.
 * - `axisOrder` says which voxel axis of the reoriented volume each tensor dim is, as three
 *   letters for D, H, W: `'kji'` → D = k, H = j, W = i (memory order of NIfTI/ITK, nnU-Net's
 *   SimpleITK arrays); `'ijk'` → D = i, H = j, W = k (nibabel/MONAI arrays); any permutation
 *   (nnU-Net's `transpose_forward`) is allowed.
 * - `orientation` uses nibabel axis codes: three letters, one per voxel axis i, j, k, naming the
 *   patient direction each axis *increases towards* (`'RAS'`: i → Right, j → Anterior,
 *   k → Superior). `'as-stored'` means no reorientation (nnU-Net's convention).
 */
export const MODEL_CARD_SCHEMA = 'volseg-model-card/1'

export type AxisOrder = 'kji' | 'kij' | 'jki' | 'jik' | 'ikj' | 'ijk'

/** Intensity normalisation applied after resampling, before tiling. */
export type Normalisation =
  /** z-score over all voxels, or only over voxels ≠ 0 when `foregroundOnly` (nnU-Net MR). */
  | { readonly kind: 'zscore'; readonly foregroundOnly: boolean }
  /** Clip to `clip` (card units, e.g. HU), then `(x − mean) / std` (nnU-Net CTNormalization). */
  | {
      readonly kind: 'ct'
      readonly clip: readonly [number, number]
      readonly mean: number
      readonly std: number
    }
  /**
   * Map the `lower`/`upper` percentiles (0–100) of the volume to `outMin`/`outMax`, optionally
   * clipping (MONAI ScaleIntensityRangePercentiles).
   */
  | {
      readonly kind: 'percentile'
      readonly lower: number
      readonly upper: number
      readonly outMin: number
      readonly outMax: number
      readonly clip: boolean
    }
  /** Voxels go to the model as read (real-world values). */
  | { readonly kind: 'none' }

export interface CardLabel {
  /** Value written into the mask for this output channel. */
  readonly value: number
  readonly name: string
  /** Display colour, 0–255 each. */
  readonly color: readonly [number, number, number]
  /** Optional SNOMED CT concept id (as a string of digits). */
  readonly snomed?: string
  /**
   * The patient side a lateralised structure lies on (cohort QC: its centroid must be on that side
   * of the body's centroid along LPS x, +x = patient Left). Absent: inferred from the name
   * (`left`/`right` as a word, or an `_l`/`_r` suffix), else not lateralised.
   */
  readonly side?: 'left' | 'right'
  /** Plausible volume of this label in one case, mL `[min, max]` (cohort QC). */
  readonly plausibleVolumeMl?: readonly [number, number]
}

/** Post-processing for one label, applied to the argmax mask on the source grid. */
export interface PostprocessRule {
  readonly label: number
  /** Keep only the largest 26-connected component of this label. */
  readonly largestComponent?: boolean
  /** Remove 26-connected islands smaller than this many mm³. */
  readonly minIslandMm3?: number
}

export interface CardMetric {
  readonly name: string
  readonly value: number
  /** What it was measured on. */
  readonly dataset: string
  readonly label?: string
}

export interface ModelCard {
  readonly schema: typeof MODEL_CARD_SCHEMA
  /** Lower-case id, `[a-z0-9][a-z0-9._-]*`, equal to the pack folder name when installed. */
  readonly id: string
  readonly name: string
  /** Semantic version of the pack. */
  readonly version: string
  /** sha256 (hex) of `model.onnx`; checked on every load. */
  readonly sha256: string
  readonly task: 'segmentation'
  /** Imaging modality, e.g. `MR`, `CT` (DICOM Modality values). */
  readonly modality: string
  readonly description: string
  readonly intendedUse: string
  readonly licence: string
  /** Oldest VolSeg version that can run this card. */
  readonly minAppVersion: string
  /** The one image input: its graph name and channel count (the volume is repeated per channel). */
  readonly input: { readonly name: string; readonly channels: number }
  /**
   * The output to use (deep-supervision graphs have several): its graph name and whether it
   * holds logits (softmax applied here) or probabilities already.
   */
  readonly output: { readonly name: string; readonly kind: 'logits' | 'probabilities' }
  readonly axisOrder: AxisOrder
  /** nibabel axis codes of i, j, k (e.g. `'RAS'`), or `'as-stored'`. */
  readonly orientation: string
  /** Target voxel size in mm, tensor order; `null` keeps the source spacing. */
  readonly spacingMm: readonly [number, number, number] | null
  readonly normalisation: Normalisation
  /** Tile size in voxels, tensor order. */
  readonly patchSize: readonly [number, number, number]
  /** Minimum fraction of a tile shared with its neighbour, in [0, 1). */
  readonly overlap: number
  /** Gaussian importance σ as a fraction of the patch size (nnU-Net: 1/8). */
  readonly gaussianSigmaFraction: number
  /** Tensor spatial dims (0 = D, 1 = H, 2 = W) that test-time mirroring may flip. */
  readonly mirrorAxes: readonly number[]
  /** Output channel c is `labels[c]`; `labels[0]` is the background. */
  readonly labels: readonly CardLabel[]
  readonly postprocess: readonly PostprocessRule[]
  readonly metrics: readonly CardMetric[]
  /**
   * Crop to the bounding box of the non-zero voxels before normalising, and label everything
   * outside it background (nnU-Net always does; its z-score statistics come from that box).
   */
  readonly cropToNonzero?: boolean
  /** Largest batch of tiles known to run; the engine never exceeds it (default 1). */
  readonly maxBatch?: number
}

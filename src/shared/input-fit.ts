/**
 * Whether an input suits a model's card (its modality), as checked before a run: the data shapes
 * shared by the batch report, the service and the viewer. The check itself is
 * `src/core/volume/check-input-fit.ts`.
 */

/**
 * Intensity statistics that tell CT in Hounsfield units apart from other images. `min`/`max`
 * are over every finite voxel; the fractions over a deterministic stride sample of them.
 */
export interface IntensitySignature {
  /** Finite voxels the fractions were counted over. */
  readonly sampled: number
  readonly min: number
  readonly max: number
  /** True when every sampled finite voxel is a whole number (CT is stored as integer HU). */
  readonly integer: boolean
  /** Fraction ≤ −900 (air in HU, and the −1024 padding outside the field of view). */
  readonly atMost900: number
  /** Fraction ≤ −500 (air and lung in HU). */
  readonly atMost500: number
  /** Fraction in −200..200 (fat, water, soft tissue and brain in HU). */
  readonly softTissue: number
  /** Fraction > 2000 (rare in CT: dense metal only; common in phase maps and raw MR). */
  readonly above2000: number
}

/** The outcome of checking one input against a model card. */
export interface InputFit {
  /** False when the input does not suit the card: the CLI refuses, the viewer warns. */
  readonly ok: boolean
  /** The card's modality, normalised (upper case, `MRI` → `MR`). */
  readonly expected: string
  /** What the input is (DICOM Modality) or looks like (`CT`, `not CT`), when known. */
  readonly found?: string
  /** What the verdict rests on: the DICOM Modality tag, or the voxel values. */
  readonly basis: 'dicom' | 'intensity'
  /**
   * When not ok, one clause naming the model, what it expects and what was found, e.g.
   * `model brain-extract expects MR, input looks like CT (62 % of voxels ≤ −500, integer range
   * −1024..1890)`.
   */
  readonly reason?: string
  /** The evidence in words, e.g. `DICOM Modality CT` or the intensity figures. */
  readonly evidence: string
  readonly signature: IntensitySignature
  /**
   * Concerns that do not make the input unfit (e.g. slices much coarser than the model's
   * spacing); shown with the result.
   */
  readonly warnings: readonly string[]
}

/** {@link InputFit} as recorded with a run: plus whether a mismatch was run anyway (`--force`). */
export interface InputCheck extends InputFit {
  readonly forced: boolean
}

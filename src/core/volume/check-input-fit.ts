/**
 * Does an input suit a model's card? Checked before every run (the bundled T1 MR model ran
 * silently on a head CT and labelled skull and contents as brain). DICOM input is judged by its
 * Modality tag; files without one (NIfTI, NRRD, MetaImage) by their voxel values, which recognise
 * CT in Hounsfield units. Pure: the CLI worker, the service worker and the viewer share it.
 */
import type { Vec3 } from '../../shared/geometry.js'
import type { InputFit, IntensitySignature } from '../../shared/input-fit.js'
import type { VoxelArray } from '../../shared/volume.js'
import { intensityRange } from './intensity.js'

/** Most voxels {@link intensitySignature} counts fractions over (every n-th voxel beyond). */
export const SIGNATURE_SAMPLES = 4_000_000

/**
 * What "looks like CT in HU" means. Air/lung (≤ −500 HU) and soft tissue (−200..200 HU) must both
 * be present, something dense (bone, contrast: ≥ 300 HU) too, and values above 2000 must be rare.
 * Why these: magnitude MR is ≥ 0 and a z-scored or bias-corrected MR has no values near −500, so
 * ch2 and its variants never qualify; a uniform phase map (−4096..4096) has ~26 % above 2000 and
 * ~5 % in −200..200; pydicom's CT_small.dcm (a tight abdominal crop, min −896) has 21 % ≤ −500
 * and 66 % of soft tissue, so "≤ −900" alone would miss it.
 */
export const CT_RULE = {
  airHU: -500,
  minAirFraction: 0.03,
  minSoftTissueFraction: 0.05,
  minMaxHU: 300,
  maxAbove2000Fraction: 0.05,
} as const

/** DICOM Modality values that name no imaging modality: such input is judged by its voxels. */
const NO_MODALITY = new Set(['', 'OT', 'SC', 'DOC'])

const INTEGER_ARRAYS = [
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
] as const

/**
 * Intensity statistics of `voxels` (real-world values, e.g. HU): exact `min`/`max` over every
 * finite voxel, fractions over every n-th voxel so that at most `maxSamples` are counted
 * (deterministic, so every caller gets the same figures for the same voxels). `knownRange` is
 * `intensityRange(voxels)` when the caller already has it (the reader's, as `openSource` answers
 * it): the full pass for min/max is then skipped (0.5 s for a 512×512×300 CT in a browser).
 */
export function intensitySignature(
  voxels: VoxelArray,
  maxSamples = SIGNATURE_SAMPLES,
  knownRange?: readonly [number, number],
): IntensitySignature {
  const [min, max] = knownRange ?? intensityRange(voxels)
  const isInt = INTEGER_ARRAYS.some((T) => voxels instanceof T)
  const step = Math.max(1, Math.ceil(voxels.length / Math.max(1, maxSamples)))
  let n = 0
  let air900 = 0
  let air500 = 0
  let soft = 0
  let high = 0
  let integer = true
  for (let i = 0; i < voxels.length; i += step) {
    const v = voxels[i] as number
    if (!Number.isFinite(v)) continue
    n++
    if (v <= -500) {
      air500++
      if (v <= -900) air900++
    } else if (v >= -200 && v <= 200) soft++
    else if (v > 2000) high++
    if (!isInt && integer && v !== Math.round(v)) integer = false
  }
  const f = (k: number): number => (n > 0 ? k / n : 0)
  return {
    sampled: n,
    min,
    max,
    integer: n > 0 && integer,
    atMost900: f(air900),
    atMost500: f(air500),
    softTissue: f(soft),
    above2000: f(high),
  }
}

/** True when the statistics are those of CT in Hounsfield units (see {@link CT_RULE}). */
export function looksLikeCT(s: IntensitySignature): boolean {
  return (
    s.sampled > 0 &&
    s.atMost500 >= CT_RULE.minAirFraction &&
    s.softTissue >= CT_RULE.minSoftTissueFraction &&
    s.max >= CT_RULE.minMaxHU &&
    s.above2000 <= CT_RULE.maxAbove2000Fraction
  )
}

/** `MR`, `CT`, ...: upper case, trimmed; `MRI` → `MR`. */
export function normaliseModality(m: string | undefined): string {
  const x = (m ?? '').trim().toUpperCase()
  return x === 'MRI' ? 'MR' : x
}

const pct = (x: number): string => {
  const p = x * 100
  return p > 0 && p < 1 ? `${p.toFixed(1)} %` : `${Math.round(p)} %`
}
const num = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(4))

/** The intensity figures in words, e.g. `62 % of voxels ≤ −500, 30 % in −200..200, integer range −1024..1890`. */
export function describeSignature(s: IntensitySignature): string {
  if (s.sampled === 0) return 'no finite voxel'
  return (
    `${pct(s.atMost500)} of voxels ≤ −500, ${pct(s.softTissue)} in −200..200, ` +
    `${s.integer ? 'integer ' : ''}range ${num(s.min)}..${num(s.max)}`
  )
}

/** The model side of the check: a card, or the UI's summary of one. */
export interface FitModel {
  readonly id: string
  readonly modality: string
  /** Target voxel size in mm (any axis order); `null` keeps the source spacing. */
  readonly spacingMm?: readonly number[] | null
}

/** The input side of the check. */
export interface FitInput {
  /** DICOM Modality of the chosen series (DICOM input only). */
  readonly modality?: string | undefined
  readonly signature: IntensitySignature
  /** Voxel size in mm (i, j, k). */
  readonly spacingMm?: Vec3
}

/**
 * Checks `input` against `model`. DICOM input with a Modality naming an imaging modality is
 * judged by it alone (a CT series for an MR model is unfit, whatever its values). Otherwise, an
 * input that {@link looksLikeCT} is unfit for a non-CT model, and one without any negative value
 * (so not HU: MR, or CT stored without its rescale) is unfit for a CT model; anything else passes.
 * Also warns (without refusing) when the input's coarsest spacing is over twice the model's.
 */
export function checkInputFit(model: FitModel, input: FitInput): InputFit {
  const expected = normaliseModality(model.modality)
  const s = input.signature
  const warnings: string[] = []
  const target = model.spacingMm ? Math.max(...model.spacingMm) : undefined
  const coarsest = input.spacingMm ? Math.max(...input.spacingMm) : undefined
  if (target !== undefined && coarsest !== undefined && coarsest > 2 * target) {
    warnings.push(
      `voxels are up to ${num(coarsest)} mm apart, more than twice the ${num(target)} mm model ${model.id} works at: thin structures may be missed`,
    )
  }
  const dicom = normaliseModality(input.modality)
  if (!NO_MODALITY.has(dicom)) {
    const ok = dicom === expected
    return {
      ok,
      expected,
      found: dicom,
      basis: 'dicom',
      ...(ok
        ? {}
        : { reason: `model ${model.id} expects ${expected}, input is ${dicom} (DICOM Modality)` }),
      evidence: `DICOM Modality ${dicom}`,
      signature: s,
      warnings,
    }
  }
  const evidence = describeSignature(s)
  const ct = looksLikeCT(s)
  const base = { expected, basis: 'intensity' as const, evidence, signature: s, warnings }
  if (expected === 'CT') {
    if (s.sampled > 0 && s.min >= 0) {
      return {
        ...base,
        ok: false,
        found: 'not CT',
        reason: `model ${model.id} expects CT in HU, input has no value below 0 (range ${num(s.min)}..${num(s.max)}), so it is not CT in Hounsfield units`,
      }
    }
    return { ...base, ok: true, ...(ct ? { found: 'CT' } : {}) }
  }
  if (ct) {
    return {
      ...base,
      ok: false,
      found: 'CT',
      reason: `model ${model.id} expects ${expected || 'a non-CT image'}, input looks like CT (${evidence})`,
    }
  }
  return { ...base, ok: true, found: 'not CT' }
}

/**
 * Builds a model card from an nnU-Net v2 export (`plans.json` + `dataset.json`).
 *
 * nnU-Net's axis conventions, as its source has them (nnunetv2 `SimpleITKIO`, `NibabelIO`,
 * `ExperimentPlanner.plan_experiment`, `DefaultPreprocessor.run_case_npy`):
 * - images are numpy arrays `(z, y, x)` = voxel axes (k, j, i) of the stored image, spacing in
 *   the same order (SimpleITK's spacing reversed; NibabelIO transposes to match);
 * - `transpose_forward` permutes those axes before the network, so tensor dim d is array axis
 *   `transpose_forward[d]`: `axisOrder` is `transpose_forward` mapped through `'kji'`;
 * - a configuration's `spacing` and `patch_size` are already in the transposed order (the
 *   planner stores `fullres_spacing[transpose_forward]` and plans the patch on it; the
 *   preprocessor compares `configuration.spacing` to the transposed source spacing), i.e. tensor
 *   order, and are copied unchanged;
 * - no reorientation (`'as-stored'`), except the `NibabelIOWithReorient` reader, which reorients
 *   to the closest canonical (RAS) first.
 */
import { AppError } from '../../shared/errors.js'
import {
  MODEL_CARD_SCHEMA,
  type AxisOrder,
  type CardLabel,
  type CardMetric,
  type ModelCard,
  type Normalisation,
} from '../../shared/model-card.js'
import { parseModelCard } from '../../shared/parse-model-card.js'

/** Options of {@link cardFromNnunet}. */
export interface NnunetImportOptions {
  /** Parsed `plans.json` (`nnUNetPlans.json` or a custom plans file). */
  readonly plans: unknown
  /** Parsed `dataset.json`. */
  readonly dataset: unknown
  /** Which configuration the ONNX graph was exported from (default `'3d_fullres'`). */
  readonly configuration?: string
  readonly onnxSha256: string
  readonly id: string
  /** Pack version (default `'1.0.0'`). */
  readonly version?: string
  readonly licence: string
  readonly intendedUse: string
  /** Graph input name (default `'input'`; the card-vs-graph check catches a wrong one). */
  readonly inputName?: string
  /** Graph output name (default `'output'`). */
  readonly outputName?: string
  /** Tensor axes test-time mirroring may flip (default `[0, 1, 2]`, nnU-Net's default). */
  readonly mirrorAxes?: number[]
  /** Overrides `dataset.json` `name` / the plans' `dataset_name`. */
  readonly name?: string
  /** Overrides `dataset.json` `description`. */
  readonly description?: string
  /** Overrides the modality guessed from `channel_names` (`CT` stays CT, anything else MR). */
  readonly modality?: string
  /** Oldest VolSeg that can run the card (default `'0.1.0'`). */
  readonly minAppVersion?: string
  /** Named in errors (e.g. the plans file path). */
  readonly file?: string
  /** Parsed `fold_N/validation/summary.json`: its per-label Dice become card metrics. */
  readonly summary?: unknown
  /** The fold the summary is from (named in the metrics' dataset). */
  readonly fold?: number | 'all'
}

/**
 * The card modality from nnU-Net's channel name: `CT` and names built on it (`CT_bone`,
 * `ct-arterial`, `CT (venous)`) are CT; everything else (T1, T2, ADC, FLAIR, ...) is MR.
 */
export function modalityOf(channel0: string): string {
  return /^ct($|[^a-z])/i.test(channel0.trim()) ? 'CT' : 'MR'
}

/**
 * Card metrics from nnU-Net's `summary.json` (`nnunetv2.evaluation.evaluate_predictions`):
 * `mean` maps each label (its value, or a region tuple) to `{Dice, IoU, ...}`; `foreground_mean`
 * holds their mean. Only Dice of plain labels the card has; missing or odd fields are skipped.
 */
export function summaryMetrics(
  summary: unknown,
  labels: readonly CardLabel[],
  fold: number | 'all' | undefined,
): CardMetric[] {
  if (!isObj(summary)) return []
  const dataset = `nnU-Net cross-validation${fold === undefined ? '' : `, fold ${fold}`} (summary.json)`
  const out: CardMetric[] = []
  const fg = summary.foreground_mean
  if (isObj(fg) && typeof fg.Dice === 'number' && Number.isFinite(fg.Dice)) {
    out.push({ name: 'dice', value: fg.Dice, dataset, label: 'foreground mean' })
  }
  const mean = summary.mean
  if (isObj(mean)) {
    for (const l of labels.slice(1)) {
      const m = mean[String(l.value)]
      if (isObj(m) && typeof m.Dice === 'number' && Number.isFinite(m.Dice)) {
        out.push({ name: 'dice', value: m.Dice, dataset, label: l.name })
      }
    }
  }
  return out
}

type Obj = Record<string, unknown>

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/**
 * 20 colours chosen to be told apart (Sasha Trubetskoy's list); past those, golden-angle hues.
 * Why fixed: the same label index gets the same colour in every imported pack.
 */
const PALETTE: readonly (readonly [number, number, number])[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
  [0, 128, 128],
  [220, 190, 255],
  [170, 110, 40],
  [255, 250, 200],
  [128, 0, 0],
  [170, 255, 195],
  [128, 128, 0],
  [255, 215, 180],
  [0, 0, 128],
  [128, 128, 128],
]

/**
 * Default display colour of label index `i` (0 = background, black), shared by the importers.
 */
export function defaultLabelColor(i: number): [number, number, number] {
  if (i <= 0) return [0, 0, 0]
  const p = PALETTE[i - 1]
  if (p !== undefined) return [p[0], p[1], p[2]]
  // HSV → RGB with hue stepped by the golden angle, full saturation, value 0.9.
  const h = ((i * 137.508) % 360) / 60
  const v = 0.9
  const x = v * (1 - Math.abs((h % 2) - 1))
  const rgb: [number, number, number][] = [
    [v, x, 0],
    [x, v, 0],
    [0, v, x],
    [0, x, v],
    [x, 0, v],
    [v, 0, x],
  ]
  const [r, g, b] = rgb[Math.floor(h) % 6]!
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)]
}

/** Readers whose arrays are the stored voxel grid, and the one that reorients to RAS first. */
const READER_ORIENTATION: Record<string, string> = {
  SimpleITKIO: 'as-stored',
  NibabelIO: 'as-stored',
  NibabelIOWithReorient: 'RAS',
}

/**
 * Converts an nnU-Net v2 plans + dataset pair into a validated model card.
 *
 * @throws AppError `E_MODEL` naming the plans/dataset field that cannot be expressed (region-based
 *   training, cascades, 2-D configurations, several input channels, unknown normalisation, ...).
 */
export function cardFromNnunet(opts: NnunetImportOptions): ModelCard {
  const fail = (sentence: string): never => {
    throw new AppError('E_MODEL', sentence, opts.file === undefined ? {} : { file: opts.file })
  }
  const { plans, dataset } = opts
  if (!isObj(plans)) return fail('plans.json must be a JSON object.')
  if (!isObj(dataset)) return fail('dataset.json must be a JSON object.')
  const cfgName = opts.configuration ?? '3d_fullres'
  const cfg = resolveConfiguration(plans, cfgName, fail)
  const where = `plans.json configurations["${cfgName}"]`

  if (cfg.previous_stage !== undefined) {
    fail(
      `${where} is a cascade stage (previous_stage "${String(cfg.previous_stage)}"): it needs the previous stage's segmentation as extra input, which the engine does not provide; export 3d_fullres or 3d_lowres instead.`,
    )
  }
  const patch = cfg.patch_size
  if (Array.isArray(patch) && patch.length === 2) {
    fail(
      `${where} is a 2-D configuration (patch_size ${JSON.stringify(patch)}); the engine runs 3-D networks only.`,
    )
  }
  const patchSize = threeNumbers(patch, `${where}.patch_size`, fail)
  const spacingMm = threeNumbers(cfg.spacing, `${where}.spacing`, fail)

  const tf = plans.transpose_forward
  if (!(Array.isArray(tf) && tf.length === 3 && [0, 1, 2].every((a) => tf.includes(a)))) {
    return fail(
      `plans.json transpose_forward must be a permutation of [0, 1, 2] (got ${JSON.stringify(tf)}).`,
    )
  }
  // Tensor dim d is array axis tf[d]; array axes (0, 1, 2) are voxel axes (k, j, i).
  const axisOrder = (tf as number[]).map((a) => 'kji'[a]).join('') as AxisOrder

  const reader = plans.image_reader_writer ?? 'SimpleITKIO'
  const orientation = typeof reader === 'string' ? READER_ORIENTATION[reader] : undefined
  if (orientation === undefined) {
    return fail(
      `plans.json image_reader_writer "${String(reader)}" is not supported; the engine reproduces SimpleITKIO, NibabelIO and NibabelIOWithReorient.`,
    )
  }

  const channelNames = isObj(dataset.channel_names)
    ? dataset.channel_names
    : isObj(dataset.modality)
      ? dataset.modality
      : fail('dataset.json has no channel_names (nor the older "modality") object.')
  const channelCount = Object.keys(channelNames).length
  if (channelCount !== 1) {
    fail(
      `dataset.json channel_names lists ${channelCount} channels (${Object.values(channelNames).map(String).join(', ')}); the engine feeds one volume, so only single-channel models can be imported.`,
    )
  }
  const channel0 = channelNames['0']
  if (typeof channel0 !== 'string') fail('dataset.json channel_names must have a "0" entry.')

  const normalisation = nnunetNormalisation(plans, cfg, where, fail)
  if (dataset.regions_class_order !== undefined) {
    fail('dataset.json has regions_class_order: region-based training is not supported.')
  }
  const labels = nnunetLabels(dataset.labels, fail)

  const datasetName =
    opts.name ??
    (typeof dataset.name === 'string' && dataset.name !== '' ? dataset.name : undefined) ??
    (typeof plans.dataset_name === 'string' ? plans.dataset_name : undefined) ??
    opts.id
  const description =
    opts.description ??
    (typeof dataset.description === 'string' && dataset.description.trim() !== ''
      ? dataset.description
      : `nnU-Net v2 ${cfgName} model trained on ${datasetName}.`)

  const card = {
    schema: MODEL_CARD_SCHEMA,
    id: opts.id,
    name: datasetName,
    version: opts.version ?? '1.0.0',
    sha256: opts.onnxSha256,
    task: 'segmentation',
    modality: opts.modality ?? modalityOf(channel0 as string),
    description,
    intendedUse: opts.intendedUse,
    licence: opts.licence,
    minAppVersion: opts.minAppVersion ?? '0.1.0',
    input: { name: opts.inputName ?? 'input', channels: 1 },
    // nnU-Net networks end in a convolution: logits, softmax applied at inference.
    output: { name: opts.outputName ?? 'output', kind: 'logits' },
    axisOrder,
    orientation,
    spacingMm,
    normalisation,
    patchSize,
    // nnU-Net's predictor defaults: tile_step_size 0.5, Gaussian σ = 1/8 of the patch.
    overlap: 0.5,
    gaussianSigmaFraction: 0.125,
    mirrorAxes: opts.mirrorAxes ?? [0, 1, 2],
    labels,
    postprocess: [],
    metrics: opts.summary === undefined ? [] : summaryMetrics(opts.summary, labels, opts.fold),
    // nnU-Net's preprocessor always crops to the non-zero bounding box first.
    cropToNonzero: true,
  } satisfies ModelCard
  return parseModelCard(card, opts.file ?? 'nnU-Net import')
}

/** The configuration with its `inherits_from` chain merged in (nearest definition wins). */
function resolveConfiguration(plans: Obj, name: string, fail: (s: string) => never): Obj {
  const configs = plans.configurations
  if (!isObj(configs)) return fail('plans.json has no "configurations" object.')
  const chain: Obj[] = []
  const seen = new Set<string>()
  let current: string | undefined = name
  while (current !== undefined) {
    if (seen.has(current)) fail(`plans.json configuration "${current}" inherits from itself.`)
    seen.add(current)
    const c: unknown = configs[current]
    if (!isObj(c)) {
      return fail(
        `plans.json has no configuration "${current}" (it has: ${Object.keys(configs).join(', ')}).`,
      )
    }
    chain.unshift(c)
    current = typeof c.inherits_from === 'string' ? c.inherits_from : undefined
  }
  return Object.assign({}, ...chain) as Obj
}

function threeNumbers(
  v: unknown,
  where: string,
  fail: (s: string) => never,
): [number, number, number] {
  if (Array.isArray(v) && v.length === 3 && v.every((n) => typeof n === 'number' && n > 0)) {
    return [v[0] as number, v[1] as number, v[2] as number]
  }
  return fail(`${where} must be three positive numbers (got ${JSON.stringify(v)}).`)
}

function nnunetNormalisation(
  plans: Obj,
  cfg: Obj,
  where: string,
  fail: (s: string) => never,
): Normalisation {
  const schemes = cfg.normalization_schemes
  const scheme = Array.isArray(schemes) ? schemes[0] : undefined
  if (typeof scheme !== 'string') {
    return fail(
      `${where}.normalization_schemes must list one scheme (got ${JSON.stringify(schemes)}).`,
    )
  }
  switch (scheme) {
    case 'ZScoreNormalization': {
      const mask = cfg.use_mask_for_norm
      const m = Array.isArray(mask) ? mask[0] : undefined
      if (typeof m !== 'boolean') {
        return fail(
          `${where}.use_mask_for_norm must list one true/false (got ${JSON.stringify(mask)}).`,
        )
      }
      return { kind: 'zscore', foregroundOnly: m }
    }
    case 'CTNormalization': {
      // v2 names it ..._per_channel; early v2 plans used ..._by_modality.
      const props =
        plans.foreground_intensity_properties_per_channel ??
        plans.foreground_intensity_properties_by_modality
      const p0 = isObj(props) ? props['0'] : undefined
      const key = 'plans.json foreground_intensity_properties_per_channel["0"]'
      if (!isObj(p0)) return fail(`CTNormalization needs ${key}, which is missing.`)
      const num = (k: string): number => {
        const v = p0[k]
        return typeof v === 'number' && Number.isFinite(v)
          ? v
          : fail(`${key}.${k} must be a finite number (got ${JSON.stringify(v)}).`)
      }
      const lo = num('percentile_00_5')
      const hi = num('percentile_99_5')
      const mean = num('mean')
      const std = num('std')
      if (!(lo < hi)) fail(`${key}: percentile_00_5 (${lo}) must be below percentile_99_5 (${hi}).`)
      if (!(std > 0)) fail(`${key}.std must be > 0 (got ${std}).`)
      return { kind: 'ct', clip: [lo, hi], mean, std }
    }
    case 'NoNormalization':
      return { kind: 'none' }
    case 'RescaleTo01Normalization':
      // (x − min) / (max − min): the 0th/100th percentiles are the volume's min and max.
      return { kind: 'percentile', lower: 0, upper: 100, outMin: 0, outMax: 1, clip: false }
    default:
      return fail(
        `${where}.normalization_schemes[0] is "${scheme}", which the engine cannot reproduce (supported: ZScoreNormalization, CTNormalization, NoNormalization, RescaleTo01Normalization).`,
      )
  }
}

function nnunetLabels(v: unknown, fail: (s: string) => never): CardLabel[] {
  if (!isObj(v)) return fail('dataset.json labels must be an object {name: value}.')
  const entries: [string, number][] = []
  for (const [name, raw] of Object.entries(v)) {
    // The ignore label is not an output channel (nnU-Net's LabelManager leaves it out).
    if (name === 'ignore') continue
    let value = raw
    if (Array.isArray(raw)) {
      if (raw.length !== 1) {
        fail(
          `dataset.json labels["${name}"] is a region ${JSON.stringify(raw)}: region-based training is not supported (its outputs are sigmoid regions, not one class per channel).`,
        )
      }
      value = raw[0]
    }
    if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0)) {
      fail(`dataset.json labels["${name}"] must be an integer ≥ 0 (got ${JSON.stringify(raw)}).`)
    }
    entries.push([name, value as number])
  }
  entries.sort((a, b) => a[1] - b[1])
  entries.forEach(([name, value], i) => {
    if (value !== i) {
      fail(
        `dataset.json labels must be 0..${entries.length - 1} without gaps (label "${name}" is ${value}, expected ${i}).`,
      )
    }
  })
  if (entries.length < 2) {
    fail('dataset.json labels must hold the background and at least one label.')
  }
  return entries.map(([name, value]) => ({ value, name, color: defaultLabelColor(value) }))
}

/**
 * Builds a model card from a MONAI bundle: `configs/metadata.json` and, when given, the parsed
 * `configs/inference.json`, whose preprocessing transforms and sliding-window inferer say how the
 * network was fed.
 *
 * MONAI's conventions (nibabel arrays): after `EnsureChannelFirst` an image is `[C, i, j, k]`, so
 * the network's `[N, C, D, H, W]` is `[N, C, i, j, k]`: `axisOrder` is `'ijk'` and `Spacingd`'s
 * `pixdim` and the inferer's `roi_size`, both given in array order, are already tensor order.
 * `Orientationd` axcodes use the same nibabel codes as the card (`'RAS'`: i → Right, ...).
 */
import { AppError } from '../../shared/errors.js'
import {
  MODEL_CARD_SCHEMA,
  type CardLabel,
  type CardMetric,
  type ModelCard,
  type Normalisation,
} from '../../shared/model-card.js'
import { parseModelCard } from '../../shared/parse-model-card.js'
import { defaultLabelColor } from './nnunet.js'

/** Options of {@link cardFromMonaiBundle}. An option given here overrides the bundle. */
export interface MonaiImportOptions {
  /** Parsed `configs/metadata.json`. */
  readonly metadata: unknown
  /** Parsed `configs/inference.json`; without it, spacing, orientation and normalisation must be options. */
  readonly inference?: unknown
  readonly onnxSha256: string
  readonly id: string
  /** Licence of the weights; required unless metadata.json has `license` (its `copyright` is appended). */
  readonly licence?: string
  /** Overrides metadata `intended_use`. */
  readonly intendedUse?: string
  /** Overrides metadata `version`. */
  readonly version?: string
  /** Overrides metadata `name` (or `task`). */
  readonly name?: string
  /** Overrides metadata `description`. */
  readonly description?: string
  /** Overrides `network_data_format.inputs.image.modality`. */
  readonly modality?: string
  /** Output channel names, background first; overrides `outputs.pred.channel_def`. */
  readonly labelNames?: readonly string[]
  /** Graph input name (default `'input'`; the card-vs-graph check catches a wrong one). */
  readonly inputName?: string
  /** Graph output name (default `'output'`). */
  readonly outputName?: string
  /** Target voxel size, i/j/k order; `null` keeps the source spacing. Overrides `Spacingd`. */
  readonly spacingMm?: readonly [number, number, number] | null
  /** nibabel axis codes or `'as-stored'`; overrides `Orientationd`. */
  readonly orientation?: string
  /** Overrides the intensity transform. */
  readonly normalisation?: Normalisation
  /** Tile size, i/j/k order; overrides the inferer's `roi_size`. */
  readonly patchSize?: readonly [number, number, number]
  /** Overrides the inferer's `overlap`. */
  readonly overlap?: number
  /** Overrides the σ derived from the inferer's blending `mode`. */
  readonly gaussianSigmaFraction?: number
  /** Test-time mirroring axes (default none: MONAI's inferers do not mirror). */
  readonly mirrorAxes?: readonly number[]
  /** Oldest VolSeg that can run the card (default `'0.1.0'`). */
  readonly minAppVersion?: string
  /** Named in errors (e.g. the bundle folder). */
  readonly file?: string
}

type Obj = Record<string, unknown>
type Fail = (sentence: string) => never

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

function nonEmpty(x: unknown): string | undefined {
  return typeof x === 'string' && x.trim() !== '' ? x : undefined
}

/** Largest float32: clipping to ±this leaves every float32 voxel as it is (see ScaleIntensityRange). */
const FLOAT32_MAX = 3.4028234663852886e38

/** Transforms that do not change what the engine must reproduce (I/O, typing, padding, cropping). */
const NEUTRAL = new Set([
  'LoadImage',
  'EnsureChannelFirst',
  'AddChannel',
  'EnsureType',
  'ToTensor',
  'ToNumpy',
  'CastToType',
  'ToDevice',
  'Identity',
  // Cropping to the foreground or padding only saves work: Invertd restores the grid and the
  // cropped-away air is background either way.
  'CropForeground',
  'SpatialPad',
  'DivisiblePad',
])
const HANDLED = new Set([
  'Orientation',
  'Spacing',
  'ScaleIntensityRange',
  'ScaleIntensityRangePercentiles',
  'ScaleIntensity',
  'NormalizeIntensity',
])

/** `monai.transforms.Spacingd` → `Spacing`; unknown names come back as they are. */
function canonical(target: string): string {
  const name = target.slice(target.lastIndexOf('.') + 1)
  for (const n of [name, name.endsWith('d') ? name.slice(0, -1) : name]) {
    if (NEUTRAL.has(n) || HANDLED.has(n) || n === 'Activations') return n
  }
  return name
}

/**
 * Resolves MONAI config references: `"@a#b"` is the item at `a` → `b` of the config. Python
 * expressions (`"$..."`) cannot be evaluated here and fail, naming the field.
 */
function resolver(root: Obj, fail: Fail, option?: string): (v: unknown, where: string) => unknown {
  // Which option replaces the value (why: "pass the value as an option" left users guessing).
  const instead =
    option === undefined
      ? 'pass spacingMm, orientation and normalisation to describe the preprocessing instead'
      : `pass ${option} instead`
  const resolve = (v: unknown, where: string, depth = 0): unknown => {
    if (typeof v !== 'string') return v
    if (v.startsWith('$')) {
      return fail(`inference.json ${where} is a Python expression (${v}); ${instead}.`)
    }
    if (!v.startsWith('@') || depth > 16) return v
    let cur: unknown = root
    for (const part of v.slice(1).split('#')) {
      cur = Array.isArray(cur) ? cur[Number(part)] : isObj(cur) ? cur[part] : undefined
    }
    if (cur === undefined) {
      return fail(`inference.json ${where} refers to ${v}, which does not exist.`)
    }
    return resolve(cur, where, depth + 1)
  }
  return resolve
}

interface FromInference {
  spacingMm: [number, number, number] | null
  orientation: string
  normalisation: Normalisation
}

/** The option that replaces each kind of preprocessing transform. */
function optionOf(name: string): 'orientation' | 'spacingMm' | 'normalisation' | undefined {
  return name === 'Orientation'
    ? 'orientation'
    : name === 'Spacing'
      ? 'spacingMm'
      : HANDLED.has(name)
        ? 'normalisation'
        : undefined
}

/**
 * Reads the image preprocessing of inference.json. Transforms whose part the caller gives as an
 * option (`given`) are not read at all, so an option an error asked for always gets past it.
 */
function fromPreprocessing(
  inference: Obj,
  fail: Fail,
  given: ReadonlySet<string> = new Set(),
): FromInference {
  const resolve = resolver(inference, fail)
  const imageKey = resolve(inference.image_key ?? 'image', 'image_key')
  const pre = resolve(inference.preprocessing, 'preprocessing')
  const list = isObj(pre) ? resolve(pre.transforms, 'preprocessing.transforms') : undefined
  if (!Array.isArray(list)) {
    return fail(
      'inference.json has no preprocessing.transforms list; pass spacingMm, orientation and normalisation.',
    )
  }
  const out: FromInference = {
    spacingMm: null,
    orientation: 'as-stored',
    normalisation: { kind: 'none' },
  }
  let intensityFrom: string | undefined
  list.forEach((raw, i) => {
    const where = `preprocessing.transforms[${i}]`
    const t = resolve(raw, where)
    if (!isObj(t) || typeof t._target_ !== 'string') {
      fail(`inference.json ${where} is not a transform with a _target_.`)
    }
    const tr = t as Obj
    const option = optionOf(canonical(tr._target_ as string))
    if (option !== undefined && given.has(option)) return // the caller describes it
    const resolveOwn = resolver(inference, fail, option)
    if (resolveOwn(tr._disabled_, `${where}._disabled_`) === true) return
    const keys = resolve(tr.keys, `${where}.keys`)
    const keyList = Array.isArray(keys)
      ? keys.map((k, j) => resolve(k, `${where}.keys[${j}]`))
      : [keys]
    if (keys !== undefined && !keyList.includes(imageKey)) return // a label-only transform
    const name = canonical(tr._target_ as string)
    const at = (k: string): unknown => resolveOwn(tr[k], `${where}.${k}`)
    const num = (k: string, dflt?: number): number => {
      const v = at(k) ?? dflt
      return typeof v === 'number' && Number.isFinite(v)
        ? v
        : fail(
            `inference.json ${where}.${k} (${name}) must be a number (got ${JSON.stringify(v)}).`,
          )
    }
    const flag = (k: string, dflt: boolean): boolean => {
      const v = at(k) ?? dflt
      return typeof v === 'boolean'
        ? v
        : fail(`inference.json ${where}.${k} (${name}) must be true or false.`)
    }
    if (NEUTRAL.has(name)) return
    if (name === 'Orientation') {
      const ax = at('axcodes')
      if (typeof ax !== 'string' || at('labels') !== undefined) {
        fail(
          `inference.json ${where} (Orientationd) needs axcodes such as "RAS" and the default labels.`,
        )
      }
      out.orientation = ax as string
    } else if (name === 'Spacing') {
      const pix = at('pixdim')
      if (!(
        Array.isArray(pix) &&
        pix.length === 3 &&
        pix.every((n) => typeof n === 'number' && n > 0)
      )) {
        // MONAI pads short lists and keeps the source spacing on axes ≤ 0: not a card spacing.
        fail(
          `inference.json ${where}.pixdim must be three positive numbers (got ${JSON.stringify(pix)}); pass spacingMm instead.`,
        )
      }
      out.spacingMm = [...(pix as number[])] as [number, number, number]
    } else if (HANDLED.has(name)) {
      if (intensityFrom !== undefined) {
        fail(
          `inference.json has two intensity transforms (${intensityFrom} and ${where}); pass normalisation.`,
        )
      }
      intensityFrom = where
      out.normalisation = intensity(name, where, num, flag, at, fail)
    } else {
      const left = ['spacingMm', 'orientation', 'normalisation'].filter((o) => !given.has(o))
      if (left.length === 0) return // everything it could change is given
      fail(
        `inference.json ${where} (${tr._target_ as string}) is not a transform the engine reproduces; pass ${left.join(', ')} to describe the preprocessing yourself.`,
      )
    }
  })
  return out
}

/** Maps one MONAI intensity transform to the card's normalisation, exactly. */
function intensity(
  name: string,
  where: string,
  num: (k: string, dflt?: number) => number,
  flag: (k: string, dflt: boolean) => boolean,
  at: (k: string) => unknown,
  fail: Fail,
): Normalisation {
  const refuse = (why: string): never =>
    fail(`inference.json ${where} (${name}) ${why}; pass normalisation.`)
  switch (name) {
    case 'ScaleIntensityRange': {
      // y = (x − a_min) / (a_max − a_min) · (b_max − b_min) + b_min, optionally clipped to [b_min, b_max].
      // As (x − mean) / std: std = (a_max − a_min) / (b_max − b_min), mean = a_min − b_min · std.
      // For an increasing map, clipping y to [b_min, b_max] is clipping x to [a_min, a_max].
      const aMin = num('a_min')
      const aMax = num('a_max')
      const bMin = num('b_min')
      const bMax = num('b_max')
      if (!(aMax > aMin && bMax > bMin)) refuse('needs a_min < a_max and b_min < b_max')
      const std = (aMax - aMin) / (bMax - bMin)
      const mean = aMin - bMin * std
      // Without clip the map is unbounded: a clip at ±float32 max keeps every voxel as it is.
      const clip: [number, number] = flag('clip', false)
        ? [aMin, aMax]
        : [-FLOAT32_MAX, FLOAT32_MAX]
      return { kind: 'ct', clip, mean, std }
    }
    case 'ScaleIntensityRangePercentiles': {
      if (flag('relative', false)) refuse('uses relative=true')
      return {
        kind: 'percentile',
        lower: num('lower'),
        upper: num('upper'),
        outMin: num('b_min'),
        outMax: num('b_max'),
        clip: flag('clip', false),
      }
    }
    case 'ScaleIntensity': {
      // Min/max rescaling: the 0th and 100th percentiles are the volume's min and max.
      if (at('factor') !== undefined && at('factor') !== null) refuse('scales by a factor')
      return {
        kind: 'percentile',
        lower: 0,
        upper: 100,
        outMin: num('minv', 0),
        outMax: num('maxv', 1),
        clip: false,
      }
    }
    default: {
      // NormalizeIntensity: with fixed subtrahend/divisor it is not a z-score of the volume.
      for (const k of ['subtrahend', 'divisor']) {
        if (at(k) !== undefined && at(k) !== null) refuse(`sets a fixed ${k}`)
      }
      return { kind: 'zscore', foregroundOnly: flag('nonzero', false) }
    }
  }
}

interface FromInferer {
  patchSize?: [number, number, number]
  overlap: number
  sigma: number
}

/**
 * Tiling from the `SlidingWindowInferer`; fields the caller overrides are not read (why: they may
 * be expressions). Without a sliding-window inferer (e.g. `SimpleInferer` on the whole volume),
 * MONAI's sliding-window defaults are used.
 */
function fromInferer(
  inference: Obj | undefined,
  opts: MonaiImportOptions,
  fail: Fail,
): FromInferer {
  // MONAI's SlidingWindowInferer defaults: overlap 0.25, mode "constant".
  const out: FromInferer = { overlap: 0.25, sigma: 1 }
  if (inference === undefined) return out
  const resolve = resolver(inference, fail)
  const inf = resolve(inference.inferer, 'inferer')
  const target = isObj(inf) && typeof inf._target_ === 'string' ? inf._target_ : ''
  // monai.inferers.SliceInferer runs a 2-D network over the slices of a volume.
  if (target.endsWith('SliceInferer')) {
    fail(
      `inference.json inferer is ${target}: a 2-D model run slice by slice; only 3-D models can be imported.`,
    )
  }
  const roi2d = isObj(inf) ? inf.roi_size : undefined
  if (Array.isArray(roi2d) && roi2d.length === 2) {
    fail(
      `inference.json inferer.roi_size ${JSON.stringify(roi2d)} has two sizes: a 2-D model; only 3-D models can be imported.`,
    )
  }
  if (
    !isObj(inf) ||
    typeof inf._target_ !== 'string' ||
    !inf._target_.endsWith('SlidingWindowInferer')
  ) {
    return out
  }
  const roi =
    opts.patchSize ?? resolver(inference, fail, 'patchSize')(inf.roi_size, 'inferer.roi_size')
  if (Array.isArray(roi) && roi.length === 3 && roi.every((n) => Number.isInteger(n) && n > 0)) {
    out.patchSize = [...(roi as number[])] as [number, number, number]
  }
  const overlap =
    opts.overlap ?? resolver(inference, fail, 'overlap')(inf.overlap, 'inferer.overlap')
  if (typeof overlap === 'number') out.overlap = overlap
  else if (overlap !== undefined) {
    fail('inference.json inferer.overlap must be one number; pass overlap.')
  }
  if (opts.gaussianSigmaFraction !== undefined) return out
  const resolveSigma = resolver(inference, fail, 'gaussianSigmaFraction')
  const mode = resolveSigma(inf.mode, 'inferer.mode') ?? 'constant'
  if (mode === 'gaussian') {
    const s = resolveSigma(inf.sigma_scale, 'inferer.sigma_scale') ?? 0.125
    if (typeof s !== 'number') {
      fail('inference.json inferer.sigma_scale must be one number; pass gaussianSigmaFraction.')
    }
    out.sigma = s as number
  } else if (mode !== 'constant') {
    fail(
      `inference.json inferer.mode "${String(mode)}" is not supported; pass gaussianSigmaFraction.`,
    )
  }
  // "constant" (equal weights) is approximated by σ = 1 patch: tile edges weigh 0.88 of the centre.
  return out
}

/** A sigmoid activation means independent (multi-label) channels, which argmax would misread. */
function checkActivation(inference: Obj | undefined, fail: Fail): void {
  const post = inference?.postprocessing
  const list = isObj(post) ? post.transforms : undefined
  if (!Array.isArray(list)) return
  for (const t of list) {
    if (isObj(t) && typeof t._target_ === 'string' && canonical(t._target_) === 'Activations') {
      if (t.sigmoid === true) {
        fail(
          'inference.json postprocessing applies a sigmoid: multi-label outputs are not supported (the engine takes the argmax of a softmax).',
        )
      }
    }
  }
}

/**
 * Converts a MONAI bundle's metadata (+ inference config) into a validated model card.
 *
 * @throws AppError `E_MODEL` naming the bundle field that cannot be expressed, or the option to pass
 *   for what the bundle does not say.
 */
export function cardFromMonaiBundle(opts: MonaiImportOptions): ModelCard {
  const fail: Fail = (sentence) => {
    throw new AppError('E_MODEL', sentence, opts.file === undefined ? {} : { file: opts.file })
  }
  const meta = opts.metadata
  if (!isObj(meta)) return fail('metadata.json must be a JSON object.')
  const inference = opts.inference
  if (inference !== undefined && !isObj(inference)) {
    return fail('inference.json must be a JSON object.')
  }

  const ndf = isObj(meta.network_data_format) ? meta.network_data_format : {}
  const image = isObj(ndf.inputs) && isObj(ndf.inputs.image) ? ndf.inputs.image : undefined
  const pred = isObj(ndf.outputs) && isObj(ndf.outputs.pred) ? ndf.outputs.pred : undefined
  const outputs = isObj(ndf.outputs) ? Object.keys(ndf.outputs) : []
  const task = `${nonEmpty(meta.task) ?? ''} ${nonEmpty(meta.name) ?? ''}`
  if (
    pred === undefined &&
    (/detect/i.test(task) || outputs.some((k) => /box/i.test(k)) || isDetector(inference))
  ) {
    return fail(
      `this is a detection bundle (outputs ${outputs.join(', ') || 'boxes'}, not a label map): only segmentation models can be imported.`,
    )
  }
  if (image === undefined || pred === undefined) {
    return fail(
      'metadata.json needs network_data_format.inputs.image and network_data_format.outputs.pred.',
    )
  }
  if (image.num_channels !== 1) {
    fail(
      `metadata.json network_data_format.inputs.image.num_channels is ${JSON.stringify(image.num_channels)}; the engine feeds one volume, so only single-channel models can be imported.`,
    )
  }

  const labels = monaiLabels(pred, opts.labelNames, fail, meta)
  const rawModality = opts.modality ?? nonEmpty(image.modality)
  if (rawModality === undefined) {
    fail('metadata.json inputs.image has no modality; pass modality (e.g. "CT").')
  }
  const modality = rawModality!.toUpperCase() === 'MRI' ? 'MR' : rawModality!.toUpperCase()

  let licence = opts.licence ?? nonEmpty(meta.license) ?? nonEmpty(meta.licence)
  if (licence === undefined) {
    return fail(
      'metadata.json has no licence (its "copyright" is not one); pass licence, e.g. "Apache-2.0".',
    )
  }
  const copyright = nonEmpty(meta.copyright)
  if (copyright !== undefined && !licence.includes(copyright)) licence = `${licence}; ${copyright}`

  const missing = (
    [
      ['spacingMm', opts.spacingMm],
      ['orientation', opts.orientation],
      ['normalisation', opts.normalisation],
    ] as const
  )
    .filter(([, v]) => v === undefined)
    .map(([k]) => k)
  if (inference === undefined && missing.length > 0) {
    fail(
      `Without inference.json the preprocessing is unknown; pass ${missing.join(', ')} (or the parsed inference.json).`,
    )
  }
  // Set whenever an option is missing (inference.json is then given, see above); the parts given
  // as options are not read from it.
  const given = new Set(
    (['spacingMm', 'orientation', 'normalisation'] as const).filter((k) => opts[k] !== undefined),
  )
  const pre =
    inference !== undefined && missing.length > 0
      ? fromPreprocessing(inference, fail, given)
      : undefined
  const spacingMm =
    opts.spacingMm === undefined
      ? pre!.spacingMm
      : opts.spacingMm === null
        ? null
        : ([...opts.spacingMm] as [number, number, number])
  const inferer = fromInferer(inference, opts, fail)
  checkActivation(inference, fail)
  const spatial = image.spatial_shape
  const metaPatch =
    Array.isArray(spatial) &&
    spatial.length === 3 &&
    spatial.every((n) => Number.isInteger(n) && n > 0)
      ? ([...spatial] as [number, number, number])
      : undefined
  const patchSize =
    opts.patchSize ??
    inferer.patchSize ??
    metaPatch ??
    fail(
      'Neither inferer.roi_size nor inputs.image.spatial_shape gives three sizes; pass patchSize.',
    )

  const card = {
    schema: MODEL_CARD_SCHEMA,
    id: opts.id,
    name:
      opts.name ??
      nonEmpty(meta.name) ??
      nonEmpty(meta.task) ??
      fail('metadata.json has no name or task; pass name.'),
    version:
      opts.version ?? nonEmpty(meta.version) ?? fail('metadata.json has no version; pass version.'),
    sha256: opts.onnxSha256,
    task: 'segmentation',
    modality,
    description:
      opts.description ??
      nonEmpty(meta.description) ??
      fail('metadata.json has no description; pass description.'),
    intendedUse:
      opts.intendedUse ??
      nonEmpty(meta.intended_use) ??
      fail('metadata.json has no intended_use; pass intendedUse.'),
    licence,
    minAppVersion: opts.minAppVersion ?? '0.1.0',
    input: { name: opts.inputName ?? 'input', channels: 1 },
    // Bundles' networks end in a convolution; softmax is a postprocessing transform.
    output: { name: opts.outputName ?? 'output', kind: 'logits' },
    axisOrder: 'ijk',
    orientation: opts.orientation ?? pre!.orientation,
    spacingMm,
    normalisation: opts.normalisation ?? pre!.normalisation,
    patchSize: [...patchSize],
    overlap: opts.overlap ?? inferer.overlap,
    gaussianSigmaFraction: opts.gaussianSigmaFraction ?? inferer.sigma,
    mirrorAxes: [...(opts.mirrorAxes ?? [])],
    labels,
    postprocess: largestComponents(inference, labels, fail),
    metrics: monaiMetrics(meta),
  } satisfies ModelCard
  return parseModelCard(card, opts.file ?? 'MONAI bundle import')
}

/** Whether inference.json builds a detector (RetinaNet and friends) rather than a segmenter. */
function isDetector(inference: unknown): boolean {
  if (!isObj(inference)) return false
  return Object.values(inference).some(
    (v) => isObj(v) && typeof v._target_ === 'string' && /detector|retinanet/i.test(v._target_),
  )
}

/**
 * `KeepLargestConnectedComponentd` in the postprocessing → the card's `largestComponent` rules:
 * for its `applied_labels`, or every foreground label when it names none (MONAI's default).
 */
function largestComponents(
  inference: Obj | undefined,
  labels: readonly CardLabel[],
  fail: Fail,
): { label: number; largestComponent: true }[] {
  const post = inference?.postprocessing
  const list = isObj(post) ? post.transforms : undefined
  if (!Array.isArray(list)) return []
  const values = new Set<number>()
  list.forEach((t, i) => {
    if (!isObj(t) || typeof t._target_ !== 'string') return
    const name = t._target_.slice(t._target_.lastIndexOf('.') + 1).replace(/d$/, '')
    if (name !== 'KeepLargestConnectedComponent' || t._disabled_ === true) return
    const applied = t.applied_labels
    const fg = labels.slice(1).map((l) => l.value)
    const chosen =
      applied === undefined || applied === null
        ? fg
        : Array.isArray(applied)
          ? applied
          : typeof applied === 'number'
            ? [applied]
            : fail(
                `inference.json postprocessing.transforms[${i}].applied_labels must be label values (got ${JSON.stringify(applied)}).`,
              )
    for (const v of chosen) {
      if (typeof v === 'number' && fg.includes(v)) values.add(v)
    }
  })
  return [...values].sort((a, b) => a - b).map((label) => ({ label, largestComponent: true }))
}

function monaiLabels(
  pred: Obj,
  names: readonly string[] | undefined,
  fail: Fail,
  meta?: Obj,
): CardLabel[] {
  const n = pred.num_channels
  if (!(typeof n === 'number' && Number.isInteger(n))) {
    return fail('metadata.json outputs.pred.num_channels must be an integer.')
  }
  if (n < 2) {
    fail(
      `metadata.json outputs.pred has ${n} channel: the engine needs one channel per label, background included (sigmoid single-channel outputs are not supported).`,
    )
  }
  let list = names
  if (list === undefined) {
    // Some bundles name the channels in a top-level label_def (index → name) instead.
    const def = isObj(pred.channel_def) ? pred.channel_def : meta?.label_def
    if (!isObj(def)) {
      return fail('metadata.json outputs.pred has no channel_def (nor label_def); pass labelNames.')
    }
    list = Array.from({ length: n }, (_, c) => {
      const name = def[String(c)]
      return typeof name === 'string' && name.trim() !== ''
        ? name
        : fail(
            `metadata.json outputs.pred.channel_def has no name for channel ${c}; pass labelNames.`,
          )
    })
    if (Object.keys(def).length !== n) {
      fail(
        `metadata.json outputs.pred.channel_def names ${Object.keys(def).length} channels but num_channels is ${n}.`,
      )
    }
  }
  if (list.length !== n) {
    fail(`labelNames has ${list.length} names but the output has ${n} channels.`)
  }
  return list.map((name, value) => ({ value, name, color: defaultLabelColor(value) }))
}

function monaiMetrics(meta: Obj): CardMetric[] {
  const m = meta.eval_metrics
  if (!isObj(m)) return []
  const dataset = nonEmpty(meta.data_source) ?? 'the bundle authors’ validation data'
  return Object.entries(m)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .map(([name, value]) => ({ name, value, dataset }))
}

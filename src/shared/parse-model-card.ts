/**
 * Validation of model cards (`model.json`). Every field is checked and every problem is reported
 * at once, each named by its JSON path (`labels[2].color`), so a pack author fixes a card in one
 * round. Unknown keys are refused at every level: a typo such as `patch_size` must never be
 * silently ignored and replaced by a default.
 */
import { AppError } from './errors.js'
import {
  MODEL_CARD_SCHEMA,
  type AxisOrder,
  type CardLabel,
  type CardMetric,
  type ModelCard,
  type Normalisation,
  type PostprocessRule,
} from './model-card.js'

const ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/
const SEMVER_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/
const SHA256_RE = /^[0-9a-f]{64}$/
const SNOMED_RE = /^\d{6,18}$/
const AXIS_ORDERS: readonly AxisOrder[] = ['kji', 'kij', 'jki', 'jik', 'ikj', 'ijk']
/** Orientation letter pairs of voxel directions (nibabel axis codes). */
const DIRECTION_PAIRS = ['RL', 'AP', 'SI'] as const

const TOP_KEYS = [
  'schema',
  'id',
  'name',
  'version',
  'sha256',
  'task',
  'modality',
  'description',
  'intendedUse',
  'licence',
  'minAppVersion',
  'input',
  'output',
  'axisOrder',
  'orientation',
  'spacingMm',
  'normalisation',
  'patchSize',
  'overlap',
  'gaussianSigmaFraction',
  'mirrorAxes',
  'labels',
  'postprocess',
  'metrics',
  'maxBatch',
  'cropToNonzero',
] as const

type Obj = Record<string, unknown>

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x)
}

/** `(got …)` for messages, short (why: a whole nested object is noise), or `(missing)`. */
function got(x: unknown): string {
  if (x === undefined) return '(missing)'
  const s = typeof x === 'number' ? String(x) : (JSON.stringify(x) ?? String(x))
  return `(got ${s.length > 48 ? `${s.slice(0, 45)}...` : s})`
}

function isInt(x: unknown, lo: number, hi: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x)
}

/** Collects problems as `path + sentence`. */
class Problems {
  readonly list: string[] = []
  add(path: string, sentence: string): void {
    this.list.push(`${path} ${sentence}`)
  }
}

/** Squashes case and separators so `patch_size` can be matched to `patchSize`. */
function squash(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '')
}

function checkKeys(o: Obj, path: string, allowed: readonly string[], p: Problems): void {
  for (const k of Object.keys(o)) {
    if (allowed.includes(k)) continue
    const near = allowed.find((a) => squash(a) === squash(k))
    const where = path === '' ? k : `${path}.${k}`
    p.add(
      where,
      near === undefined
        ? `is not a known key (allowed: ${allowed.join(', ')})`
        : `is not a known key (did you mean "${near}"?)`,
    )
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function text(o: Obj, key: string, path: string, p: Problems): string | undefined {
  const v = o[key]
  if (typeof v === 'string' && v.trim() !== '') return v
  p.add(join(path, key), `must be a non-empty string ${got(v)}`)
  return undefined
}

function matching(o: Obj, key: string, re: RegExp, what: string, p: Problems): string | undefined {
  const v = o[key]
  if (typeof v === 'string' && re.test(v)) return v
  p.add(key, `must be ${what} ${got(v)}`)
  return undefined
}

function numberIn(
  o: Obj,
  key: string,
  path: string,
  ok: (n: number) => boolean,
  what: string,
  p: Problems,
): number | undefined {
  const v = o[key]
  if (isFiniteNumber(v) && ok(v)) return v
  p.add(join(path, key), `must be ${what} ${got(v)}`)
  return undefined
}

function bool(o: Obj, key: string, path: string, p: Problems): boolean | undefined {
  const v = o[key]
  if (typeof v === 'boolean') return v
  p.add(join(path, key), `must be true or false ${got(v)}`)
  return undefined
}

function triple(
  v: unknown,
  path: string,
  ok: (n: number) => boolean,
  what: string,
  p: Problems,
): [number, number, number] | undefined {
  if (Array.isArray(v) && v.length === 3 && v.every((n) => isFiniteNumber(n) && ok(n))) {
    return [v[0] as number, v[1] as number, v[2] as number]
  }
  p.add(path, `must be ${what} ${got(v)}`)
  return undefined
}

function orientationOk(s: string): boolean {
  if (s === 'as-stored') return true
  if (!/^[RLAPSI]{3}$/.test(s)) return false
  // One letter from each pair, in any order (e.g. 'PSR').
  return DIRECTION_PAIRS.every((pair) => [...s].filter((c) => pair.includes(c)).length === 1)
}

function parseNormalisation(v: unknown, p: Problems): Normalisation | undefined {
  const path = 'normalisation'
  if (!isObj(v)) {
    p.add(path, `must be an object with a "kind" ${got(v)}`)
    return undefined
  }
  const before = p.list.length
  switch (v.kind) {
    case 'zscore': {
      checkKeys(v, path, ['kind', 'foregroundOnly'], p)
      const foregroundOnly = bool(v, 'foregroundOnly', path, p)
      return p.list.length > before
        ? undefined
        : { kind: 'zscore', foregroundOnly: foregroundOnly! }
    }
    case 'ct': {
      checkKeys(v, path, ['kind', 'clip', 'mean', 'std'], p)
      const clip = v.clip
      let pair: [number, number] | undefined
      if (
        Array.isArray(clip) &&
        clip.length === 2 &&
        isFiniteNumber(clip[0]) &&
        isFiniteNumber(clip[1]) &&
        clip[0] < clip[1]
      ) {
        pair = [clip[0], clip[1]]
      } else {
        p.add(`${path}.clip`, `must be two finite numbers [low, high] with low < high ${got(clip)}`)
      }
      const mean = numberIn(v, 'mean', path, () => true, 'a finite number', p)
      const std = numberIn(v, 'std', path, (n) => n > 0, 'a finite number > 0', p)
      return p.list.length > before
        ? undefined
        : { kind: 'ct', clip: pair!, mean: mean!, std: std! }
    }
    case 'percentile': {
      checkKeys(v, path, ['kind', 'lower', 'upper', 'outMin', 'outMax', 'clip'], p)
      const pct = (n: number): boolean => n >= 0 && n <= 100
      const lower = numberIn(v, 'lower', path, pct, 'a number in [0, 100]', p)
      const upper = numberIn(v, 'upper', path, pct, 'a number in [0, 100]', p)
      if (lower !== undefined && upper !== undefined && !(lower < upper)) {
        p.add(`${path}.lower`, `must be below normalisation.upper (got ${lower} and ${upper})`)
      }
      const outMin = numberIn(v, 'outMin', path, () => true, 'a finite number', p)
      const outMax = numberIn(v, 'outMax', path, () => true, 'a finite number', p)
      if (outMin !== undefined && outMax !== undefined && !(outMin < outMax)) {
        p.add(`${path}.outMin`, `must be below normalisation.outMax (got ${outMin} and ${outMax})`)
      }
      const clip = bool(v, 'clip', path, p)
      if (p.list.length > before) return undefined
      return {
        kind: 'percentile',
        lower: lower!,
        upper: upper!,
        outMin: outMin!,
        outMax: outMax!,
        clip: clip!,
      }
    }
    case 'none':
      checkKeys(v, path, ['kind'], p)
      return p.list.length > before ? undefined : { kind: 'none' }
    default:
      p.add(`${path}.kind`, `must be one of zscore, ct, percentile, none ${got(v.kind)}`)
      return undefined
  }
}

function parseLabels(v: unknown, p: Problems): CardLabel[] | undefined {
  if (!Array.isArray(v) || v.length < 2) {
    p.add('labels', `must be a list of at least 2 labels, background first ${got(v)}`)
    return undefined
  }
  const before = p.list.length
  const out: CardLabel[] = []
  const values = new Set<number>()
  const names = new Set<string>()
  v.forEach((l: unknown, i) => {
    const path = `labels[${i}]`
    if (!isObj(l)) {
      p.add(path, `must be an object {value, name, color} ${got(l)}`)
      return
    }
    checkKeys(l, path, ['value', 'name', 'color', 'snomed', 'side', 'plausibleVolumeMl'], p)
    const value = l.value
    if (!isInt(value, 0, 65535)) {
      p.add(`${path}.value`, `must be an integer in 0..65535 ${got(value)}`)
    } else if (values.has(value)) {
      p.add(`${path}.value`, `repeats label value ${value}; values must be unique`)
    } else values.add(value)
    if (i === 0 && value !== 0) {
      p.add(`${path}.value`, `must be 0: output channel 0 is the background ${got(value)}`)
    }
    const name = text(l, 'name', path, p)
    if (name !== undefined) {
      if (names.has(name)) {
        p.add(`${path}.name`, `repeats label name "${name}"; names must be unique`)
      }
      names.add(name)
    }
    const color = triple(
      l.color,
      `${path}.color`,
      (n) => isInt(n, 0, 255),
      'three integers in 0..255',
      p,
    )
    const snomed = l.snomed
    if (snomed !== undefined && !(typeof snomed === 'string' && SNOMED_RE.test(snomed))) {
      p.add(
        `${path}.snomed`,
        `must be a SNOMED CT id of 6 to 18 digits, as a string ${got(snomed)}`,
      )
    }
    const side = l.side
    if (side !== undefined && side !== 'left' && side !== 'right') {
      p.add(`${path}.side`, `must be "left" or "right" ${got(side)}`)
    }
    const range = l.plausibleVolumeMl
    const rangeOk =
      Array.isArray(range) &&
      range.length === 2 &&
      range.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0) &&
      (range[0] as number) <= (range[1] as number)
    if (range !== undefined && !rangeOk) {
      p.add(`${path}.plausibleVolumeMl`, `must be [min, max] mL with 0 ≤ min ≤ max ${got(range)}`)
    }
    if (name !== undefined && color !== undefined && isInt(value, 0, 65535)) {
      out.push({
        value,
        name,
        color,
        ...(typeof snomed === 'string' ? { snomed } : {}),
        ...(side === 'left' || side === 'right' ? { side } : {}),
        ...(rangeOk
          ? { plausibleVolumeMl: [range[0] as number, range[1] as number] as const }
          : {}),
      })
    }
  })
  return p.list.length > before ? undefined : out
}

function parsePostprocess(
  v: unknown,
  labels: CardLabel[] | undefined,
  p: Problems,
): PostprocessRule[] {
  const out: PostprocessRule[] = []
  if (!Array.isArray(v)) {
    p.add('postprocess', `must be a list of rules (use [] for none) ${got(v)}`)
    return out
  }
  const seen = new Set<number>()
  const foreground = new Set(labels?.slice(1).map((l) => l.value))
  v.forEach((r: unknown, i) => {
    const path = `postprocess[${i}]`
    if (!isObj(r)) {
      p.add(path, `must be an object {label, largestComponent?, minIslandMm3?} ${got(r)}`)
      return
    }
    checkKeys(r, path, ['label', 'largestComponent', 'minIslandMm3'], p)
    const label = r.label
    if (!isInt(label, 0, 65535)) {
      p.add(`${path}.label`, `must be a label value ${got(label)}`)
    } else if (labels !== undefined && !foreground.has(label)) {
      p.add(`${path}.label`, `must be the value of a non-background label in labels (got ${label})`)
    } else if (seen.has(label)) {
      p.add(`${path}.label`, `repeats label ${label}; use one rule per label`)
    }
    if (isInt(label, 0, 65535)) seen.add(label)
    if (r.largestComponent !== undefined && typeof r.largestComponent !== 'boolean') {
      p.add(`${path}.largestComponent`, `must be true or false ${got(r.largestComponent)}`)
    }
    const min = r.minIslandMm3
    if (min !== undefined && !(isFiniteNumber(min) && min >= 0)) {
      p.add(`${path}.minIslandMm3`, `must be a finite number ≥ 0 ${got(min)}`)
    }
    if (isInt(label, 0, 65535)) {
      out.push({
        label,
        ...(typeof r.largestComponent === 'boolean'
          ? { largestComponent: r.largestComponent }
          : {}),
        ...(isFiniteNumber(min) ? { minIslandMm3: min } : {}),
      })
    }
  })
  return out
}

function parseMetrics(v: unknown, p: Problems): CardMetric[] {
  const out: CardMetric[] = []
  if (!Array.isArray(v)) {
    p.add('metrics', `must be a list (use [] for none) ${got(v)}`)
    return out
  }
  v.forEach((m: unknown, i) => {
    const path = `metrics[${i}]`
    if (!isObj(m)) {
      p.add(path, `must be an object {name, value, dataset, label?} ${got(m)}`)
      return
    }
    checkKeys(m, path, ['name', 'value', 'dataset', 'label'], p)
    const name = text(m, 'name', path, p)
    const value = numberIn(m, 'value', path, () => true, 'a finite number', p)
    const dataset = text(m, 'dataset', path, p)
    const label = m.label === undefined ? undefined : text(m, 'label', path, p)
    if (name !== undefined && value !== undefined && dataset !== undefined) {
      out.push({ name, value, dataset, ...(label === undefined ? {} : { label }) })
    }
  })
  return out
}

/**
 * Validates a parsed `model.json` and returns a clean card holding exactly the card's fields.
 *
 * @param json - the parsed JSON.
 * @param file - the card's path, for the error.
 * @throws AppError `E_MODEL` listing every problem, each named by its JSON path
 *   (`labels[2].color must be three integers in 0..255 (got [300,0,0])`).
 */
export function parseModelCard(json: unknown, file: string): ModelCard {
  const p = new Problems()
  if (!isObj(json)) {
    throw new AppError('E_MODEL', `The model card must be a JSON object ${got(json)}.`, {
      file,
    })
  }
  const o = json
  checkKeys(o, '', TOP_KEYS, p)

  if (o.schema !== MODEL_CARD_SCHEMA) {
    p.add('schema', `must be "${MODEL_CARD_SCHEMA}" ${got(o.schema)}`)
  }
  const id = matching(
    o,
    'id',
    ID_RE,
    'lower-case letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)',
    p,
  )
  const name = text(o, 'name', '', p)
  const version = matching(o, 'version', SEMVER_RE, 'a version x.y.z', p)
  const sha256 = matching(o, 'sha256', SHA256_RE, '64 lower-case hex digits', p)
  if (o.task !== 'segmentation') p.add('task', `must be "segmentation" ${got(o.task)}`)
  const modality = text(o, 'modality', '', p)
  const description = text(o, 'description', '', p)
  const intendedUse = text(o, 'intendedUse', '', p)
  const licence = text(o, 'licence', '', p)
  const minAppVersion = matching(o, 'minAppVersion', SEMVER_RE, 'a version x.y.z', p)

  let input: ModelCard['input'] | undefined
  if (isObj(o.input)) {
    checkKeys(o.input, 'input', ['name', 'channels'], p)
    const n = text(o.input, 'name', 'input', p)
    const channels = o.input.channels
    if (!isInt(channels, 1, 16)) {
      p.add('input.channels', `must be an integer in 1..16 ${got(channels)}`)
    } else if (n !== undefined) input = { name: n, channels }
  } else p.add('input', `must be an object {name, channels} ${got(o.input)}`)

  let output: ModelCard['output'] | undefined
  if (isObj(o.output)) {
    checkKeys(o.output, 'output', ['name', 'kind'], p)
    const n = text(o.output, 'name', 'output', p)
    const kind = o.output.kind
    if (kind !== 'logits' && kind !== 'probabilities') {
      p.add('output.kind', `must be "logits" or "probabilities" ${got(kind)}`)
    } else if (n !== undefined) output = { name: n, kind }
  } else p.add('output', `must be an object {name, kind} ${got(o.output)}`)

  const axisOrder = o.axisOrder
  if (!AXIS_ORDERS.includes(axisOrder as AxisOrder)) {
    p.add('axisOrder', `must be one of ${AXIS_ORDERS.join(', ')} ${got(axisOrder)}`)
  }
  const orientation = o.orientation
  if (!(typeof orientation === 'string' && orientationOk(orientation))) {
    p.add(
      'orientation',
      `must be "as-stored" or three axis codes with one of R/L, one of A/P and one of S/I, e.g. "RAS" ${got(orientation)}`,
    )
  }
  let spacingMm: ModelCard['spacingMm'] | undefined = null
  if (o.spacingMm !== null) {
    spacingMm = triple(
      o.spacingMm,
      'spacingMm',
      (n) => n > 0 && n <= 100,
      'null or three numbers in (0, 100] mm',
      p,
    )
  }
  const normalisation = parseNormalisation(o.normalisation, p)
  const patchSize = triple(
    o.patchSize,
    'patchSize',
    (n) => isInt(n, 4, 1024),
    'three integers in 4..1024',
    p,
  )
  const overlap = numberIn(o, 'overlap', '', (n) => n >= 0 && n <= 0.95, 'a number in [0, 0.95]', p)
  const gaussianSigmaFraction = numberIn(
    o,
    'gaussianSigmaFraction',
    '',
    (n) => n > 0 && n <= 1,
    'a number in (0, 1]',
    p,
  )
  const mirror = o.mirrorAxes
  if (!(
    Array.isArray(mirror) &&
    mirror.every((a) => isInt(a, 0, 2)) &&
    new Set(mirror).size === mirror.length
  )) {
    p.add('mirrorAxes', `must be a list of distinct tensor axes from 0, 1, 2 ${got(mirror)}`)
  }
  const labels = parseLabels(o.labels, p)
  const postprocess = parsePostprocess(o.postprocess, labels, p)
  const metrics = parseMetrics(o.metrics, p)
  const maxBatch = o.maxBatch
  if (maxBatch !== undefined && !isInt(maxBatch, 1, 64)) {
    p.add('maxBatch', `must be an integer in 1..64 when given ${got(maxBatch)}`)
  }
  const cropToNonzero = o.cropToNonzero
  if (cropToNonzero !== undefined && typeof cropToNonzero !== 'boolean') {
    p.add('cropToNonzero', `must be true or false when given ${got(cropToNonzero)}`)
  }

  if (p.list.length > 0) {
    const n = p.list.length
    throw new AppError(
      'E_MODEL',
      `The model card is invalid (${n} problem${n === 1 ? '' : 's'}): ${p.list.join('; ')}.`,
      { file, details: { problems: p.list } },
    )
  }
  return {
    schema: MODEL_CARD_SCHEMA,
    id: id!,
    name: name!,
    version: version!,
    sha256: sha256!,
    task: 'segmentation',
    modality: modality!,
    description: description!,
    intendedUse: intendedUse!,
    licence: licence!,
    minAppVersion: minAppVersion!,
    input: input!,
    output: output!,
    axisOrder: axisOrder as AxisOrder,
    orientation: orientation as string,
    spacingMm: spacingMm as ModelCard['spacingMm'],
    normalisation: normalisation!,
    patchSize: patchSize!,
    overlap: overlap!,
    gaussianSigmaFraction: gaussianSigmaFraction!,
    mirrorAxes: [...(mirror as number[])],
    labels: labels!,
    postprocess,
    metrics,
    ...(maxBatch === undefined ? {} : { maxBatch: maxBatch as number }),
    ...(cropToNonzero === undefined ? {} : { cropToNonzero: cropToNonzero as boolean }),
  }
}

const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/

/**
 * Compares two versions `x.y.z` (an optional `-pre` release sorts before its release; `+build`
 * is ignored). Returns a negative number when `a < b`, 0 when equal, positive when `a > b`.
 *
 * @throws AppError `E_ARGS` when either is not a version.
 */
export function compareVersions(a: string, b: string): number {
  const pa = VERSION_RE.exec(a)
  const pb = VERSION_RE.exec(b)
  if (pa === null || pb === null) {
    throw new AppError('E_ARGS', `Cannot compare versions "${a}" and "${b}": expected x.y.z.`)
  }
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i])
    if (d !== 0) return Math.sign(d)
  }
  const ra = pa[4]
  const rb = pb[4]
  if (ra === rb) return 0
  if (ra === undefined) return 1
  if (rb === undefined) return -1
  return ra < rb ? -1 : 1
}

/**
 * Refuses a card that needs a newer VolSeg than `appVersion`.
 *
 * @throws AppError `E_MODEL` ("needs VolSeg ≥ x").
 */
export function checkAppVersion(card: ModelCard, appVersion: string, file: string): void {
  if (compareVersions(card.minAppVersion, appVersion) > 0) {
    throw new AppError(
      'E_MODEL',
      `Model "${card.id}" needs VolSeg ≥ ${card.minAppVersion}, but this is VolSeg ${appVersion}: update VolSeg to use it.`,
      { file },
    )
  }
}

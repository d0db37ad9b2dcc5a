/**
 * `volseg models import nnunet|monai`: a card from the model's own configuration (the importers in
 * `src/inference/importers/`), the ONNX file's sha256, the card checked against the graph, then
 * the pack installed atomically into the user's model folder (`addModelPack`: staged in a temp
 * folder, validated again, renamed into place; an installed id is never replaced).
 */
import { createHash } from 'node:crypto'
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { AppError } from '../shared/errors.js'
import type { ModelCard } from '../shared/model-card.js'
import type { ModelListEntry } from '../shared/jobs.js'
import { checkCardAgainstGraph } from '../inference/card/check-card-against-graph.js'
import { readGraphIO } from '../inference/graph/onnx-model.js'
import { cardFromMonaiBundle } from '../inference/importers/monai.js'
import { cardFromNnunet } from '../inference/importers/nnunet.js'
import { addModelPack } from '../inference/ort/model-store.js'

export interface ImportModelOptions {
  readonly format: 'nnunet' | 'monai'
  /** nnU-Net: a results (trainer) folder, or plans.json and dataset.json. MONAI: the bundle folder. */
  readonly paths: readonly string[]
  /** The ONNX graph (MONAI default: `<bundle>/models/model.onnx`). */
  readonly onnx?: string
  readonly configuration?: string
  readonly fold?: string
  readonly id?: string
  readonly licence?: string
  readonly intendedUse?: string
  /** MONAI overrides (what an error may ask for): `--spacing`, `--orientation`, `--normalisation`, `--patch`, `--modality`, `--label-names`. */
  readonly spacing?: string
  readonly orientation?: string
  readonly normalisation?: string
  readonly patch?: string
  readonly modality?: string
  readonly labelNames?: string
}

/** Importer option → the command-line flag that sets it. */
const FLAG_OF: Readonly<Record<string, string>> = {
  spacingMm: '--spacing',
  orientation: '--orientation',
  normalisation: '--normalisation',
  patchSize: '--patch',
  licence: '--licence',
  intendedUse: '--intended-use',
  modality: '--modality',
  labelNames: '--label-names',
}

/** The importer's "pass X" advice in flags the user can type. */
function withFlags(e: unknown): unknown {
  if (!(e instanceof AppError)) return e
  const msg = e.message.replace(
    /pass ([^.;]+)/g,
    (all, what: string) =>
      `pass ${what.replace(/\b(spacingMm|orientation|normalisation|patchSize|licence|intendedUse|modality|labelNames)\b/g, (w) => FLAG_OF[w] ?? w)}`,
  )
  return new AppError(e.code, msg, e.file === undefined ? {} : { file: e.file })
}

function triple(flag: string, v: string): [number, number, number] {
  const n = v.split(',').map(Number)
  if (n.length !== 3 || !n.every((x) => Number.isFinite(x) && x > 0)) {
    throw new AppError('E_ARGS', `${flag} must be three positive numbers a,b,c (got "${v}")`)
  }
  return n as [number, number, number]
}

function monaiOverrides(o: ImportModelOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (o.spacing !== undefined) {
    out.spacingMm = o.spacing === 'none' ? null : triple('--spacing', o.spacing)
  }
  if (o.orientation !== undefined) out.orientation = o.orientation
  if (o.patch !== undefined) out.patchSize = triple('--patch', o.patch)
  if (o.modality !== undefined) out.modality = o.modality
  if (o.labelNames !== undefined) out.labelNames = o.labelNames.split(',').map((s) => s.trim())
  if (o.normalisation !== undefined) {
    try {
      out.normalisation = JSON.parse(o.normalisation) as unknown
    } catch {
      throw new AppError(
        'E_ARGS',
        '--normalisation must be the card\'s JSON, e.g. \'{"kind":"zscore","foregroundOnly":false}\'',
      )
    }
  }
  return out
}

const isFile = (p: string): Promise<boolean> =>
  stat(p).then(
    (s) => s.isFile(),
    () => false,
  )
const isDir = (p: string): Promise<boolean> =>
  stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  )

/** A config file as JSON or YAML (by extension); `E_BAD_HEADER` naming the file. */
async function readConfig(path: string): Promise<unknown> {
  let text
  try {
    text = await readFile(path, 'utf8')
  } catch {
    throw new AppError('E_NOT_FOUND', 'no such file', { file: path })
  }
  try {
    return /\.ya?ml$/i.test(path) ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown)
  } catch (e) {
    throw new AppError(
      'E_BAD_HEADER',
      `not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message}`,
      {
        file: path,
      },
    )
  }
}

/** A pack id from a name: lower case, `[a-z0-9._-]`, starting with a letter or digit. */
export function packIdFrom(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
  return id.length > 0 ? id.slice(0, 64) : 'imported'
}

/**
 * The nnU-Net trainer folder's files: `plans.json`, `dataset.json` and (when there) the fold's
 * `validation/summary.json`. A dataset folder holding several trainer folders
 * (`<trainer>__<plans>__<configuration>`) is narrowed by the configuration.
 */
async function nnunetFiles(
  paths: readonly string[],
  configuration: string,
  fold: string | undefined,
): Promise<{ plans: string; dataset: string; summary?: string; fold?: string }> {
  if (paths.length === 2) return { plans: resolve(paths[0]!), dataset: resolve(paths[1]!) }
  if (paths.length !== 1) {
    throw new AppError(
      'E_ARGS',
      'models import nnunet needs a results folder, or plans.json and dataset.json',
    )
  }
  let dir = resolve(paths[0]!)
  if (!(await isFile(join(dir, 'plans.json')))) {
    const subs = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
      n.endsWith(`__${configuration}`),
    )
    if (subs.length !== 1) {
      throw new AppError(
        'E_NOT_FOUND',
        subs.length === 0
          ? `no plans.json here, nor a trainer folder ending in __${configuration}`
          : `several trainer folders for ${configuration} (${subs.join(', ')}); name one`,
        { file: dir },
      )
    }
    dir = join(dir, subs[0]!)
  }
  const folds = (await readdir(dir)).filter((n) => /^fold_(\d+|all)$/.test(n)).sort()
  const f = fold ?? (folds.includes('fold_all') ? 'all' : folds[0]?.slice(5))
  const summary = f === undefined ? undefined : join(dir, `fold_${f}`, 'validation', 'summary.json')
  return {
    plans: join(dir, 'plans.json'),
    dataset: join(dir, 'dataset.json'),
    ...(summary !== undefined && (await isFile(summary)) ? { summary, fold: f } : {}),
  }
}

async function sha256(path: string): Promise<{ sha: string; bytes: Uint8Array }> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch {
    throw new AppError('E_NOT_FOUND', 'no such ONNX file', { file: path })
  }
  return { sha: createHash('sha256').update(bytes).digest('hex'), bytes }
}

async function nnunetCard(o: ImportModelOptions): Promise<{ card: ModelCard; onnx: string }> {
  const configuration = o.configuration ?? '3d_fullres'
  const files = await nnunetFiles(o.paths, configuration, o.fold)
  if (o.onnx === undefined) {
    throw new AppError('E_ARGS', 'models import nnunet needs --onnx model.onnx')
  }
  const onnx = resolve(o.onnx)
  const { sha } = await sha256(onnx)
  const [plans, dataset] = [await readConfig(files.plans), await readConfig(files.dataset)]
  const d = dataset as Record<string, unknown>
  const p = plans as Record<string, unknown>
  const licence =
    o.licence ??
    (typeof d.licence === 'string'
      ? d.licence
      : typeof d.license === 'string'
        ? d.license
        : undefined)
  if (licence === undefined) {
    throw new AppError(
      'E_ARGS',
      'dataset.json names no licence; pass --licence (e.g. CC-BY-SA-4.0)',
      {
        file: files.dataset,
      },
    )
  }
  const name = typeof p.dataset_name === 'string' ? p.dataset_name : basename(resolve(o.paths[0]!))
  const fold =
    files.fold === undefined
      ? undefined
      : files.fold === 'all'
        ? ('all' as const)
        : Number(files.fold)
  const card = cardFromNnunet({
    plans,
    dataset,
    configuration,
    onnxSha256: sha,
    id: o.id ?? packIdFrom(`${name}-${configuration}`),
    licence,
    intendedUse:
      o.intendedUse ?? 'Research use only (imported nnU-Net model); not for clinical diagnosis',
    file: files.plans,
    ...(files.summary === undefined ? {} : { summary: await readConfig(files.summary) }),
    ...(fold === undefined ? {} : { fold }),
  })
  return { card, onnx }
}

async function monaiCard(o: ImportModelOptions): Promise<{ card: ModelCard; onnx: string }> {
  if (o.paths.length !== 1) {
    throw new AppError('E_ARGS', 'models import monai needs one bundle folder')
  }
  const dir = resolve(o.paths[0]!)
  if (!(await isDir(dir))) throw new AppError('E_NOT_FOUND', 'no such bundle folder', { file: dir })
  const configs = join(dir, 'configs')
  const pick = async (stem: string): Promise<string | undefined> => {
    for (const ext of ['.json', '.yaml', '.yml']) {
      if (await isFile(join(configs, stem + ext))) return join(configs, stem + ext)
    }
    return undefined
  }
  const metaPath = await pick('metadata')
  if (metaPath === undefined) {
    throw new AppError('E_NOT_FOUND', 'not a MONAI bundle: no configs/metadata.json', { file: dir })
  }
  const infPath = await pick('inference')
  const onnx = resolve(o.onnx ?? join(dir, 'models', 'model.onnx'))
  const { sha } = await sha256(onnx)
  const metadata = await readConfig(metaPath)
  const m = metadata as Record<string, unknown>
  const card = cardFromMonaiBundle({
    metadata,
    ...(infPath === undefined ? {} : { inference: await readConfig(infPath) }),
    onnxSha256: sha,
    id: o.id ?? packIdFrom(typeof m.name === 'string' ? m.name : basename(dir)),
    ...(o.licence === undefined ? {} : { licence: o.licence }),
    ...(o.intendedUse === undefined ? {} : { intendedUse: o.intendedUse }),
    ...monaiOverrides(o),
    file: infPath ?? metaPath,
  })
  return { card, onnx }
}

/** Builds, checks and installs the pack; resolves to the installed entry. */
export async function importModelPack(o: ImportModelOptions): Promise<ModelListEntry> {
  const { card, onnx } = await (o.format === 'nnunet' ? nnunetCard(o) : monaiCard(o)).catch(
    (e: unknown) => {
      throw withFlags(e)
    },
  )
  const { bytes } = await sha256(onnx)
  checkCardAgainstGraph(card, readGraphIO(bytes), onnx)
  const staging = await mkdtemp(join(tmpdir(), 'volseg-import-'))
  try {
    await cp(onnx, join(staging, 'model.onnx'))
    await writeFile(join(staging, 'model.json'), `${JSON.stringify(card, null, 2)}\n`)
    const s = await addModelPack(staging)
    return { id: s.id, dir: s.dir, onnxBytes: s.onnxBytes, card: s.card }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

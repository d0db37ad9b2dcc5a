/**
 * Model packs on disk: `<dir>/<id>/model.onnx` + `model.json`. Packs come from the app's bundled
 * `models/` folder, the user's model folder (`volseg models add`), `VOLSEG_MODELS` (a
 * path-delimited list of folders holding packs), or a pack folder given by path.
 * Every load checks the card, the ONNX file's sha256, and the app version.
 */
import { createHash } from 'node:crypto'
import { cp, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError, toAppError } from '../../shared/errors.js'
import type { ModelCard } from '../../shared/model-card.js'
import { checkAppVersion, parseModelCard } from '../../shared/parse-model-card.js'

const APP_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

let versionRead: Promise<string> | undefined

/** The app's version (package.json, read once per process), for the card's `minAppVersion`. */
export function appVersion(): Promise<string> {
  versionRead ??= readFile(join(APP_ROOT, 'package.json'), 'utf8').then(
    (text) => (JSON.parse(text) as { version: string }).version,
  )
  return versionRead
}

/** Where `volseg models add` installs packs: `$VOLSEG_HOME/models` or `~/.volseg/models`. */
export function userModelDir(): string {
  return join(process.env.VOLSEG_HOME ?? join(homedir(), '.volseg'), 'models')
}

/** Folders searched for packs, in priority order. */
export function modelDirs(): string[] {
  const extra = (process.env.VOLSEG_MODELS ?? '').split(delimiter).filter((p) => p.length > 0)
  return [...extra.map((p) => resolve(p)), userModelDir(), join(APP_ROOT, 'models')]
}

export interface PackSummary {
  readonly id: string
  readonly dir: string
  readonly card: ModelCard
  readonly onnxBytes: number
}

export interface LoadedPack extends PackSummary {
  readonly bytes: Uint8Array
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory()
  } catch {
    return false
  }
}

/** Reads and validates the card of the pack in `dir` (no sha256 check: that needs the bytes). */
export async function readPackCard(dir: string): Promise<ModelCard> {
  const cardPath = join(dir, 'model.json')
  let text: string
  try {
    text = await readFile(cardPath, 'utf8')
  } catch {
    throw new AppError('E_MODEL', 'this folder is not a model pack (no model.json)', { file: dir })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new AppError('E_MODEL', `model.json is not valid JSON (${(e as Error).message})`, {
      file: cardPath,
    })
  }
  const card = parseModelCard(json, cardPath)
  checkAppVersion(card, await appVersion(), cardPath)
  return card
}

/** Loads a pack folder: card, ONNX bytes, sha256 check. */
export async function loadPackFromDir(dir: string): Promise<LoadedPack> {
  const card = await readPackCard(dir)
  const onnxPath = join(dir, 'model.onnx')
  let bytes: Uint8Array
  try {
    bytes = await readFile(onnxPath)
  } catch {
    throw new AppError('E_MODEL', 'the pack has no model.onnx', { file: dir })
  }
  const sha = createHash('sha256').update(bytes).digest('hex')
  if (sha !== card.sha256) {
    throw new AppError(
      'E_MODEL',
      `model.onnx does not match its card (sha256 ${sha.slice(0, 12)}…, card says ${card.sha256.slice(0, 12)}…); the file was changed or replaced`,
      { file: onnxPath },
    )
  }
  return { id: card.id, dir, card, onnxBytes: bytes.length, bytes }
}

/** Lists the packs in every model folder; broken packs are reported, not fatal. */
export async function listModelPacks(
  dirs: readonly string[] = modelDirs(),
): Promise<{ packs: PackSummary[]; problems: { dir: string; message: string }[] }> {
  const packs: PackSummary[] = []
  const problems: { dir: string; message: string }[] = []
  const seen = new Set<string>()
  for (const root of dirs) {
    if (!(await isDir(root))) continue
    for (const name of (await readdir(root)).sort()) {
      const dir = join(root, name)
      if (!(await isDir(dir))) continue
      // Not a pack at all (models/training, architectures, export: recipes and scripts); a
      // folder with either file is one, and is reported when broken.
      const has = async (f: string): Promise<boolean> =>
        stat(join(dir, f)).then(
          () => true,
          () => false,
        )
      if (!(await has('model.json')) && !(await has('model.onnx'))) continue
      try {
        const card = await readPackCard(dir)
        if (card.id !== name) {
          throw new AppError('E_MODEL', `the card's id "${card.id}" differs from the folder name`, {
            file: dir,
          })
        }
        if (seen.has(card.id)) continue // an earlier folder wins (user packs shadow bundled ones)
        seen.add(card.id)
        packs.push({
          id: card.id,
          dir,
          card,
          onnxBytes: (await stat(join(dir, 'model.onnx'))).size,
        })
      } catch (e) {
        problems.push({ dir, message: toAppError(e, 'E_MODEL').message })
      }
    }
  }
  return { packs, problems }
}

/** Resolves `--model`: a pack folder path, or an installed id (default `brain-extract`). */
export async function loadModelPack(
  idOrPath: string,
  dirs: readonly string[] = modelDirs(),
): Promise<LoadedPack> {
  if (idOrPath.includes('/') || idOrPath.includes('\\') || (await isDir(idOrPath))) {
    return loadPackFromDir(resolve(idOrPath))
  }
  for (const root of dirs) {
    const dir = join(root, idOrPath)
    if (await isDir(dir)) return loadPackFromDir(dir)
  }
  const { packs } = await listModelPacks(dirs)
  const known =
    packs.length > 0 ? `installed: ${packs.map((p) => p.id).join(', ')}` : 'none installed'
  throw new AppError('E_MODEL', `no model pack "${idOrPath}" (${known})`)
}

/**
 * Installs the pack in `dir` into the user's model folder (validated first, copied to a temp
 * folder, then renamed into place). Refuses to replace an installed pack of the same id.
 */
export async function addModelPack(dir: string): Promise<PackSummary> {
  const pack = await loadPackFromDir(resolve(dir))
  const root = userModelDir()
  await mkdir(root, { recursive: true })
  const target = join(root, pack.id)
  if (await isDir(target)) {
    throw new AppError('E_MODEL', `a pack "${pack.id}" is already installed at ${target}`, {
      file: dir,
    })
  }
  const temp = join(root, `.${pack.id}.tmp-${process.pid}`)
  await rm(temp, { recursive: true, force: true })
  await mkdir(temp)
  for (const f of ['model.onnx', 'model.json']) await cp(join(pack.dir, f), join(temp, f))
  await loadPackFromDir(temp).catch(async (e: unknown) => {
    await rm(temp, { recursive: true, force: true })
    throw e
  })
  await rename(temp, target)
  return { id: pack.id, dir: target, card: pack.card, onnxBytes: pack.onnxBytes }
}

export const DEFAULT_MODEL = 'brain-extract'

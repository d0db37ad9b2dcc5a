/**
 * Before a segmentation run starts: every output (masks, uncertainty maps, the batch report) is
 * checked against every input of the run (any case's; every file of a DICOM folder), against
 * existing files (refused unless overwriting; a batch's existing masks are resumed, i.e. skipped),
 * and for a place it can be written. Any problem refuses the whole run with one sentence, before
 * anything is written or the model is loaded.
 */
import { constants } from 'node:fs'
import { access, open, readdir, rm, stat } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { dirname, join, resolve } from 'node:path'
import { AppError } from '../shared/errors.js'
import { findOutputAlias, type FileRecord } from '../shared/output-aliases.js'

export interface PlannedCase {
  readonly input: readonly string[]
  readonly output: string
  readonly uncertaintyOutput?: string
}

export interface OutputPlan {
  readonly cases: readonly PlannedCase[]
  /** Files rewritten on every run (the batch report); checked for aliasing and place only. */
  readonly reports?: readonly string[]
  readonly overwrite: boolean
  /** A batch resumes: an existing mask means the case is done and skipped, untouched. */
  readonly batch: boolean
}

/** The output's identity, and whether it is a folder (one stat per output). */
async function record(path: string): Promise<FileRecord & { readonly isFolder: boolean }> {
  const p = resolve(path)
  try {
    const s = await stat(p)
    return { path: p, dev: s.dev, ino: s.ino, isFolder: s.isDirectory() }
  } catch {
    return { path: p, isFolder: false }
  }
}

/** The input paths and, for a folder (DICOM), every file below it. */
async function inputRecords(inputs: readonly string[]): Promise<FileRecord[]> {
  const out: FileRecord[] = []
  const walk = async (p: string): Promise<void> => {
    const s = await stat(p).catch(() => undefined)
    if (s === undefined) return
    if (!s.isDirectory()) {
      out.push({ path: p, dev: s.dev, ino: s.ino })
      return
    }
    for (const n of (await readdir(p)).sort()) await walk(join(p, n))
  }
  for (const i of inputs) await walk(resolve(i))
  return out
}

/** An OS error code as words a user can act on. */
function reasonInWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EROFS':
      return 'the file system is read-only'
    case 'ENOSPC':
      return 'no space is left on the device'
    case 'EDQUOT':
      return 'the disk quota is used up'
    case 'ENOENT':
      return 'this file system does not accept new files'
    case 'ENOTDIR':
      return 'part of the path is a file, not a folder'
    default:
      return `the system refused${code === undefined ? '' : ` (${code})`}`
  }
}

/** Throws unless `folder` (an existing directory) accepts new files: W_OK and a real probe. */
async function assertWritableFolder(folder: string, forPath: string): Promise<void> {
  try {
    await access(folder, constants.W_OK)
  } catch (e) {
    throw new AppError(
      'E_WRITE',
      `cannot write ${forPath}: the folder ${folder} is not writable (${reasonInWords(e)})`,
    )
  }
  // access() can say yes where creating fails (/proc, read-only mounts seen as root).
  const probe = join(folder, `.volseg-probe-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    const fh = await open(probe, 'wx')
    await fh.close()
  } catch (e) {
    throw new AppError(
      'E_WRITE',
      `cannot write ${forPath}: new files cannot be created in the folder ${folder} (${reasonInWords(e)})`,
    )
  }
  await rm(probe, { force: true })
}

/**
 * Throws unless `path` (not a folder: checked by the caller) can be written as a file: its folder
 * exists or can be created, and accepts new files.
 */
async function assertWritablePlace(
  path: string,
  checked: Map<string, Promise<void>>,
): Promise<void> {
  // The nearest existing ancestor: it must be a folder, and the missing ones are created in it.
  let folder = dirname(path)
  for (;;) {
    const s = await stat(folder).catch((e: NodeJS.ErrnoException) => e)
    if (!(s instanceof Error)) {
      if (!s.isDirectory()) {
        throw new AppError('E_WRITE', `cannot write ${path}: ${folder} is a file, not a folder`)
      }
      break
    }
    if (s.code !== 'ENOENT' || dirname(folder) === folder) {
      throw new AppError(
        'E_WRITE',
        `cannot write ${path}: ${folder} cannot be read (${reasonInWords(s)})`,
      )
    }
    folder = dirname(folder)
  }
  let probe = checked.get(folder)
  if (probe === undefined) {
    probe = assertWritableFolder(folder, path)
    checked.set(folder, probe)
  }
  await probe
}

/**
 * Refuses the run (throws `E_WRITE`; `E_ARGS` for two outputs on one file) when any output
 * aliases an input or another output, exists without `overwrite` (a batch's existing masks
 * excepted: those cases are skipped), or cannot be written. Leaves nothing behind.
 */
export async function checkRunOutputs(plan: OutputPlan): Promise<void> {
  const inputs = await inputRecords(plan.cases.flatMap((c) => c.input))
  const outPaths = [
    ...plan.cases.flatMap((c) => [c.output, ...(c.uncertaintyOutput ? [c.uncertaintyOutput] : [])]),
    ...(plan.reports ?? []),
  ]
  const outputs = await Promise.all(outPaths.map(record))
  const alias = findOutputAlias(outputs, inputs)
  if (alias?.kind === 'input') {
    const what =
      alias.output === alias.other
        ? `the output ${alias.output} is one of the inputs`
        : `the output ${alias.output} is the same file as the input ${alias.other}`
    throw new AppError('E_WRITE', `refusing to overwrite an input: ${what}`)
  }
  if (alias?.kind === 'output') {
    const what =
      alias.output === alias.other
        ? `${alias.output} would be written twice`
        : `${alias.other} and ${alias.output} are the same file`
    throw new AppError('E_ARGS', `two outputs of this run collide: ${what}`)
  }
  // A folder where a file should go is named as such, not as "exists".
  const folder = outputs.find((o) => o.isFolder)
  if (folder !== undefined) {
    throw new AppError('E_WRITE', `cannot write ${folder.path}: it is a folder, not a file`)
  }
  const exists = (p: string): boolean =>
    outputs.some((o) => o.path === resolve(p) && o.ino !== undefined)
  const toWrite: string[] = []
  for (const c of plan.cases) {
    if (!plan.overwrite && exists(c.output)) {
      if (plan.batch) continue // resumed: done before, skipped untouched
      throw new AppError('E_WRITE', `${c.output} exists; pass --overwrite to replace it`)
    }
    if (c.uncertaintyOutput !== undefined && !plan.overwrite && exists(c.uncertaintyOutput)) {
      throw new AppError(
        'E_WRITE',
        `${c.uncertaintyOutput} exists; pass --overwrite to replace it (or remove it)`,
      )
    }
    toWrite.push(c.output, ...(c.uncertaintyOutput ? [c.uncertaintyOutput] : []))
  }
  const checked = new Map<string, Promise<void>>()
  for (const p of [...toWrite, ...(plan.reports ?? [])]) {
    await assertWritablePlace(resolve(p), checked)
  }
}

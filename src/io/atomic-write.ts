/**
 * Atomic file writes: write a temp file in the target folder, fsync, optionally verify it,
 * publish it under the target name, fsync the folder. A reader never sees a half-written file,
 * and a failed verification leaves the target untouched.
 *
 * Publishing either replaces the target (`rename`), or, with `noReplace`, never does: the temp
 * file is hard-linked to the target name (`link` fails with EEXIST when the name is taken, in the
 * same system call that would claim it) and then unlinked, and a taken name moves on to the
 * caller's next alternative. Temp names are short, fixed-length and carry the writer's pid
 * (`tempFileName`), so a crash's leftovers can be swept on the next start.
 */
import { rmSync } from 'node:fs'
import { link, open, rename, rm, realpath, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { AppError } from '../shared/errors.js'
import { tempFileName } from '../shared/file-names.js'

export interface AtomicWriteOptions {
  /** Paths that must never be overwritten (the inputs of this result). */
  readonly protect?: readonly string[]
  /** Called with the fsynced temp file before it replaces the target; throw to abort. */
  readonly verify?: (tempPath: string) => Promise<void>
  /**
   * Never replace an existing file: when the target name is taken (even by a file created after
   * any check the caller made), try `alternative(1)`, `alternative(2)`, ... until one is free or
   * it returns undefined; then throw `E_WRITE` with `details.taken: true`.
   */
  readonly noReplace?: boolean
  /** The n-th (n ≥ 1) other target to try when the previous one is taken (with `noReplace`). */
  readonly alternative?: (n: number) => string | undefined
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)])
    return sa.dev === sb.dev && sa.ino === sb.ino
  } catch {
    return resolve(a) === resolve(b)
  }
}

/** Throws `E_WRITE` when `target` is (or links to) one of `protect`. */
export async function refuseOverwrite(target: string, protect: readonly string[]): Promise<void> {
  for (const p of protect) {
    if (await sameFile(target, p)) {
      throw new AppError('E_WRITE', `refusing to overwrite an input file (${p})`, { file: target })
    }
  }
}

let publishGuard: (() => void) | undefined
const liveTemps = new Set<string>()

/**
 * Sets a process-wide check run before a write starts and again just before its rename: it
 * throws to stop the write (a job worker whose parent died must publish nothing).
 */
export function setPublishGuard(guard: (() => void) | undefined): void {
  publishGuard = guard
}

/** Removes the temp files of writes still in progress (for a process about to exit). */
export function removeTempFilesSync(): void {
  for (const t of liveTemps) rmSync(t, { force: true })
  liveTemps.clear()
}

/** A temp file name for `dir`, fixed-length, carrying this process's pid. */
export function tempPathIn(dir: string, kind: 'tmp' | 'bak' = 'tmp'): string {
  return join(dir, tempFileName(process.pid, randomBytes(4).toString('hex'), kind))
}

/**
 * Writes `data` to `target` atomically (see the module comment); resolves to the path written,
 * which differs from `target` only with `noReplace` and a taken name.
 */
export async function writeFileAtomic(
  target: string,
  data: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<string> {
  publishGuard?.()
  await refuseOverwrite(target, options.protect ?? [])
  let dir: string
  try {
    dir = await realpath(dirname(resolve(target)))
  } catch {
    throw new AppError('E_WRITE', `the folder ${dirname(resolve(target))} does not exist`, {
      file: target,
    })
  }
  const temp = tempPathIn(dir)
  let written = target
  liveTemps.add(temp)
  try {
    const fh = await open(temp, 'wx', 0o644)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await options.verify?.(temp)
    publishGuard?.()
    if (options.noReplace) {
      const name = await publishNoReplace(temp, join(dir, basename(target)), options, target)
      written = join(dirname(target), name)
    } else await renameWithRetry(temp, join(dir, basename(target)))
  } catch (e) {
    // The cleanup's own failure must never hide the error that made it necessary.
    await rm(temp, { force: true }).catch(() => undefined)
    if (e instanceof AppError) throw e
    throw new AppError('E_WRITE', (e as Error).message, { file: target, cause: e })
  } finally {
    liveTemps.delete(temp)
  }
  // Persist the rename itself (not supported for folders on Windows).
  if (process.platform !== 'win32') {
    const dh = await open(dir, 'r')
    try {
      await dh.sync()
    } finally {
      await dh.close()
    }
  }
  return written
}

/** `link` errors meaning "this file system has no hard links" (FAT, exFAT, some network mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS', 'EMLINK'])

/**
 * Publishes `temp` under `first` or the next free alternative without replacing anything;
 * returns the file name used. The temp file is gone afterwards (published or not: the caller removes
 * it on a throw).
 */
async function publishNoReplace(
  temp: string,
  first: string,
  o: AtomicWriteOptions,
  target: string,
): Promise<string> {
  const dir = dirname(first)
  for (let n = 0; ; n++) {
    const name = n === 0 ? first : o.alternative?.(n)
    if (name === undefined) {
      throw new AppError(
        'E_WRITE',
        n === 1
          ? `${basename(first)} exists (it appeared while this file was being written); it was not replaced`
          : `no free file name: ${basename(first)} and its numbered alternatives exist`,
        { file: target, details: { taken: true } },
      )
    }
    if (await claim(temp, join(dir, basename(name)))) return basename(name)
  }
}

/** Publishes `temp` as `path` unless `path` exists: true when it did, false when taken. */
async function claim(temp: string, path: string): Promise<boolean> {
  try {
    await link(temp, path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return false
    if (code === undefined || !NO_HARD_LINKS.has(code)) throw e
    return claimWithoutLinks(temp, path)
  }
  await unlink(temp).catch(() => undefined) // a leftover is swept on the next start
  return true
}

/**
 * Publishes `temp` as `path` unless `path` exists (true when it did), on a file system without
 * hard links: an exclusive create of `path` (O_EXCL, which every file system honours)
 * claims the name, then the temp file is renamed over that empty placeholder. Chosen over a
 * plain `rename` (whose window is everything since the caller's free-name check) because the
 * claim itself is atomic: another writer using O_EXCL or `link` (every VolSeg writer) can never
 * lose its file. What remains, for the microseconds between claim and rename: a reader sees an
 * empty file under the name (never a partial one); a tool that renames over names without looking
 * would lose its file to ours; a crash then leaves the empty file (it reads as E_EMPTY, not as a
 * mask).
 */
export async function claimWithoutLinks(temp: string, path: string): Promise<boolean> {
  let placeholder
  try {
    placeholder = await open(path, 'wx', 0o644)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  }
  await placeholder.close()
  try {
    await renameWithRetry(temp, path)
  } catch (e) {
    await rm(path, { force: true })
    throw e
  }
  return true
}

/** Windows briefly locks files (antivirus, indexer): retry EPERM/EACCES/EBUSY (write-file-atomic #28). */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(from, to)
      return
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (attempt >= 5 || !(code === 'EPERM' || code === 'EACCES' || code === 'EBUSY')) throw e
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt))
    }
  }
}

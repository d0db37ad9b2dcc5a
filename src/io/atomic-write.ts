/**
 * Atomic file replacement: write a temp file in the target folder, fsync, optionally verify it,
 * rename over the target, fsync the folder. A reader never sees a half-written file, and a
 * failed verification leaves the target untouched.
 */
import { rmSync } from 'node:fs'
import { open, rename, rm, realpath, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import { AppError } from '../shared/errors.js'

export interface AtomicWriteOptions {
  /** Paths that must never be overwritten (the inputs of this result). */
  readonly protect?: readonly string[]
  /** Called with the fsynced temp file before it replaces the target; throw to abort. */
  readonly verify?: (tempPath: string) => Promise<void>
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

export async function writeFileAtomic(
  target: string,
  data: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
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
  const temp = join(
    dir,
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  )
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
    await renameWithRetry(temp, join(dir, basename(target)))
  } catch (e) {
    await rm(temp, { force: true })
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

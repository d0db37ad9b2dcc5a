/**
 * Removes what a crashed VolSeg left behind, on the next start: hidden temp files in `--out`
 * (`.volseg-<pid>-<hex>.tmp|.bak`, named by `tempFileName`) and folders of dropped files in the
 * OS temporary folder (`volseg-uploads-<pid>-<random>`). Only names that VolSeg alone creates are
 * touched, and only when their writer is gone (its pid is not alive) or they are over a day old,
 * so a second server running on the same folders keeps its files. Never throws.
 */
import { lstat, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tempFileOwner } from '../shared/file-names.js'
import { UPLOAD_DIR_PREFIX } from './uploads.js'

/** Leftovers older than this are removed even when a process with their pid is alive (reused). */
export const LEFTOVER_MAX_AGE_MS = 24 * 3600_000

const UPLOAD_DIR = new RegExp(`^${UPLOAD_DIR_PREFIX}(\\d+)-[A-Za-z0-9]{6}$`)
/** The folder name of versions before the pid was part of it: removed only when old. */
const OLD_UPLOAD_DIR = new RegExp(`^${UPLOAD_DIR_PREFIX}[A-Za-z0-9]{6}$`)

/** True unless `pid` is surely gone (`kill(pid, 0)` says ESRCH); our own pid counts as alive. */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH' // EPERM: alive, another user's
  }
}

/** What was removed, for logs and tests. */
export interface SweepReport {
  readonly removed: readonly string[]
}

/** Entries of `dir` matching `owner` (a pid, `null` for "age only"), removed when stale. */
async function sweep(
  dir: string,
  owner: (name: string) => number | null | undefined,
  want: 'file' | 'dir',
  now: number,
): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const uid = process.getuid?.()
  const removed: string[] = []
  for (const name of names) {
    const pid = owner(name)
    if (pid === undefined) continue
    const path = join(dir, name)
    try {
      const s = await lstat(path) // a link is never followed, nor removed
      if (want === 'file' ? !s.isFile() : !s.isDirectory()) continue
      if (uid !== undefined && s.uid !== uid) continue // another user's
      const old = now - s.mtimeMs > LEFTOVER_MAX_AGE_MS
      if (!old && (pid === null || pidAlive(pid))) continue
      await rm(path, { recursive: want === 'dir', force: true })
      removed.push(path)
    } catch {
      // Gone meanwhile, or not ours to remove: leave it.
    }
  }
  return removed
}

/**
 * Sweeps `outDir` (temp files of atomic writes) and `uploadParent` (upload folders; default the
 * OS temporary folder). Run once when a service starts.
 */
export async function sweepLeftovers(o: {
  readonly outDir: string
  readonly uploadParent?: string
  readonly now?: number
}): Promise<SweepReport> {
  const now = o.now ?? Date.now()
  const temps = await sweep(o.outDir, tempFileOwner, 'file', now)
  const uploads = await sweep(
    o.uploadParent ?? tmpdir(),
    (name) => {
      const m = UPLOAD_DIR.exec(name)
      if (m) return Number(m[1])
      return OLD_UPLOAD_DIR.test(name) ? null : undefined
    },
    'dir',
    now,
  )
  // Voxel handoff files of `open` workers (src/jobs/voxel-handoff.ts) whose server died.
  const handoffs: string[] = []
  for (const dir of new Set(['/dev/shm', o.uploadParent ?? tmpdir()])) {
    handoffs.push(...(await sweep(dir, tempFileOwner, 'file', now)))
  }
  return { removed: [...temps, ...uploads, ...handoffs] }
}

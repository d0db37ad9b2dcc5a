/**
 * The crash-recovery prompt on start (architecture.md §5 item 5). Before the service opens the
 * recovery folder (and writes this run's marker), main looks for backups that a run which did not
 * close cleanly left (`src/service/backups.ts`: `run-<pid>-<hex>.lock` markers of dead processes,
 * `<key>.json` sidecars naming their run). The prompt names the images; the viewer then offers
 * each backup when its image is opened again (`findBackup`/`restoreBackup`).
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { MessageBoxOptions } from 'electron'

/** One backup left by a crashed run. */
export interface CrashedBackup {
  /** The source ref the viewer used (a grant ref in the desktop app). */
  readonly source: string
  readonly sourceName: string
  readonly savedAt: string
}

const MARKER = /^run-(\d+)-([0-9a-f]{8})\.lock$/
const SIDECAR = /^[0-9a-f]{32}\.json$/

/** True when process `pid` exists (EPERM: it exists, owned by another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Backups in `dir` whose run left a marker and is gone; [] when the folder is missing. */
export async function findCrashedBackups(
  dir: string,
  isAlive: (pid: number) => boolean = alive,
): Promise<CrashedBackup[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const crashed = new Set<string>()
  for (const n of names) {
    const m = MARKER.exec(n)
    if (m && !isAlive(Number(m[1]))) crashed.add(`${m[1]}-${m[2]}`)
  }
  if (crashed.size === 0) return []
  const out: CrashedBackup[] = []
  for (const n of names.filter((x) => SIDECAR.test(x)).sort()) {
    try {
      const p = join(dir, n)
      if ((await stat(p)).size > 16 * 2 ** 20) continue
      const f = JSON.parse(await readFile(p, 'utf8')) as Record<string, unknown>
      if (f.format !== 'volseg-backup' || typeof f.runId !== 'string') continue
      if (!crashed.has(f.runId) || typeof f.source !== 'string') continue
      out.push({
        source: f.source,
        sourceName: typeof f.sourceName === 'string' ? f.sourceName : f.source,
        savedAt: typeof f.savedAt === 'string' ? f.savedAt : '',
      })
    } catch {
      // unreadable sidecar: the service's own sweep deals with it
    }
  }
  return out
}

/** Buttons of the prompt. */
export const RECOVERY_BUTTONS = ['Reopen Them', 'Later'] as const

/** The prompt naming what was kept (at most 10 names, then a count). */
export function recoveryBox(found: readonly CrashedBackup[]): MessageBoxOptions {
  const names = found.slice(0, 10).map((b) => `• ${b.sourceName}`)
  if (found.length > 10) names.push(`… and ${found.length - 10} more`)
  return {
    type: 'question',
    buttons: [...RECOVERY_BUTTONS],
    defaultId: 0,
    cancelId: 1,
    noLink: true,
    title: 'Recover unsaved edits',
    message: 'VolSeg did not close cleanly last time.',
    detail: `Unsaved edits were kept for:\n${names.join('\n')}\n\nReopen those images to restore their edits, or open them later: the edits stay offered until you save or discard them.`,
  }
}

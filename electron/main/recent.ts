/**
 * Recently opened files and folders (File → Open Recent), kept as JSON in the app's user-data
 * folder; paths the user chose in a dialog before, so reopening one grants it again.
 */
import { readFile, writeFile, rename } from 'node:fs/promises'
import { basename } from 'node:path'
import type { GrantKind } from './grants.js'

/** Most entries kept. */
export const MAX_RECENT = 10

/** One entry. */
export interface RecentEntry {
  readonly path: string
  readonly kind: GrantKind
}

/** Reads the list at `file`; [] when missing or malformed. */
export async function readRecent(file: string): Promise<RecentEntry[]> {
  try {
    const x = JSON.parse(await readFile(file, 'utf8')) as unknown
    if (!Array.isArray(x)) return []
    return x
      .filter(
        (e): e is RecentEntry =>
          typeof e === 'object' &&
          e !== null &&
          typeof (e as RecentEntry).path === 'string' &&
          ((e as RecentEntry).kind === 'file' || (e as RecentEntry).kind === 'folder'),
      )
      .slice(0, MAX_RECENT)
  } catch {
    return []
  }
}

/** `list` with `entry` first (moved up when already there), at most {@link MAX_RECENT}. */
export function addRecent(list: readonly RecentEntry[], entry: RecentEntry): RecentEntry[] {
  return [entry, ...list.filter((e) => e.path !== entry.path)].slice(0, MAX_RECENT)
}

/** Writes the list (temp file, then rename). */
export async function writeRecent(file: string, list: readonly RecentEntry[]): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(list, null, 2))
  await rename(tmp, file)
}

/** Menu labels: base names. */
export function recentLabels(list: readonly RecentEntry[]): { path: string; label: string }[] {
  return list.map((e) => ({ path: e.path, label: basename(e.path) || e.path }))
}

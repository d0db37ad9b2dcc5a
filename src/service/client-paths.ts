/**
 * What the client may see of a path (architecture.md §5, S4): only paths relative to the roots it
 * knows (`--data`, `--out`, shown by their folder names) and dropped files by their dropped name.
 * Every error and warning the service hands to a client goes through {@link ClientPaths}, so an
 * OS error (`ENAMETOOLONG: ... '/home/me/data/a/a/...'`), a worker's message or a reader's
 * warning never shows where the server keeps its files.
 */
import { basename, isAbsolute, relative, sep } from 'node:path'
import type { ApiEvent, Result } from '../shared/api.js'
import { err } from '../shared/api.js'
import { visibleName } from '../shared/file-names.js'
import { isInside } from './confine.js'

/** An absolute folder and how the client knows it: `''` for "paths relative to it". */
export interface ShownRoot {
  readonly dir: string
  /** What the folder itself is shown as (its name, or a dropped file's name). */
  readonly shown: string
}

/** Longest message handed to a client; a longer one is cut in the middle. */
export const MAX_CLIENT_MESSAGE = 2000

// An absolute POSIX or Windows path left in a text after the roots were taken out (not `//` of a URL).
const ABSOLUTE_PATH = /(^|[\s'"`(=[<:])((?:\/(?!\/)|[A-Za-z]:\\)[^\s'"`)\]>,;]+)/g

/** The paths the client knows, and the one scrubbing step for everything it is sent. */
export class ClientPaths {
  readonly #roots: readonly ShownRoot[]

  /** `roots`: real absolute paths with their shown names (longest first is not required). */
  constructor(roots: readonly ShownRoot[]) {
    this.#roots = [...roots].sort((a, b) => b.dir.length - a.dir.length)
  }

  /**
   * `text` with every absolute path made client-safe: below a root (or `extra`, e.g. an upload's
   * folder) relative to it, a root itself by its shown name, any other absolute path by its last
   * segment; refused characters made visible; cut to {@link MAX_CLIENT_MESSAGE}.
   */
  text(text: string, extra: readonly ShownRoot[] = []): string {
    let t = text
    const roots = [...extra, ...this.#roots].sort((a, b) => b.dir.length - a.dir.length)
    for (const r of roots) {
      if (r.dir.endsWith(sep)) continue // a file-system root: left to the generic rule below
      t = t.split(r.dir + sep).join('')
      t = t.split(r.dir).join(r.shown)
    }
    t = t.replace(ABSOLUTE_PATH, (_m, lead: string, p: string) => {
      const trail = /[.:]+$/.exec(p)?.[0] ?? ''
      const core = p.slice(0, p.length - trail.length)
      return `${lead}${basename(core) || '…'}${trail}`
    })
    // Refused characters made visible (line breaks of multi-line messages kept).
    t = t.split('\n').map(visibleName).join('\n')
    if (t.length > MAX_CLIENT_MESSAGE) {
      const half = Math.floor(MAX_CLIENT_MESSAGE / 2) - 1
      t = `${t.slice(0, half)} … ${t.slice(-half)}`
    }
    return t
  }

  /** A file as the client may see it: relative to its root, else only its base name. */
  file(file: string | undefined, extra: readonly ShownRoot[] = []): string | undefined {
    if (file === undefined) return undefined
    if (!isAbsolute(file)) return this.text(file, extra)
    for (const r of [...extra, ...this.#roots]) {
      if (isInside(r.dir, file)) {
        return this.text(relative(r.dir, file).split(sep).join('/') || r.shown)
      }
    }
    return this.text(basename(file))
  }

  /** A failed Result made client-safe (message and file); a successful one as it is. */
  result<T>(r: Result<T>, extra: readonly ShownRoot[] = []): Result<T> {
    if (r.ok) return r
    return err(r.error.code, this.text(r.error.message, extra), this.file(r.error.file, extra))
  }

  /** An event made client-safe: a failed job's error, a finished job's warnings. */
  event(e: ApiEvent): ApiEvent {
    if (e.type === 'job:done') {
      const warnings = e.labels.warnings.map((w) => this.text(w))
      return { ...e, labels: { ...e.labels, warnings } }
    }
    if (e.type !== 'job:failed') return e
    const file = this.file(e.error.file)
    return {
      ...e,
      error: {
        code: e.error.code,
        message: this.text(e.error.message),
        ...(file === undefined ? {} : { file }),
      },
    }
  }
}

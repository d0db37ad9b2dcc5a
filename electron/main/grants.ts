/**
 * File grants (architecture.md §1.4): in the desktop app the UI never names a path. A native dialog
 * (or the command line, or a second launch) picks a file or folder; main records it here and hands
 * the UI an opaque `SourceRef` (`grant:<32 hex>`). The service resolves only refs this table
 * issued; any other string names nothing.
 */
import { createHmac } from 'node:crypto'
import { dirname, isAbsolute } from 'node:path'
import type { SourceRef } from '../../src/shared/api.js'

/** What a grant is for. */
export type GrantKind = 'file' | 'folder'

/** One granted path. */
export interface Grant {
  readonly ref: SourceRef
  /** Absolute path the user chose. */
  readonly path: string
  readonly kind: GrantKind
  /** Folder detached data files of this source must stay in (its own folder). */
  readonly confineTo: string
}

/** Shape of the refs this table issues. */
export const GRANT_REF = /^grant:[0-9a-f]{32}$/

/**
 * The grants of one app run. The table itself is not persisted (a restart asks again, or
 * reopens a recent file), but a path's ref is stable across runs: an HMAC of the path under a
 * per-install secret, so the backups of unsaved edits, which are keyed by the source ref, are
 * found again after a crash. Without the secret a ref says nothing about the path.
 */
export class GrantTable {
  readonly #byRef = new Map<string, Grant>()
  readonly #secret: Uint8Array

  /** `secret`: at least 16 random bytes, kept in the app's user-data folder. */
  constructor(secret: Uint8Array) {
    if (secret.byteLength < 16) throw new Error('the grant secret must hold at least 16 bytes')
    this.#secret = secret
  }

  /** The ref `path` has (granted or not): the same in every run with the same secret. */
  refFor(path: string, kind: GrantKind): SourceRef {
    const mac = createHmac('sha256', this.#secret).update(`${kind}\0${path}`).digest('hex')
    return `grant:${mac.slice(0, 32)}` as SourceRef
  }

  /** Grants `path` (absolute) and returns its grant; the same path keeps its ref. */
  grant(path: string, kind: GrantKind): Grant {
    if (!isAbsolute(path) || path.includes('\0')) throw new Error('a grant needs an absolute path')
    const ref = this.refFor(path, kind)
    const known = this.#byRef.get(ref)
    if (known) return known
    const g: Grant = { ref, path, kind, confineTo: kind === 'folder' ? path : dirname(path) }
    this.#byRef.set(ref, g)
    return g
  }

  /** The grant `ref` names, or undefined when this table never issued it. */
  resolve(ref: string): Grant | undefined {
    if (!GRANT_REF.test(ref)) return undefined
    return this.#byRef.get(ref)
  }

  /** How many paths are granted. */
  get size(): number {
    return this.#byRef.size
  }
}

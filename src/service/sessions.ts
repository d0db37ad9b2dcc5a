/**
 * Sessions: what a connection opens belongs to it (architecture.md §7). When the connection ends
 * its session is *detached*; after `graceMs` everything it holds is closed (volumes, label maps,
 * jobs, dropped files). A reloaded page presents the key its previous connection was given
 * (`resumeSession`) and takes that session's holdings over instead, so a reload neither loses a
 * result nor leaves a copy behind, and no number of reloads locks other viewers out.
 */
import type { ApiEvent, SessionKey } from '../shared/api.js'
import { AppError } from '../shared/errors.js'
import { newId } from './new-id.js'

/** One session (a connection, or a detached one in its grace period). */
export interface SessionState {
  readonly key: SessionKey
  readonly subscribers: Set<(e: ApiEvent) => void>
  attached: boolean
  timer?: ReturnType<typeof setTimeout>
  /** Set when another session resumed this one: its holdings now belong there. */
  mergedInto?: SessionState
  /** Called once when the connection ends (a resume waiting for a reloading tab's old socket). */
  onDetach?: Set<() => void>
}

/**
 * How long a resume waits for the old connection to end. A reloading tab connects again before
 * the server has seen its old socket close (the close travels separately), so "still connected"
 * is usually a matter of milliseconds; a second tab holding the same key stays refused.
 */
export const RESUME_WAIT_MS = 2000

/** What {@link Sessions} asks of the service. */
export interface SessionHooks {
  /** Closes everything session `key` holds (its grace period ended, or the service stops). */
  release(key: SessionKey): void
  /** Gives everything session `from` holds to session `to`. */
  transfer(from: SessionKey, to: SessionKey): void
}

/** The sessions of one service. */
export class Sessions {
  readonly #map = new Map<SessionKey, SessionState>()

  constructor(
    readonly graceMs: number,
    private readonly hooks: SessionHooks,
  ) {}

  /** A new attached session. */
  open(): SessionState {
    const s: SessionState = {
      key: newId<SessionKey>('ses'),
      subscribers: new Set(),
      attached: true,
    }
    this.#map.set(s.key, s)
    return s
  }

  /** The connection of `s` ended: its holdings are released after the grace period. */
  detach(s: SessionState): void {
    if (!s.attached) return
    s.attached = false
    s.subscribers.clear()
    for (const fn of s.onDetach ?? []) fn()
    s.onDetach = undefined
    if (this.#map.get(s.key) !== s) return
    s.timer = setTimeout(() => this.#expire(s), this.graceMs)
    s.timer.unref()
  }

  #expire(s: SessionState): void {
    if (this.#map.get(s.key) !== s) return
    this.#map.delete(s.key)
    this.hooks.release(s.key)
  }

  /**
   * Moves what session `key` holds to `into`. Throws `E_ARGS` when there is no such session
   * (released after its grace period, or never given) or it is still connected after
   * {@link RESUME_WAIT_MS} (another tab).
   */
  async resume(into: SessionState, key: SessionKey): Promise<void> {
    if (key === into.key) return
    const from = this.#map.get(key)
    if (!from) {
      throw new AppError(
        'E_ARGS',
        `no session ${key} to resume: it ended more than ${Math.round(this.graceMs / 1000)} s ago, or the server restarted`,
      )
    }
    if (from.attached) await waitForDetach(from, RESUME_WAIT_MS)
    if (from.attached) {
      throw new AppError('E_ARGS', `session ${key} is still connected (open in another tab?)`)
    }
    // It may have been resumed by someone else, or expired, while this waited.
    if (this.#map.get(key) !== from || from.mergedInto) {
      throw new AppError('E_ARGS', `session ${key} was resumed by another connection`)
    }
    clearTimeout(from.timer)
    this.#map.delete(key)
    from.mergedInto = into
    this.hooks.transfer(key, into.key)
  }

  /** The session that now holds what `s` opened (following resumes), if it is still alive. */
  live(s: SessionState): SessionState | undefined {
    let t = s
    while (t.mergedInto) t = t.mergedInto
    return this.#map.get(t.key) === t ? t : undefined
  }

  /** Sends `e` to the connection of session `key` (none while detached). */
  emitTo(key: SessionKey, e: ApiEvent): void {
    for (const fn of this.#map.get(key)?.subscribers ?? []) {
      try {
        fn(e)
      } catch {
        // A failing subscriber (a closed socket) must not stop the others.
      }
    }
  }

  /** Sessions alive (attached or in their grace period). */
  count(): { readonly attached: number; readonly detached: number } {
    let attached = 0
    for (const s of this.#map.values()) if (s.attached) attached++
    return { attached, detached: this.#map.size - attached }
  }

  /** Ends every session now (shutdown), releasing what each holds. */
  releaseAll(): void {
    for (const s of [...this.#map.values()]) {
      clearTimeout(s.timer)
      this.#map.delete(s.key)
      this.hooks.release(s.key)
    }
  }
}

/** Resolves when `s` detaches, or after `ms`. */
function waitForDetach(s: SessionState, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      s.onDetach?.delete(done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    ;(s.onDetach ??= new Set()).add(done)
  })
}

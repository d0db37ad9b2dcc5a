/**
 * The tab's session key (from `hello`), kept in `sessionStorage`: it survives a reload of this tab
 * and nothing else (per tab, per origin), so a reloaded page can resume what it held.
 */
import { isSessionKey, type SessionKey } from '../../../src/shared/api.js'

const STORAGE_KEY = 'volseg.session'

/** The key this tab's previous page was given, if any. */
export function readSessionKey(): SessionKey | undefined {
  try {
    const k = window.sessionStorage.getItem(STORAGE_KEY)
    return isSessionKey(k) ? k : undefined
  } catch {
    return undefined // storage disabled: no resume, the page opens afresh
  }
}

/** Remembers this page's key for the next reload of the tab. */
export function writeSessionKey(key: SessionKey): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, key)
  } catch {
    // storage disabled: a reload opens afresh and the old session ends after its grace period
  }
}

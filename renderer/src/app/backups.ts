/**
 * Backups of unsaved edits (issue 14, architecture.md §5 items 4–6). The first edit not yet
 * backed up starts a timer of `backupIntervalS`; when it fires, the labels on screen and their
 * review go to the core (`backupLabels`), which keeps them in its recovery folder until they are
 * saved or discarded. Continuous painting is therefore never more than one interval from its
 * backup. Opening a volume asks the core for a backup of its source (`findBackup`) and offers it
 * (`backupOffer`); restoring it brings the labels back as unsaved edits.
 */
import type { ApiError, OpenedLabels, VolumeId } from '../../../src/shared/api.js'
import { toReviewRecord } from '../../../src/core/segmentation/review-record.js'
import type { ApiClient } from '../api/connect.js'
import { hasUnsavedEdits, type AppState, type Store } from './state.js'

/** Default seconds between an edit and its backup. */
export const DEFAULT_BACKUP_INTERVAL_S = 5
/** Shortest and longest interval the setting takes, seconds. */
export const BACKUP_INTERVAL_RANGE_S = [1, 600] as const

const STORAGE_KEY = 'volseg.backupIntervalS'

/** The interval setting kept for this origin, or the default. */
export function readBackupInterval(): number {
  try {
    const n = Number(window.localStorage.getItem(STORAGE_KEY) ?? NaN)
    return validInterval(n) ? n : DEFAULT_BACKUP_INTERVAL_S
  } catch {
    return DEFAULT_BACKUP_INTERVAL_S
  }
}

/** True for a whole number of seconds within {@link BACKUP_INTERVAL_RANGE_S}. */
export function validInterval(n: number): boolean {
  const [lo, hi] = BACKUP_INTERVAL_RANGE_S
  return Number.isInteger(n) && n >= lo && n <= hi
}

/** A backup's time as the user reads it: local date and time, to the second. */
export function backupTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
}

/**
 * True when nothing unsaved would be lost by replacing what is shown, or the user says to go on
 * (`what`: the question's end, e.g. "Open another image without saving them").
 */
export function mayDiscardEdits(s: AppState, what: string): boolean {
  return !hasUnsavedEdits(s) || window.confirm(`${s.volume?.info.name} has unsaved edits. ${what}?`)
}

/** What {@link Backups} asks of the controller. */
export interface BackupHost {
  readonly api: () => ApiClient['api']
  /** Shows restored labels with their review (the controller's way of showing opened labels). */
  readonly show: (opened: OpenedLabels) => Promise<void>
  readonly describe: (e: ApiError) => string
}

export class Backups {
  readonly #store: Store
  readonly #host: BackupHost
  #timer: ReturnType<typeof setTimeout> | undefined
  #inFlight: Promise<void> | undefined
  /** The edit version (of which volume) the core last backed up. */
  #done: { volumeId: VolumeId; version: number } | undefined
  #lastError = ''

  constructor(store: Store, host: BackupHost) {
    this.#store = store
    this.#host = host
    store.set({ backupIntervalS: readBackupInterval() })
    store.subscribe(() => this.#schedule())
  }

  /** Changes the interval setting (kept for the next visits); false when out of range. */
  setInterval(seconds: number): boolean {
    if (!validInterval(seconds)) return false
    try {
      window.localStorage.setItem(STORAGE_KEY, String(seconds))
    } catch {
      // storage disabled: the setting lasts for this page
    }
    this.#store.set({ backupIntervalS: seconds })
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#schedule()
    return true
  }

  /** True when the labels on screen hold edits the core has not backed up yet. */
  #needed(s: AppState): boolean {
    const v = s.volume
    if (!v || !s.connected || !hasUnsavedEdits(s) || s.backupOffer) return false
    return this.#done?.volumeId !== v.info.volumeId || this.#done.version !== s.editVersion
  }

  #schedule(): void {
    if (this.#timer !== undefined || !this.#needed(this.#store.state)) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.flush()
    }, this.#store.state.backupIntervalS * 1000)
  }

  /** Backs up now what is on screen, unless a backup is being written or nothing is new. */
  async flush(): Promise<void> {
    if (this.#inFlight) return this.#inFlight
    const s = this.#store.state
    if (!this.#needed(s) || !s.volume || !s.labels) return
    const volumeId = s.volume.info.volumeId
    const version = s.editVersion
    const v = s.labels.voxels
    const review =
      s.labelTable && s.review ? toReviewRecord(s.labelTable, s.review, new Date()) : undefined
    // The request is framed (bytes copied) at once, so later strokes cannot tear it.
    const sent = this.#host.api().backupLabels({
      volumeId,
      dataType: v instanceof Uint16Array ? 'uint16' : 'uint8',
      sizeIJK: s.volume.info.geometry.sizeIJK,
      bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
      ...(review ? { review } : {}),
    })
    this.#inFlight = (async () => {
      const r = await sent
      if (r.ok) {
        this.#done = { volumeId, version }
        this.#lastError = ''
        if (this.#store.state.volume?.info.volumeId === volumeId) {
          this.#store.set({ lastBackup: { version, savedAt: r.value.savedAt } })
        }
      } else {
        // Said once per distinct failure, not at every interval.
        const text = `Could not back up the unsaved edits: ${this.#host.describe(r.error)}`
        if (text !== this.#lastError) this.#store.notify('warning', text)
        this.#lastError = text
      }
    })().finally(() => {
      this.#inFlight = undefined
      this.#schedule()
    })
    return this.#inFlight
  }

  /** Asks the core for a backup of the source of `volumeId` (just opened) and offers it. */
  async check(volumeId: VolumeId): Promise<void> {
    const r = await this.#host.api().findBackup({ volumeId })
    if (!r.ok || !r.value) return
    if (this.#store.state.volume?.info.volumeId !== volumeId) return // another one opened since
    this.#store.set({ backupOffer: { volumeId, info: r.value } })
  }

  /** Restores the offered backup as the labels on screen: unsaved edits until saved. */
  async restore(): Promise<void> {
    const s = this.#store.state
    const offer = s.backupOffer
    if (!offer || s.volume?.info.volumeId !== offer.volumeId) return
    if (
      hasUnsavedEdits(s) &&
      !window.confirm('Replace the unsaved edits on screen with the backup?')
    ) {
      return
    }
    this.#store.set({ loading: 'Restoring the backup…' })
    try {
      const r = await this.#host.api().restoreBackup({ volumeId: offer.volumeId })
      if (!r.ok) {
        this.#store.notify('error', `Could not restore the backup: ${this.#host.describe(r.error)}`)
        return
      }
      await this.#host.show(r.value)
      // Shown from the core's copy, which is this very backup: dirty, but backed up already.
      const version = this.#store.state.editVersion
      this.#done = { volumeId: offer.volumeId, version }
      this.#store.set({
        savedVersion: -1,
        backupOffer: undefined,
        lastBackup: { version, savedAt: offer.info.savedAt },
      })
      this.#store.notify(
        'info',
        `Restored the unsaved edits from ${backupTime(offer.info.savedAt)}; save them to keep them.`,
      )
    } finally {
      this.#store.set({ loading: undefined })
    }
  }

  /** Deletes the offered backup (the user does not want it). */
  async discard(): Promise<void> {
    const offer = this.#store.state.backupOffer
    if (!offer) return
    const r = await this.#host.api().discardBackup({ volumeId: offer.volumeId })
    if (!r.ok) {
      this.#store.notify('error', `Could not discard the backup: ${this.#host.describe(r.error)}`)
      return
    }
    this.#store.set({ backupOffer: undefined })
    this.#store.notify('info', `Discarded the backup from ${backupTime(offer.info.savedAt)}.`)
  }
}

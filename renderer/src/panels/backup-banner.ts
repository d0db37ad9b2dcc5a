/**
 * The offer of a backup found when an image was opened: when it was made, whether VolSeg ended
 * without closing cleanly, and Restore · Discard. Not modal: the image can be looked at first.
 */
import { backupTime, type Backups } from '../app/backups.js'
import type { Store } from '../app/state.js'
import { el, setChildren } from './dom.js'

export function mountBackupBanner(parent: HTMLElement, store: Store, backups: Backups): void {
  const banner = el('div', { className: 'backup-offer', role: 'alert' })
  banner.hidden = true
  parent.append(banner)
  let shown: unknown
  store.subscribe((s) => {
    if (s.backupOffer === shown) return
    shown = s.backupOffer
    const offer = s.backupOffer
    banner.hidden = !offer
    if (!offer) return
    const i = offer.info
    const why = i.crashed ? ' (VolSeg did not close cleanly)' : ''
    const what = `${i.labelCount} label${i.labelCount === 1 ? '' : 's'}, ${i.labelVoxels} voxels`
    setChildren(banner, [
      el('span', { className: 'backup-offer-text' }, [
        `Unsaved edits of ${s.volume?.info.name ?? 'this image'} from `,
        el('time', { dateTime: i.savedAt, textContent: backupTime(i.savedAt) }),
        `${why}: ${what}. `,
      ]),
      el('button', {
        className: 'restore-backup',
        textContent: 'Restore',
        onclick: () => void backups.restore(),
      }),
      ' · ',
      el('button', {
        className: 'discard-backup',
        textContent: 'Discard',
        onclick: () => void backups.discard(),
      }),
    ])
  })
}

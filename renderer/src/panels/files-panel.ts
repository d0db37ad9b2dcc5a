/** The file browser over the `--data` root (`listSources`) and the DICOM series chooser. */
import type { AppState, Store } from '../app/state.js'
import type { Controller } from '../app/controller.js'
import { el, formatBytes, setChildren } from './dom.js'

const ICONS: Record<string, string> = { dir: '▸', 'dicom-folder': '▣', file: '▫', other: '·' }

export function mountFilesPanel(parent: HTMLElement, store: Store, ctl: Controller): void {
  const crumbs = el('div', { className: 'crumbs' })
  const list = el('ul', { className: 'file-list' })
  const section = el('section', { className: 'panel files-panel' }, [
    el('h2', {}, ['Data']),
    crumbs,
    list,
  ])
  parent.append(section)
  let shown: AppState['listing']
  store.subscribe((s) => {
    if (s.listing === shown) return
    shown = s.listing
    if (!s.listing) return
    setChildren(
      crumbs,
      s.listing.crumbs.map((c, n) =>
        el('button', {
          className: 'crumb',
          textContent: n === 0 ? (s.hello?.dataRootName ?? c.name) : c.name,
          onclick: () => void ctl.browse(c.ref),
        }),
      ),
    )
    const items = s.listing.entries.map((e) => {
      const label = `${ICONS[e.kind] ?? ''} ${e.name}${e.bytes !== undefined ? `  (${formatBytes(e.bytes)})` : ''}`
      const b = el('button', {
        className: `entry entry-${e.kind}`,
        textContent: label,
        title: e.kind === 'dir' ? 'Open folder' : 'Open image',
        disabled: e.kind === 'other',
        onclick: () => void (e.kind === 'dir' ? ctl.browse(e.ref) : ctl.open(e.ref)),
      })
      b.dataset.name = e.name
      return el('li', {}, [b])
    })
    if (s.listing.truncated) items.push(el('li', { className: 'muted' }, ['(listing truncated)']))
    if (items.length === 0) items.push(el('li', { className: 'muted' }, ['(empty folder)']))
    setChildren(list, items)
  })
}

/** Modal asking which series of a DICOM folder to open (the core never picks one silently). */
export function mountSeriesChooser(parent: HTMLElement, store: Store, ctl: Controller): void {
  const box = el('div', { className: 'modal series-chooser', hidden: true, role: 'dialog' })
  parent.append(box)
  let shown: AppState['seriesChoice']
  store.subscribe((s) => {
    if (s.seriesChoice === shown) return
    shown = s.seriesChoice
    box.hidden = !s.seriesChoice
    if (!s.seriesChoice) return
    const { source, series } = s.seriesChoice
    setChildren(box, [
      el('h2', {}, [`This folder holds ${series.length} series: choose one`]),
      el(
        'ul',
        {},
        series.map((c) =>
          el('li', {}, [
            el('button', {
              className: 'series',
              textContent: `${c.description || '(no description)'} · ${c.modality} · ${c.sizeIJK.join('×')} · ${c.count} files`,
              onclick: () => void ctl.open(source, c.key),
            }),
            ...c.warnings.map((w) => el('div', { className: 'warning' }, [w])),
          ]),
        ),
      ),
      el('button', {
        textContent: 'Cancel',
        onclick: () => store.set({ seriesChoice: undefined }),
      }),
    ])
  })
}

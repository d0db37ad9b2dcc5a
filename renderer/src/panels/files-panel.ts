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
              textContent: `${c.seriesNumber === undefined ? '' : `series ${c.seriesNumber} · `}${c.description || '(no description)'} · ${c.modality} · ${c.sizeIJK.join('×')} · ${c.count} files`,
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

/** True when a drag carries files (not text or a link dragged from the page). */
function carriesFiles(e: DragEvent): boolean {
  return e.dataTransfer !== null && Array.from(e.dataTransfer.types).includes('Files')
}

/**
 * Drag-and-drop over the whole window: while files are dragged over it an overlay says what can
 * be dropped; a drop hands the files to {@link Controller.openDropped} (which opens the first
 * NIfTI / NRRD / MHA file with `openUpload`). A file dropped anywhere never makes the browser
 * navigate away from the viewer.
 */
export function mountDropZone(parent: HTMLElement, ctl: Controller): void {
  const overlay = el('div', { className: 'drop-overlay', hidden: true }, [
    el('div', { className: 'drop-message' }, [
      'Drop a NIfTI / NRRD / MHA file to open',
      el('div', { className: 'muted' }, [
        '.nii, .nii.gz, .nrrd, .mha; for DICOM folders, put them under --data',
      ]),
    ]),
  ])
  parent.append(overlay)
  // dragenter/dragleave fire for every element crossed; count them to know when the drag left.
  let depth = 0
  const hide = (): void => {
    depth = 0
    overlay.hidden = true
  }
  window.addEventListener('dragenter', (e) => {
    if (!carriesFiles(e)) return
    e.preventDefault()
    depth++
    overlay.hidden = false
  })
  window.addEventListener('dragover', (e) => {
    if (!carriesFiles(e)) return
    e.preventDefault() // allows the drop
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy'
    overlay.hidden = false
  })
  window.addEventListener('dragleave', (e) => {
    if (!carriesFiles(e)) return
    depth = Math.max(0, depth - 1)
    if (depth === 0 || e.relatedTarget === null) hide()
  })
  window.addEventListener('dragend', hide)
  window.addEventListener('drop', (e) => {
    hide()
    if (!e.dataTransfer || e.dataTransfer.files.length === 0) return
    e.preventDefault() // never navigate to the dropped file
    void ctl.openDropped(Array.from(e.dataTransfer.files))
  })
}

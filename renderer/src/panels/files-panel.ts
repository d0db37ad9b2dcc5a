/** The file browser over the `--data` root (`listSources`) and the DICOM series chooser. */
import type { AppState, Store } from '../app/state.js'
import type { Controller } from '../app/controller.js'
import { el, formatBytes, setChildren } from './dom.js'

const ICONS: Record<string, string> = { dir: '▸', 'dicom-folder': '▣', file: '▫', other: '·' }

export function mountFilesPanel(parent: HTMLElement, store: Store, ctl: Controller): void {
  const crumbs = el('div', { className: 'crumbs' })
  const list = el('ul', { className: 'file-list' })
  // Two roots: the images under --data, and the masks saved under --out (opened as labels).
  const dataTab = el('button', {
    className: 'root-tab',
    textContent: 'Images',
    title: 'Images under the data folder',
    onclick: () => void ctl.browse(undefined, 'data'),
  })
  const outTab = el('button', {
    className: 'root-tab',
    textContent: 'Saved masks',
    title: 'Masks saved under the output folder: open one over its image to review it again',
    onclick: () => void ctl.browse(undefined, 'out'),
  })
  dataTab.dataset.root = 'data'
  outTab.dataset.root = 'out'
  const section = el('section', { className: 'panel files-panel' }, [
    el('h2', {}, ['Files']),
    el('div', { className: 'root-tabs', role: 'tablist' }, [dataTab, outTab]),
    crumbs,
    list,
  ])
  parent.append(section)
  let shown: AppState['listing']
  let shownVolume: AppState['volume']
  store.subscribe((s) => {
    if (s.listing === shown && s.volume === shownVolume) return
    shown = s.listing
    shownVolume = s.volume
    if (!s.listing) return
    const out = s.listingRoot === 'out'
    dataTab.setAttribute('aria-selected', String(!out))
    outTab.setAttribute('aria-selected', String(out))
    const rootName = out ? s.hello?.outDirName : s.hello?.dataRootName
    setChildren(
      crumbs,
      s.listing.crumbs.map((c, n) =>
        el('button', {
          className: 'crumb',
          textContent: n === 0 ? (rootName ?? c.name) : c.name,
          onclick: () => void ctl.browse(c.ref),
        }),
      ),
    )
    const image = s.volume?.info.name
    const items = s.listing.entries.map((e) => {
      const label = `${ICONS[e.kind] ?? ''} ${e.name}${e.bytes !== undefined ? `  (${formatBytes(e.bytes)})` : ''}`
      const isDir = e.kind === 'dir'
      // Under --out a file is a mask: it opens over the image on screen, not as an image.
      const asMask = out && e.kind === 'file'
      const b = el('button', {
        className: `entry entry-${e.kind}`,
        textContent: label,
        title: isDir
          ? 'Open folder'
          : asMask
            ? image
              ? `Open as the labels of ${image}`
              : 'Open its image first'
            : 'Open image',
        disabled: e.kind === 'other' || (asMask && !image) || (out && e.kind === 'dicom-folder'),
        onclick: () =>
          void (isDir ? ctl.browse(e.ref) : asMask ? ctl.openMask('out', e.ref) : ctl.open(e.ref)),
      })
      b.dataset.name = e.name
      const row: HTMLElement[] = [b]
      if (!out && e.kind === 'file' && image) {
        // A mask made elsewhere (another tool, a colleague) kept beside the images.
        const m = el('button', {
          className: 'entry-as-mask',
          textContent: 'as mask',
          title: `Open ${e.name} as the labels of ${image}`,
          onclick: () => void ctl.openMask('data', e.ref),
        })
        m.dataset.name = e.name
        row.push(m)
      }
      return el('li', {}, row)
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

/**
 * Entry of the review viewer: connects to the core, lays out the panels and the four views, and
 * binds the keyboard. Nothing here knows the transport (see api/connect.ts).
 */
import { NoTokenError, connect } from './api/connect.js'
import { desktopBridge } from './api/ipc-client.js'
import { Controller } from './app/controller.js'
import { Editor } from './app/editor.js'
import { SliceFiller } from './app/slice-fill.js'
import { Triage } from './app/triage.js'
import { Worklist } from './app/worklist.js'
import { mountEditPanel } from './panels/edit-panel.js'
import { mountLabelsPanel } from './panels/labels-panel.js'
import { INITIAL_STATE, Store, hasUnsavedEdits } from './app/state.js'
import { VIEW_NAMES, type ViewName } from './app/view-geometry.js'
import { mountBackupBanner } from './panels/backup-banner.js'
import { el } from './panels/dom.js'
import { mountDisplayPanel } from './panels/display-panel.js'
import { mountDropZone, mountFilesPanel, mountSeriesChooser } from './panels/files-panel.js'
import { mountOverlays } from './panels/overlays.js'
import { mountExportPanel } from './panels/export-panel.js'
import { mountSegmentPanel } from './panels/segment-panel.js'
import { mountWorklistPanel } from './panels/worklist-panel.js'
import { SliceView } from './views/slice-view.js'
import { ThreeDView } from './views/three-d-view.js'
import { composeSnapshot } from './views/snapshot.js'
import { directionLetters } from './app/view-geometry.js'
import type { Vec3 } from '../../src/shared/geometry.js'
import type { SourceRef } from '../../src/shared/api.js'
import { studyLine } from '../../src/core/dicom/study-info.js'

function header(store: Store): HTMLElement {
  const info = el('div', { className: 'volume-info' })
  const study = el('div', { className: 'study-info' })
  study.hidden = true
  const bar = el('header', { className: 'topbar' }, [
    el('span', { className: 'brand' }, ['VolSeg review']),
    el('div', { className: 'volume-lines' }, [info, study]),
    el('button', {
      className: 'help-button',
      textContent: '? Help',
      onclick: () => store.set({ help: true }),
    }),
  ])
  store.subscribe((s) => {
    const v = s.volume?.info
    // Which volume is shown and whether its slices are still arriving, for tests and tools.
    info.dataset.volumeId = v?.volumeId ?? ''
    info.dataset.loading = s.voxelsLoading ? 'slices' : ''
    if (!v) {
      info.textContent = s.connected ? 'no image open' : 'connecting…'
      return
    }
    const g = v.geometry
    const d = g.directionLPS
    const axes = [0, 1, 2].map((c) => directionLetters([d[c]!, d[3 + c]!, d[6 + c]!] as Vec3, 0.3))
    const loading = s.voxelsLoading
    const progress = loading
      ? ` · reading slices ${Math.floor((100 * loading.doneK) / loading.totalK)} %`
      : ''
    info.textContent = `${v.name} · ${g.sizeIJK.join('×')} voxels · ${g.spacingMm.map((x) => x.toFixed(2)).join('×')} mm · i→${axes[0]} j→${axes[1]} k→${axes[2]}${v.modality ? ` · ${v.modality}` : ''}${progress}`
    info.title = `origin LPS (${g.originLPS.map((x) => x.toFixed(2)).join(', ')}) mm`
    // DICOM only: who and which study/series, on its own line (NIfTI and the rest have none).
    study.textContent = v.study ? studyLine(v.study) : ''
    study.hidden = !v.study
  })
  return bar
}

/** True for an element that takes typed text (a text or number field, a select, a text area). */
function typesText(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false
  if (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable) return true
  if (t.tagName !== 'INPUT') return false
  const type = (t as HTMLInputElement).type
  return !['checkbox', 'radio', 'range', 'button', 'submit', 'reset', 'color', 'file'].includes(
    type,
  )
}

function keyboard(
  store: Store,
  ctl: Controller,
  views: Map<ViewName, SliceView>,
  ed: Editor,
  triage: Triage,
  filler: SliceFiller,
  worklist: Worklist,
): void {
  window.addEventListener('keydown', (e) => {
    // Only fields that take typed text keep the keys; after a click on a checkbox, a button or a
    // range slider the shortcuts work at once.
    if (typesText(e.target) && e.key !== 'Escape') return
    // Undo/redo are the only Ctrl keys taken (before the early return below).
    if ((e.ctrlKey || e.metaKey) && !e.altKey) {
      const k = e.key.toLowerCase()
      if (k === 'z' && !e.shiftKey) ed.undo()
      else if ((k === 'z' && e.shiftKey) || k === 'y') ed.redo()
      else return
      e.preventDefault()
      return
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return
    const view = views.get(store.state.activeView)
    switch (e.key) {
      case 'ArrowUp':
      case 'ArrowRight':
        view?.step(1)
        break
      case 'ArrowDown':
      case 'ArrowLeft':
        view?.step(-1)
        break
      case 'PageUp':
        view?.step(10)
        break
      case 'PageDown':
        view?.step(-10)
        break
      case 'w':
      case 'W':
        ctl.cyclePreset()
        break
      case 'o':
      case 'O':
        store.set((s) => ({ overlay: { ...s.overlay, visible: !s.overlay.visible } }))
        break
      case 'u':
      case 'U':
        if (store.state.uncertainty) store.set((s) => ({ showUncertainty: !s.showUncertainty }))
        break
      case 'a':
      case 'A':
        store.set((s) => ({
          alignment: s.alignment === 'patient' ? 'acquisition' : 'patient',
          cameras: {},
        }))
        break
      case 's':
      case 'S':
        void ctl.save()
        break
      case 'r':
      case 'R':
        store.set({ cameras: {} })
        break
      case 'b':
      case 'B':
        ed.setTool('brush')
        break
      case 'e':
      case 'E':
        ed.setTool('eraser')
        break
      case 'f':
      case 'F':
        ed.setTool('fill')
        break
      case 'i':
      case 'I':
        filler.run(store.state.activeView)
        break
      case 'n':
      case 'N':
        triage.next()
        break
      case 'y':
      case 'Y':
        triage.accept()
        break
      case 'x':
      case 'X':
        triage.askReject()
        break
      case 'h':
      case 'H':
        triage.nextHotspot()
        break
      case '[':
        ed.setOptions({ radiusMm: Math.max(0.5, ed.options.radiusMm / 1.25) })
        break
      case ']':
        ed.setOptions({ radiusMm: Math.min(200, ed.options.radiusMm * 1.25) })
        break
      case 'Escape':
        if (ed.options.tool !== 'none') ed.setTool('none')
        else if (store.state.help || store.state.seriesChoice) {
          store.set({ help: false, seriesChoice: undefined })
        } else void ctl.cancel()
        break
      case '?':
        store.set((s) => ({ help: !s.help }))
        break
      case ',':
      case '<':
        if (!store.state.worklist) return
        void worklist.previous()
        break
      case '.':
      case '>':
        if (!store.state.worklist) return
        void worklist.next()
        break
      default:
        return
    }
    e.preventDefault()
  })
}

/**
 * What test/bench/bench-viewer.ts drives the viewer through: set on `window.volsegBench` only
 * when the page was opened with `?bench`.
 */
interface BenchHandle {
  readonly store: Store
  readonly controller: Controller
  readonly views: ReadonlyMap<ViewName, SliceView>
  readonly editor: Editor
  readonly triage: Triage
  readonly sliceFiller: SliceFiller
}

async function main(): Promise<void> {
  const bench = new URLSearchParams(window.location.search).has('bench')
  const app = document.getElementById('app')!
  const store = new Store(INITIAL_STATE)
  const left = el('aside', { className: 'sidebar left' })
  const right = el('aside', { className: 'sidebar right' })
  const grid = el('main', { className: 'views' })
  app.append(header(store), el('div', { className: 'body' }, [left, grid, right]))
  const views = new Map<ViewName, SliceView>()
  for (const name of VIEW_NAMES) {
    const v = new SliceView(name, store)
    views.set(name, v)
    grid.append(v.root)
  }
  const editor = new Editor(store)
  const triage = new Triage(store, editor)
  const filler = new SliceFiller(store, editor)
  for (const v of views.values()) v.editor = editor
  const three = new ThreeDView(store)
  grid.append(three.root)
  store.subscribe((s) => {
    for (const v of views.values()) v.render(s)
    three.render(s)
  })
  mountOverlays(app, store)
  let client
  try {
    client = await connect()
  } catch (e) {
    if (e instanceof NoTokenError) {
      store.notify('error', e.message)
      return
    }
    store.notify(
      'error',
      `Cannot reach the VolSeg core: ${e instanceof Error ? e.message : String(e)}. Start it with "volseg serve" and open the address it prints.`,
    )
    return
  }
  const ctl = new Controller(client, store, connect)
  const worklist = new Worklist(store, ctl)
  mountWorklistPanel(left, store, worklist)
  mountFilesPanel(left, store, ctl)
  mountSegmentPanel(left, store, ctl)
  mountExportPanel(left, store, ctl, () =>
    composeSnapshot(grid, [
      ...[...views].map(([name, v]) => ({
        name,
        root: v.root,
        draw: v.drawSnapshot.bind(v),
      })),
      { name: '3d' as const, root: three.root, draw: three.drawSnapshot.bind(three) },
    ]),
  )
  mountDisplayPanel(right, store, ctl)
  mountLabelsPanel(right, store, editor, triage)
  mountEditPanel(right, store, editor, filler, ctl.backups)
  mountSeriesChooser(app, store, ctl)
  mountBackupBanner(app, store, ctl.backups)
  mountDropZone(app, ctl)
  keyboard(store, ctl, views, editor, triage, filler, worklist)
  if (bench) {
    const handle: BenchHandle = {
      store,
      controller: ctl,
      views,
      editor,
      triage,
      sliceFiller: filler,
    }
    Object.assign(window, { volsegBench: handle })
  }
  // Unsaved edits: the browser asks before the tab closes or navigates, and they go to the
  // backup at once (the socket stays open for it); otherwise the connection is closed cleanly.
  window.addEventListener('beforeunload', (e) => {
    if (hasUnsavedEdits(store.state)) {
      void ctl.backups.flush()
      e.preventDefault()
      e.returnValue = ''
      return
    }
    client.close()
  })
  // The desktop shell's menus, dialogs and second launches (none in serve mode).
  desktopBridge()?.onCommand((c) => {
    if (c.type === 'open-source') void ctl.open(c.source)
    else if (c.type === 'save') void ctl.save()
    else if (c.type === 'undo') editor.undo()
    else if (c.type === 'redo') editor.redo()
    else if (c.type === 'show-shortcuts') store.set({ help: true })
  })
  // `open=<ref>` in the fragment (serve's --open-source) opens that file instead of the sample.
  const asked = new URLSearchParams(window.location.hash.slice(1)).get('open')
  await ctl.start(asked === null || asked === '' ? undefined : (asked as SourceRef))
  await worklist.load()
  document.body.dataset.ready = 'true'
}

void main()

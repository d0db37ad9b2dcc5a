/**
 * Editing tools: brush, eraser, threshold paint, fill, islands, fill between slices (with its
 * status line); brush size in mm; undo/redo; how often unsaved edits are backed up, and when they
 * last were.
 */
import { backupTime, type Backups } from '../app/backups.js'
import type { Editor, Tool } from '../app/editor.js'
import type { SliceFiller } from '../app/slice-fill.js'
import { hasUnsavedEdits, type AppState, type Store } from '../app/state.js'
import { el } from './dom.js'

/** The backup line: whether the edits on screen are backed up, and when. */
export function backupStatus(s: AppState): string {
  if (!s.labels) return ''
  if (!hasUnsavedEdits(s)) return 'No unsaved edits.'
  if (s.lastBackup?.version === s.editVersion) {
    return `Unsaved edits, backed up ${backupTime(s.lastBackup.savedAt)}.`
  }
  return s.backupOffer
    ? 'Unsaved edits: restore or discard the backup first, then they are backed up.'
    : 'Unsaved edits: a backup follows.'
}

const TOOLS: readonly [Tool, string][] = [
  ['none', 'Navigate'],
  ['brush', 'Brush (B)'],
  ['eraser', 'Eraser (E)'],
  ['fill', 'Fill (F)'],
]

export function mountEditPanel(
  parent: HTMLElement,
  store: Store,
  ed: Editor,
  filler: SliceFiller,
  backups: Backups,
): void {
  const tools = TOOLS.map(([t, text]) =>
    el('button', {
      className: 'tool',
      textContent: text,
      onclick: () => ed.setTool(t),
      dataset: { tool: t },
    }),
  )
  const num = (cls: string, title: string, step = 'any'): HTMLInputElement =>
    el('input', { type: 'number', className: cls, step, title, ariaLabel: title })
  const size = num('brush-radius', 'Brush radius (mm)', '0.5')
  size.onchange = () => {
    const r = Number(size.value)
    if (r > 0) ed.setOptions({ radiusMm: r })
  }
  const check = (cls: string, text: string, on: (v: boolean) => void): HTMLInputElement => {
    const c = el('input', { type: 'checkbox', className: cls })
    c.onchange = () => on(c.checked)
    return c
  }
  const sphere = check('brush-sphere', '3-D sphere', (v) => ed.setOptions({ sphere: v }))
  const only = check('erase-active', 'erase the active label only', (v) =>
    ed.setOptions({ eraseActiveOnly: v }),
  )
  const thr = check('threshold', 'threshold', (v) => ed.setOptions({ threshold: v }))
  const fill3d = check('fill-3d', 'fill in 3-D', (v) => ed.setOptions({ fill3d: v }))
  const lo = num('range-lo', 'Intensity range: low')
  const hi = num('range-hi', 'Intensity range: high')
  const setRange = (): void => {
    const a = Number(lo.value)
    const b = Number(hi.value)
    if (Number.isFinite(a) && Number.isFinite(b) && a <= b) ed.setOptions({ range: [a, b] })
  }
  lo.onchange = setRange
  hi.onchange = setRange
  const fromWl = el('button', {
    className: 'range-from-wl',
    textContent: 'from W/L',
    title: 'Range = the current window: level ± width/2',
    onclick: () => ed.rangeFromWindow(),
  })
  const minMm3 = num('island-min', 'Smallest island kept (mm³)')
  minMm3.onchange = () => {
    const v = Number(minMm3.value)
    if (v >= 0) ed.setOptions({ islandMinMm3: v })
  }
  const islands = el('button', {
    className: 'remove-islands',
    textContent: 'Remove small islands',
    onclick: () => ed.removeIslands(),
  })
  const largest = el('button', {
    className: 'keep-largest',
    textContent: 'Keep largest (active label)',
    onclick: () => ed.keepLargest(ed.activeLabel),
  })
  const between = el('button', {
    className: 'fill-between',
    textContent: 'Fill between slices (I)',
    title:
      'Interpolates the active label into the slices between those it is drawn on, along the view under the mouse (else axial); never over another label',
    onclick: () => filler.run(store.state.activeView),
  })
  const betweenStatus = el('div', { className: 'fill-between-status muted', role: 'status' })
  const every = num('backup-interval', 'Back up unsaved edits every … seconds', '1')
  every.onchange = () => {
    if (!backups.setInterval(Number(every.value))) every.value = String(store.state.backupIntervalS)
  }
  const status = el('div', { className: 'backup-status' })
  const undoB = el('button', { className: 'undo', onclick: () => ed.undo() })
  const redoB = el('button', { className: 'redo', onclick: () => ed.redo() })
  const section = el('section', { className: 'panel edit-panel' }, [
    el('h2', {}, ['Edit']),
    el('div', { className: 'tools' }, tools),
    el('label', {}, ['Brush radius ', size, ' mm ([ ])']),
    el('label', { className: 'check' }, [sphere, ' 3-D sphere']),
    el('label', { className: 'check' }, [only, ' Eraser: active label only']),
    el('label', { className: 'check' }, [thr, ' Threshold paint (brush only in range)']),
    el('div', { className: 'range' }, ['Range ', lo, ' – ', hi, ' ', fromWl]),
    el('label', { className: 'check' }, [fill3d, ' Fill in 3-D (else this slice)']),
    el('div', {}, ['Islands under ', minMm3, ' mm³ ', islands]),
    el('div', {}, [largest]),
    el('div', {}, [between]),
    betweenStatus,
    el('div', { className: 'undo-redo' }, [undoB, ' ', redoB]),
    el('label', {}, ['Back up every ', every, ' s']),
    status,
  ])
  parent.append(section)
  const sync = (): void => {
    const o = ed.options
    for (const b of tools) b.classList.toggle('active', b.dataset.tool === o.tool)
    if (document.activeElement !== size) size.value = String(o.radiusMm)
    if (document.activeElement !== lo) lo.value = String(Number(o.range[0].toPrecision(6)))
    if (document.activeElement !== hi) hi.value = String(Number(o.range[1].toPrecision(6)))
    if (document.activeElement !== minMm3) minMm3.value = String(o.islandMinMm3)
    if (document.activeElement !== every) every.value = String(store.state.backupIntervalS)
    status.textContent = backupStatus(store.state)
    sphere.checked = o.sphere
    only.checked = o.eraseActiveOnly
    thr.checked = o.threshold
    fill3d.checked = o.fill3d
    undoB.textContent = `Undo (${ed.undoSteps})`
    redoB.textContent = `Redo (${ed.redoSteps})`
    undoB.disabled = ed.undoSteps === 0
    redoB.disabled = ed.redoSteps === 0
    section.classList.toggle('disabled', !store.state.labels)
    between.disabled = filler.running || !store.state.labels
    betweenStatus.textContent = filler.status
    betweenStatus.classList.toggle('busy', filler.running)
  }
  ed.onChange(sync)
  filler.onChange(sync)
  store.subscribe(sync)
}

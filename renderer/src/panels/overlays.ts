/** Notices (errors in words), the loading line, and the keyboard help overlay. */
import type { Store } from '../app/state.js'
import { el, setChildren } from './dom.js'

export const SHORTCUTS: readonly [string, string][] = [
  ['Click', 'set the crosshair in all views'],
  ['Left-drag', 'window / level'],
  ['Right-drag, Ctrl+drag', 'zoom'],
  ['Middle-drag, Shift+drag', 'pan'],
  ['Wheel, ↑/↓, PageUp/PageDown', 'next / previous slice: one notch or key, one slice (Page: 10)'],
  ['R, double-click a view title', 'reset zoom and pan (R: all views)'],
  ['W', 'next window preset'],
  ['O', 'labels on / off'],
  ['U', 'uncertainty heatmap on / off'],
  ['A', 'align slices to patient / acquisition axes'],
  ['S', 'save the mask'],
  ['B, E, F', 'brush, eraser, fill tool (left-drag paints; a stroke is one undo step)'],
  ['[ / ]', 'smaller / larger brush (radius in mm)'],
  [
    'I',
    'fill between slices: the active label, drawn on a few slices of the view under the mouse, is interpolated into the slices between (one undo step)',
  ],
  ['Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y', 'undo, redo'],
  ['N', 'next label still to review: makes it active and goes to it'],
  ['Y / X', 'accept / reject the active label (a rejection asks for a reason)'],
  ['H', 'next review hotspot'],
  [', / .', 'previous / next case of the worklist (volseg serve --cohort)'],
  ['Esc', 'leave the editing tool, cancel the running job, close dialogs'],
  ['?', 'this help'],
]

export function mountOverlays(parent: HTMLElement, store: Store): void {
  const notices = el('div', { className: 'notices', role: 'status' })
  const loading = el('div', { className: 'loading', hidden: true })
  const help = el('div', { className: 'modal help', hidden: true, role: 'dialog' }, [
    el('h2', {}, ['Keyboard and mouse']),
    el(
      'table',
      {},
      SHORTCUTS.map(([k, what]) =>
        el('tr', {}, [el('td', {}, [el('kbd', {}, [k])]), el('td', {}, [what])]),
      ),
    ),
    el('p', { className: 'muted' }, [
      'Views use the radiological convention: the patient’s right is on the screen’s left in the axial and coronal views. Edge letters are computed from the image geometry. Coordinates are LPS millimetres (DICOM patient frame: +x left, +y posterior, +z superior).',
    ]),
    el('button', { textContent: 'Close', onclick: () => store.set({ help: false }) }),
  ])
  parent.append(notices, loading, help)
  let shown: unknown
  store.subscribe((s) => {
    help.hidden = !s.help
    loading.hidden = !s.loading
    loading.textContent = s.loading ?? ''
    if (s.notices === shown) return
    shown = s.notices
    setChildren(
      notices,
      s.notices.map((n, i) =>
        el('div', { className: `notice notice-${n.level}` }, [
          n.text,
          el('button', {
            className: 'dismiss',
            textContent: '×',
            title: 'Dismiss',
            onclick: () => store.set((st) => ({ notices: st.notices.filter((_, j) => j !== i) })),
          }),
        ]),
      ),
    )
  })
}

/**
 * The label list of the shown labelling: colour swatch, name, value, voxels and mL, active label,
 * rename, recolour, reorder, delete, hide; "New labelling" starts an empty one on the image grid.
 */
import type { Editor } from '../app/editor.js'
import type { Store } from '../app/state.js'
import { voxelVolumeMm3 } from '../../../src/core/segmentation/label-volume.js'
import { el, setChildren } from './dom.js'

const hex = (c: readonly number[]): string =>
  `#${c.map((x) => Math.round(x).toString(16).padStart(2, '0')).join('')}`

export function mountLabelsPanel(parent: HTMLElement, store: Store, ed: Editor): void {
  const list = el('ul', { className: 'edit-label-list' })
  const add = el('button', {
    className: 'add-label',
    textContent: 'Add label',
    onclick: () => ed.addLabel(),
  })
  const fresh = el('button', {
    className: 'new-labelling',
    textContent: 'New labelling',
    title: 'An empty label map on the open image grid, with one label',
    onclick: () => ed.newLabelling(),
  })
  parent.append(
    el('section', { className: 'panel labels-panel' }, [
      el('h2', {}, ['Label list']),
      list,
      el('div', {}, [add, ' ', fresh]),
    ]),
  )
  let last: unknown[] = []
  const draw = (force: boolean): void => {
    const s = store.state
    const key = [s.labelTable, s.editVersion, s.volume, ed.activeLabel]
    if (!force && key.every((k, n) => k === last[n])) return
    last = key
    fresh.disabled = !s.volume
    add.disabled = !s.labels
    const table = s.labelTable ?? []
    const mm3 = s.volume ? voxelVolumeMm3(s.volume.info.geometry) : 0
    setChildren(
      list,
      table.map((e, x) => {
        const n = ed.count(e.value)
        const colour = el('input', { type: 'color', className: 'swatch', value: hex(e.colour) })
        colour.onchange = () => {
          const v = colour.value
          ed.recolour(
            e.value,
            [1, 3, 5].map((p) => parseInt(v.slice(p, p + 2), 16)) as [number, number, number],
          )
        }
        const name = el('input', { type: 'text', className: 'label-name', value: e.name })
        name.onchange = () => {
          if (name.value.trim() !== '') ed.rename(e.value, name.value.trim())
        }
        const hide = el('input', {
          type: 'checkbox',
          className: 'label-hidden',
          checked: e.hidden,
          title: 'Hide',
        })
        hide.onchange = () => ed.setHidden(e.value, hide.checked)
        const btn = (
          cls: string,
          text: string,
          title: string,
          f: () => void,
          off = false,
        ): HTMLButtonElement =>
          el('button', { className: cls, textContent: text, title, onclick: f, disabled: off })
        return el(
          'li',
          {
            className: `edit-label-row${e.value === ed.activeLabel ? ' active' : ''}`,
            dataset: { value: String(e.value), voxels: String(n) },
            onclick: (ev: MouseEvent) => {
              if (ev.target === ev.currentTarget) ed.setActiveLabel(e.value)
            },
          },
          [
            el('input', {
              type: 'radio',
              name: 'active-label',
              className: 'label-active',
              checked: e.value === ed.activeLabel,
              title: 'Active label (the brush paints it)',
              onchange: () => ed.setActiveLabel(e.value),
            }),
            colour,
            name,
            el('span', { className: 'label-value muted' }, [` ${e.value} `]),
            el('span', { className: 'label-count muted' }, [
              `${n} vx · ${((n * mm3) / 1000).toFixed(2)} mL `,
            ]),
            el('label', { className: 'check' }, [hide, ' hide']),
            btn('label-up', '↑', 'Move up', () => ed.move(e.value, -1), x === 0),
            btn('label-down', '↓', 'Move down', () => ed.move(e.value, 1), x === table.length - 1),
            btn('label-delete', '✕', 'Delete this label and its voxels (undoable)', () =>
              ed.deleteLabel(e.value),
            ),
          ],
        )
      }),
    )
  }
  store.subscribe(() => draw(false))
  ed.onChange(() => draw(true))
}

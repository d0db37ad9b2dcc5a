/**
 * The label list of the shown labelling: colour swatch, name, value, voxels and mL, active label,
 * rename, recolour, reorder, delete, hide; "New labelling" starts an empty one on the image grid.
 * Each label carries its review state with Accept / Reject (a reason is asked for), and the
 * panel heads with the review progress ("4 of 10 labels reviewed") and the triage keys.
 */
import type { Editor } from '../app/editor.js'
import type { Store } from '../app/state.js'
import type { Triage } from '../app/triage.js'
import { voxelVolumeMm3 } from '../../../src/core/segmentation/label-volume.js'
import { reviewProgress, type ReviewStatus } from '../../../src/core/segmentation/review-state.js'
import { el, setChildren } from './dom.js'

const STATE_TEXT: Record<ReviewStatus['kind'], string> = {
  pending: 'pending',
  accepted: 'accepted',
  edited: 'edited',
  rejected: 'rejected',
}

const hex = (c: readonly number[]): string =>
  `#${c.map((x) => Math.round(x).toString(16).padStart(2, '0')).join('')}`

export function mountLabelsPanel(
  parent: HTMLElement,
  store: Store,
  ed: Editor,
  triage: Triage,
): void {
  const progress = el('p', { className: 'review-progress' })
  const keys = el('p', { className: 'muted review-keys' }, [
    'N next label · Y accept · X reject · H next hotspot',
  ])
  let reasonDraft = ''
  /** Why the last reason was refused; kept here because a redraw replaces the field. */
  let rejectProblem = ''
  let shownRejecting: number | undefined
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
      progress,
      keys,
      list,
      el('div', {}, [add, ' ', fresh]),
    ]),
  )
  let last: unknown[] = []
  const draw = (force: boolean): void => {
    const s = store.state
    const key = [s.labelTable, s.editVersion, s.volume, ed.activeLabel, triage.rejecting, s.review]
    if (!force && key.every((k, n) => k === last[n])) return
    last = key
    if (triage.rejecting !== shownRejecting) {
      // Another label (or none) awaits a reason: start its field empty.
      shownRejecting = triage.rejecting
      reasonDraft = rejectProblem = ''
    }
    fresh.disabled = !s.volume
    add.disabled = !s.labels
    const table = s.labelTable ?? []
    const review = s.review
    progress.hidden = keys.hidden = !review || table.length === 0
    if (review) {
      const shown = new Map([...review].filter(([v]) => table.some((e) => e.value === v)))
      progress.textContent = reviewProgress(shown).text
    }
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
            ...reviewLine(e.value),
          ],
        )
      }),
    )
  }
  /** The review state of label `v` and its buttons, or the reason field while rejecting. */
  function reviewLine(v: number): HTMLElement[] {
    const st = store.state.review?.get(v)
    if (!st) return []
    const chip = el(
      'span',
      {
        className: `review-state review-${st.kind}`,
        title: st.kind === 'edited' ? 'Changed after the model result' : '',
      },
      [st.kind === 'rejected' ? `rejected: ${st.reason}` : STATE_TEXT[st.kind]],
    )
    if (triage.rejecting === v) {
      const reason = el('input', {
        type: 'text',
        className: 'reject-reason',
        placeholder: 'Reason for rejecting (required)',
        value: reasonDraft,
      })
      const problem = el('span', { className: 'reject-problem' }, [rejectProblem])
      const submit = (): void => {
        const why = triage.reject(v, reason.value)
        rejectProblem = why ?? ''
        if (!why) reasonDraft = ''
        draw(true)
      }
      reason.oninput = () => (reasonDraft = reason.value)
      reason.onkeydown = (ev: KeyboardEvent) => {
        // Keep Enter and Escape here: Escape on the window would cancel a running job.
        if (ev.key === 'Enter' || ev.key === 'Escape') ev.stopPropagation()
        if (ev.key === 'Enter') submit()
        else if (ev.key === 'Escape') {
          reasonDraft = rejectProblem = ''
          triage.cancelReject()
        }
      }
      // Focus once it is in the document (the list is rebuilt right after this returns).
      queueMicrotask(() => reason.focus())
      return [
        el('div', { className: 'review-line' }, [
          chip,
          reason,
          el('button', { className: 'reject-confirm', textContent: 'Reject', onclick: submit }),
          el('button', {
            className: 'reject-cancel',
            textContent: 'Cancel',
            onclick: () => {
              reasonDraft = rejectProblem = ''
              triage.cancelReject()
            },
          }),
          problem,
        ]),
      ]
    }
    return [
      el('div', { className: 'review-line' }, [
        chip,
        el('button', {
          className: 'review-accept',
          textContent: 'Accept',
          title: 'Accept this label (Y on the active label)',
          disabled: st.kind === 'accepted',
          onclick: () => triage.accept(v),
        }),
        el('button', {
          className: 'review-reject',
          textContent: 'Reject…',
          title: 'Reject this label, with a reason (X on the active label)',
          onclick: () => triage.askReject(v),
        }),
        el('button', {
          className: 'review-reset',
          textContent: 'Undo decision',
          title: 'Back to pending',
          hidden: st.kind === 'pending' || st.kind === 'edited',
          onclick: () => triage.reset(v),
        }),
      ]),
    ]
  }
  store.subscribe(() => draw(false))
  ed.onChange(() => draw(true))
  triage.onChange(() => draw(true))
}

/**
 * The Worklist panel (`volseg serve --cohort`): the cohort's cases in the report's order with
 * their QC flags and review state, how many are reviewed, and previous/next case. Hidden when
 * the core serves no cohort.
 */
import type { WorklistCase } from '../../../src/shared/api.js'
import type { AppState, Store } from '../app/state.js'
import type { Worklist } from '../app/worklist.js'
import { el, setChildren } from './dom.js'

/** "3 of 12 cases reviewed". */
export function progressLine(reviewed: number, total: number): string {
  return `${reviewed} of ${total} ${total === 1 ? 'case' : 'cases'} reviewed`
}

/** The row's tooltip: the model's failure, each QC flag's sentence, rejection reasons. */
function details(c: WorklistCase): string {
  return [
    ...(c.error ? [`failed: ${c.error}`] : []),
    ...c.qc.map((f) => f.message),
    ...(c.review.reasons ?? []).map((r) => `rejected: ${r}`),
    ...(c.review.savedAt ? [`reviewed ${c.review.savedAt}`] : []),
  ].join('\n')
}

function row(c: WorklistCase, n: number, current: boolean, w: Worklist): HTMLElement {
  const chips = [
    ...(c.status === 'ok'
      ? []
      : [el('span', { className: `qc-chip status-${c.status}`, textContent: c.status })]),
    ...c.qc.map((f) =>
      el('span', {
        className: 'qc-chip',
        textContent: f.label ? `${f.code} (${f.label})` : f.code,
      }),
    ),
  ]
  const b = el(
    'button',
    { className: 'case', title: details(c), onclick: () => void w.open(c.id) },
    [
      el('span', { className: 'case-n', textContent: `${n}.` }),
      el('span', { className: 'case-id', textContent: c.id }),
      el('span', {
        className: `review-state review-${c.review.status}`,
        textContent: c.review.status,
      }),
    ],
  )
  b.dataset.caseId = c.id
  b.dataset.review = c.review.status
  const li = el('li', { className: current ? 'current' : '' }, [
    b,
    el('div', { className: 'qc-chips' }, chips),
  ])
  li.dataset.caseId = c.id
  return li
}

export function mountWorklistPanel(parent: HTMLElement, store: Store, w: Worklist): void {
  const title = el('h2', {}, ['Worklist'])
  const progress = el('div', { className: 'worklist-progress' })
  const prev = el('button', {
    className: 'previous-case',
    textContent: '◀ Previous (,)',
    title: 'Previous case of the worklist',
    onclick: () => void w.previous(),
  })
  const next = el('button', {
    className: 'next-case',
    textContent: 'Next (.) ▶',
    title: 'Next case of the worklist',
    onclick: () => void w.next(),
  })
  const list = el('ol', { className: 'worklist' })
  const section = el('section', { className: 'panel worklist-panel', hidden: true }, [
    title,
    progress,
    el('div', { className: 'worklist-steps' }, [prev, next]),
    list,
  ])
  parent.append(section)
  let shown: { w?: AppState['worklist']; at?: string } = {}
  store.subscribe((s) => {
    const at = s.volume?.info.caseId
    if (s.worklist === shown.w && at === shown.at) return
    shown = { w: s.worklist, at }
    section.hidden = !s.worklist
    if (!s.worklist) return
    const { list: wl, order } = s.worklist
    title.textContent = `Worklist · ${wl.name}`
    progress.textContent = progressLine(wl.reviewed, wl.cases.length)
    const byId = new Map(wl.cases.map((c) => [c.id, c]))
    setChildren(
      list,
      order.flatMap((id, n) => {
        const c = byId.get(id)
        return c ? [row(c, n + 1, id === at, w)] : []
      }),
    )
  })
}

/**
 * The cohort report as one self-contained HTML page: a sortable table (click a heading) and a
 * montage of one axial slice per case with the mask outline. No external resource: images are
 * `data:` URIs, style and script inline and pinned by their sha256 in the page's CSP. Every
 * string from the cohort (case ids, file names, error messages) is HTML-escaped: file names are
 * untrusted.
 */
import { createHash } from 'node:crypto'
import type { CohortReport } from '../shared/cohort-report.js'

/** Escapes the five HTML-significant characters (text and attribute values alike). */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;',
  )
}

const STYLE = `body{font:13px system-ui,sans-serif;margin:1em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}
th{cursor:pointer;background:#eee;position:sticky;top:0}td.n{text-align:right}
tr.failed td{background:#fdd}tr.flagged td{background:#ffe9c4}
.m{display:flex;flex-wrap:wrap;gap:8px}.m figure{margin:0;width:200px}
.m img{width:200px;image-rendering:pixelated;background:#000}.m figcaption{font-size:11px}`

// Sorts by the clicked column: numbers by value (data-v), others as text; a second click reverses.
const SCRIPT = `document.querySelectorAll('th').forEach(function(th,col){th.addEventListener('click',function(){
var tb=th.closest('table').tBodies[0],rows=Array.prototype.slice.call(tb.rows),dir=th.dataset.dir==='a'?-1:1;
th.dataset.dir=dir===1?'a':'d';rows.sort(function(a,b){var x=a.cells[col].dataset.v,y=b.cells[col].dataset.v;
var p=parseFloat(x),q=parseFloat(y);if(!isNaN(p)&&!isNaN(q))return (p-q)*dir;return String(x).localeCompare(String(y))*dir});
rows.forEach(function(r){tb.appendChild(r)})})})`

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('base64')

function cell(text: string, sortValue: string | number = text, numeric = false): string {
  return `<td${numeric ? ' class="n"' : ''} data-v="${escapeHtml(String(sortValue))}">${escapeHtml(text)}</td>`
}

/**
 * The montage of a page {@link cohortHtml} wrote: case id → PNG (base64), so that the page can be
 * written again with new review states without re-reading every image. Case ids are safe names
 * (`CASE_ID_RE`: no character `escapeHtml` changes), so they read back as written.
 */
export function montageOf(html: string): Map<string, string> {
  const figures = html.matchAll(
    /<figure><img alt="([^"]*)" src="data:image\/png;base64,([A-Za-z0-9+/=]+)">/g,
  )
  return new Map([...figures].map((f) => [f[1] as string, f[2] as string]))
}

/** The page; `pngs` maps case id → PNG bytes, base64. */
export function cohortHtml(r: CohortReport, pngs: ReadonlyMap<string, string>): string {
  const names = r.labels.map((l) => l.name)
  const head = [
    'case',
    'status',
    'review',
    'QC score',
    'QC flags',
    ...names.map((n) => `${n} (mL)`),
    'mean entropy',
    'provider',
    'seconds',
    'error',
    'input',
  ]
  const rows = r.cases.map((c) => {
    const cls = c.status === 'failed' ? 'failed' : c.qc.length > 0 ? 'flagged' : ''
    const num = (v: number | undefined, d: number): string =>
      v === undefined || !Number.isFinite(v) ? cell('', '') : cell(v.toFixed(d), v, true)
    return `<tr class="${cls}">${[
      cell(c.id),
      cell(c.status),
      cell(c.review.status),
      cell(String(c.qcScore), c.qcScore, true),
      cell(c.qc.map((f) => f.message).join('; ')),
      ...names.map((n) => num(c.volumesMl[n], 2)),
      num(c.meanEntropy, 4),
      cell(c.provider ?? ''),
      num(c.seconds, 1),
      cell(c.error ?? ''),
      cell(c.input.join('; ')),
    ].join('')}</tr>`
  })
  const figures = r.cases
    .filter((c) => pngs.has(c.id))
    .map(
      (c) =>
        `<figure><img alt="${escapeHtml(c.id)}" src="data:image/png;base64,${pngs.get(c.id) as string}">` +
        `<figcaption>${escapeHtml(c.id)}${c.qc.length > 0 ? ` — ${escapeHtml(c.qc.map((f) => f.code).join(', '))}` : ''}</figcaption></figure>`,
    )
  const csp = `default-src 'none'; img-src data:; style-src 'sha256-${sha(STYLE)}'; script-src 'sha256-${sha(SCRIPT)}'; base-uri 'none'; form-action 'none'`
  const by = (s: string): number => r.cases.filter((c) => c.status === s).length
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<title>VolSeg cohort report</title><style>${STYLE}</style></head><body>
<h1>Cohort report</h1>
<p>${escapeHtml(`${r.model.id} ${r.model.version} (sha256 ${r.model.sha256.slice(0, 12)}…); ${r.cases.length} cases: ${by('ok')} ok, ${by('failed')} failed, ${by('pending')} pending; generated ${r.generatedAt}`)}</p>
<p>Rows are in worklist order (not yet reviewed first, then worst QC first); click a heading to sort. Slices are axial, radiological (patient left on the right), through the mask's centroid.</p>
<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
<h2>Montage</h2>
<div class="m">
${figures.join('\n')}
</div>
<script>${SCRIPT}</script>
</body></html>
`
}

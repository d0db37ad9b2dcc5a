/**
 * Export: formats (NIfTI + sidecar, DICOM SEG, STL, OBJ, statistics), mesh frame, and the files
 * the core wrote into --out, each with the re-read check it passed.
 */
import { EXPORT_FORMAT_NAMES, type ExportFormatName } from '../../../src/shared/api.js'
import type { Controller } from '../app/controller.js'
import type { Store } from '../app/state.js'
import { el, formatBytes, setChildren } from './dom.js'

const LABELS: Readonly<Record<ExportFormatName, string>> = {
  nifti: 'NIfTI + sidecar',
  seg: 'DICOM SEG (DICOM sources)',
  stl: 'STL meshes',
  obj: 'OBJ meshes',
  stats: 'Statistics (CSV + JSON)',
}

export function mountExportPanel(parent: HTMLElement, store: Store, ctl: Controller): void {
  const boxes = EXPORT_FORMAT_NAMES.map((f) => {
    const box = el('input', { type: 'checkbox', className: `export-${f}`, checked: f !== 'obj' })
    return { f, box, label: el('label', { className: 'check' }, [box, ` ${LABELS[f]}`]) }
  })
  const ras = el('input', { type: 'checkbox', className: 'export-ras' })
  const go = el('button', { className: 'export', textContent: 'Export' })
  const result = el('div', { className: 'export-result' })
  parent.append(
    el('section', { className: 'panel export-panel' }, [
      el('h2', {}, ['Export']),
      ...boxes.map((b) => b.label),
      el('label', { className: 'check' }, [ras, ' Meshes in RAS (default LPS)']),
      go,
      result,
    ]),
  )
  const run = async (): Promise<void> => {
    go.disabled = true
    result.textContent = 'Exporting…'
    try {
      const formats = boxes.filter((b) => b.box.checked && !b.box.disabled).map((b) => b.f)
      const r = await ctl.exportLabels(formats, ras.checked)
      setChildren(
        result,
        r
          ? r.files.map((f) =>
              el('div', { className: 'export-file', title: f.check }, [
                `${f.path} (${formatBytes(f.bytes)})`,
              ]),
            )
          : ['Not exported'],
      )
    } finally {
      go.disabled = !store.state.labels
    }
  }
  go.onclick = () => void run()
  store.subscribe((s) => {
    const seg = boxes.find((b) => b.f === 'seg')!
    // A SEG references DICOM images: offered for DICOM sources only.
    seg.box.disabled = s.volume?.info.study === undefined
    go.disabled = !s.labels
  })
}

/**
 * Export: formats (NIfTI + sidecar, DICOM SEG, STL, OBJ, statistics), mesh frame, and the files
 * the core wrote into --out, each with the re-read check it passed; and Snapshot: a PNG of the
 * views as shown, saved into --out with its sidecar (the panel says where).
 */
import { EXPORT_FORMAT_NAMES, type ExportFormatName } from '../../../src/shared/api.js'
import type { Controller } from '../app/controller.js'
import { deltaLine, exportOnScreen } from '../app/export-labels.js'
import { snapshotOnScreen } from '../app/save-snapshot.js'
import type { Store } from '../app/state.js'
import type { Snapshot } from '../views/snapshot.js'
import { el, formatBytes, setChildren } from './dom.js'

const LABELS: Readonly<Record<ExportFormatName, string>> = {
  nifti: 'NIfTI + sidecar',
  seg: 'DICOM SEG (DICOM sources)',
  stl: 'STL meshes',
  obj: 'OBJ meshes',
  stats: 'Statistics (CSV + JSON)',
}

export function mountExportPanel(
  parent: HTMLElement,
  store: Store,
  ctl: Controller,
  capture: () => Promise<Snapshot>,
): void {
  const boxes = EXPORT_FORMAT_NAMES.map((f) => {
    const box = el('input', { type: 'checkbox', className: `export-${f}`, checked: f !== 'obj' })
    return { f, box, label: el('label', { className: 'check' }, [box, ` ${LABELS[f]}`]) }
  })
  const ras = el('input', { type: 'checkbox', className: 'export-ras' })
  const go = el('button', { className: 'export', textContent: 'Export' })
  const result = el('div', { className: 'export-result' })
  const shoot = el('button', {
    className: 'snapshot',
    textContent: 'Snapshot (PNG)',
    title: 'Saves a PNG of the four views as shown (with the labels) into the output folder',
  })
  const shot = el('div', { className: 'snapshot-result' })
  parent.append(
    el('section', { className: 'panel export-panel' }, [
      el('h2', {}, ['Export']),
      ...boxes.map((b) => b.label),
      el('label', { className: 'check' }, [ras, ' Meshes in RAS (default LPS)']),
      go,
      result,
      shoot,
      shot,
    ]),
  )
  const run = async (): Promise<void> => {
    go.disabled = true
    result.textContent = 'Exporting…'
    try {
      const formats = boxes.filter((b) => b.box.checked && !b.box.disabled).map((b) => b.f)
      const r = await exportOnScreen(ctl.exportContext(), formats, ras.checked)
      setChildren(
        result,
        r
          ? [
              ...r.files.map((f) =>
                el('div', { className: 'export-file', title: f.check }, [
                  `${f.path} (${formatBytes(f.bytes)})`,
                ]),
              ),
              el('div', { className: 'export-delta' }, [deltaLine(r)]),
            ]
          : ['Not exported'],
      )
    } finally {
      go.disabled = !store.state.labels
    }
  }
  go.onclick = () => void run()
  shoot.onclick = async () => {
    shoot.disabled = true
    shot.textContent = 'Saving the snapshot…'
    try {
      const r = await snapshotOnScreen(ctl.exportContext(), capture)
      const outDir = store.state.hello?.outDirName
      setChildren(shot, [
        r
          ? el('div', { className: 'snapshot-file', title: r.check }, [
              `${outDir ? `${outDir}/` : ''}${r.path} (${r.width}×${r.height}, ${formatBytes(r.bytes)}) + ${r.sidecarPath}`,
            ])
          : 'No snapshot saved',
      ])
    } finally {
      shoot.disabled = !store.state.volume
    }
  }
  store.subscribe((s) => {
    const seg = boxes.find((b) => b.f === 'seg')!
    // A SEG references DICOM images: offered for DICOM sources only.
    seg.box.disabled = s.volume?.info.study === undefined
    go.disabled = !s.labels
    if (shot.textContent !== 'Saving the snapshot…') shoot.disabled = !s.volume
  })
}

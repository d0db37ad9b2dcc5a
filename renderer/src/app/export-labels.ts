/**
 * The viewer's Export: the labels on screen (uploaded first when edited) and the review go to
 * the core's `exportLabels`, which writes the files into `--out` in a job worker.
 */
import type { ExportFormatName, ExportSummary, LabelsId, Result } from '../../../src/shared/api.js'
import { toReviewRecord } from '../../../src/core/segmentation/review-record.js'
import type { ApiClient } from '../api/connect.js'
import { maskFileName } from './save-names.js'
import type { Store } from './state.js'

/**
 * The id of the core's copy of the labels on screen: the held map when it is current, else the
 * edited voxels uploaded first (undefined, with a notice, when that failed).
 */
export async function labelsInCore(c: ExportContext): Promise<LabelsId | undefined> {
  const s = c.store.state
  if (!s.volume || !s.labels) return undefined
  const labelsId = s.labels.header.labelsId
  if (c.coreCopy?.labelsId === labelsId && c.coreCopy.version === s.editVersion) return labelsId
  const v = s.labels.voxels
  const up = c.value(
    await c.api.uploadLabels({
      volumeId: s.volume.info.volumeId,
      dataType: v instanceof Uint16Array ? 'uint16' : 'uint8',
      sizeIJK: s.volume.info.geometry.sizeIJK,
      bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
      // The map the edits started from: an export then records the model's output against them.
      derivedFrom: labelsId,
    }),
    'Could not hand the edited mask to the core',
  )
  return up?.labelsId
}

/** What the export needs from the controller. */
export interface ExportContext {
  readonly api: ApiClient['api']
  readonly store: Store
  /** The core's copy of the labels, as the controller last handed them over. */
  readonly coreCopy: { readonly labelsId: LabelsId; readonly version: number } | undefined
  /** Unwraps a result, or shows its error (the controller's). */
  readonly value: <T>(r: Result<T>, what: string) => T | undefined
}

/**
 * Exports the labels on screen (with the review) into `--out` as `formats`; files are named
 * `<mask stem>-export-<UTC time>.*`. Returns what the core wrote, or undefined (notified).
 */
export async function exportOnScreen(
  c: ExportContext,
  formats: readonly ExportFormatName[],
  ras: boolean,
): Promise<ExportSummary | undefined> {
  const s = c.store.state
  if (!s.volume || !s.labels) {
    c.store.notify('info', 'Nothing to export yet: run a model or open a mask first.')
    return undefined
  }
  if (formats.length === 0) {
    c.store.notify('info', 'Choose at least one export format.')
    return undefined
  }
  const volumeId = s.volume.info.volumeId
  const labelsId = await labelsInCore(c)
  if (labelsId === undefined) return undefined
  const review =
    s.labelTable && s.review ? toReviewRecord(s.labelTable, s.review, new Date()) : undefined
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)
  const name = `${maskFileName(s.volume.info.name).replace(/\.nii\.gz$/, '')}-export-${stamp}`
  const r = await c.api.exportLabels({
    volumeId,
    labelsId,
    name,
    formats,
    ...(ras ? { ras: true } : {}),
    ...(review ? { review } : {}),
  })
  const summary = c.value(r, 'Could not export')
  if (summary) {
    const outDir = s.hello?.outDirName
    c.store.notify(
      'info',
      `Exported ${summary.files.length} files to ${outDir ? `${outDir}/` : ''}${name}.*; ${deltaLine(summary)}`,
    )
  }
  return summary
}

/** "model vs final: label 1 +120 −35 voxels, Dice 0.9981", or why there is no delta. */
export function deltaLine(s: ExportSummary): string {
  if (!s.aiDelta) return `no model-vs-final delta: ${s.aiDeltaAbsent ?? 'no model output known'}`
  const parts = s.aiDelta.map(
    (c) => `label ${c.value} +${c.added} −${c.removed} voxels, Dice ${c.dice.toFixed(4)}`,
  )
  return `model vs final: ${parts.join('; ')}`
}

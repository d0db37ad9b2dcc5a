/**
 * The viewer's Snapshot: the views as shown, composed into one PNG (views/snapshot.ts), go with
 * the review to the core's `saveSnapshot`, which writes `<image stem>-snapshot-<UTC time>.png`
 * and its `.snapshot.json` sidecar into `--out` in a job worker.
 */
import type { SnapshotReport } from '../../../src/shared/api.js'
import { toReviewRecord } from '../../../src/core/segmentation/review-record.js'
import type { Snapshot } from '../views/snapshot.js'
import type { ExportContext } from './export-labels.js'
import { maskFileName } from './save-names.js'

/**
 * Captures the views with `capture` and saves the PNG under `--out`; says where it went (or why
 * not) in a notice. Returns what the core wrote, or undefined.
 */
export async function snapshotOnScreen(
  c: ExportContext,
  capture: () => Promise<Snapshot>,
): Promise<SnapshotReport | undefined> {
  const s = c.store.state
  if (!s.volume) {
    c.store.notify('info', 'Nothing to take a snapshot of yet: open an image first.')
    return undefined
  }
  let shot: Snapshot
  try {
    shot = await capture()
  } catch (e) {
    c.store.notify(
      'error',
      `Could not capture the views: ${e instanceof Error ? e.message : String(e)}`,
    )
    return undefined
  }
  const review =
    s.labels && s.labelTable && s.review
      ? toReviewRecord(s.labelTable, s.review, new Date())
      : undefined
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)
  const name = `${maskFileName(s.volume.info.name).replace(/_seg\.nii\.gz$/, '')}-snapshot-${stamp}`
  const r = await c.api.saveSnapshot({
    volumeId: s.volume.info.volumeId,
    ...(s.labels && s.overlay.visible ? { labelsId: s.labels.header.labelsId } : {}),
    name,
    views: shot.views,
    ...(review && s.overlay.visible ? { review } : {}),
    bytes: shot.png,
  })
  const report = c.value(r, 'Could not save the snapshot')
  if (report) {
    const outDir = s.hello?.outDirName
    c.store.notify(
      'info',
      `Snapshot saved to ${outDir ? `${outDir}/` : ''}${report.path} (${report.width}×${report.height}), provenance in ${report.sidecarPath}`,
    )
  }
  return report
}

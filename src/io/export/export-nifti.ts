/**
 * NIfTI export: the label map on the exact source grid (index → LPS mm of the source; the file's
 * qform/sform hold the same grid as affineRAS), written and verified by the mask writer
 * (src/io/nifti/write-nifti-mask.ts: re-read, geometry within 1e-4 mm, every voxel equal).
 */
import type { VolumeGeometry } from '../../shared/geometry.js'
import type { MaskVerification } from '../../shared/mask-verification.js'
import { describeVerification } from '../../shared/mask-verification.js'
import type { LabelArray } from '../../core/segmentation/label-volume.js'
import { writeMaskNifti } from '../nifti/write-nifti-mask.js'
import { exportPath, fileRecord, type ExportSink } from './export-files.js'

/** What {@link exportNifti} wrote. */
export interface NiftiExport {
  readonly path: string
  readonly bytes: number
  readonly sha256: string
  readonly verification: MaskVerification
  readonly check: string
}

/**
 * Writes `labels` (i fastest, on `geometry`) as `name` (`.nii.gz`) in the sink's folder:
 * atomic, never over a source, verified by re-reading before it is published.
 */
export async function exportNifti(
  sink: ExportSink,
  name: string,
  labels: LabelArray,
  geometry: VolumeGeometry,
  descrip: string,
): Promise<NiftiExport> {
  const target = await exportPath(sink, name)
  const r = await writeMaskNifti({
    path: target,
    labels,
    geometry,
    sourceFiles: sink.protect,
    descrip: descrip.slice(0, 79),
    ...(sink.overwrite ? {} : { noReplace: true }),
  })
  const rec = await fileRecord(r.path)
  return {
    path: r.path,
    bytes: r.bytes,
    sha256: rec.sha256,
    verification: r.verification,
    check: `re-read as NIfTI: ${describeVerification(r.verification)}`,
  }
}

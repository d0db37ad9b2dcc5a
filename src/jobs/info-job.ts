import type { SeriesInfo, VolumeInfo } from '../shared/info.js'
import { affineRAS, orientationLetters } from '../core/geometry/affine.js'
import { openVolume, type OpenOptions, type OpenedVolume } from '../io/open-volume.js'
import type { DicomSeriesSummary } from '../io/dicom/read-dicom.js'

const finiteOrNull = (x: number | undefined): number | null =>
  x !== undefined && Number.isFinite(x) ? x : null

export function seriesInfo(s: DicomSeriesSummary): SeriesInfo {
  return {
    key: s.key,
    index: s.index,
    uid: s.seriesInstanceUID,
    description: s.description,
    seriesNumber: s.seriesNumber ?? null,
    modality: s.modality,
    fileCount: s.fileCount,
    rows: s.rows,
    columns: s.columns,
    warnings: s.warnings,
  }
}

/** Builds the JSON report of an opened volume. */
export function describe(input: readonly string[], o: OpenedVolume): VolumeInfo {
  const v = o.volume
  const n = o.nifti
  return {
    input,
    format: o.format,
    fileCount: o.files.length,
    sizeIJK: v.sizeIJK,
    spacingMm: v.spacingMm,
    originLPS: v.originLPS,
    directionLPS: v.directionLPS,
    affineRAS: affineRAS(v),
    orientation: orientationLetters(v.directionLPS),
    pixelType: v.pixelType,
    intensityRange: [finiteOrNull(o.intensityRange[0]), finiteOrNull(o.intensityRange[1])],
    warnings: o.warnings,
    ...(o.dicom
      ? {
          series: o.dicom.series.map(seriesInfo),
          chosenSeries: o.dicom.chosen.key,
          skipped: o.dicom.skipped,
          transferSyntaxes: o.dicom.transferSyntaxes,
          ...(o.dicom.tilt ? { gantryTilt: o.dicom.tilt } : {}),
        }
      : {}),
    ...(n
      ? {
          nifti: {
            version: n.version,
            datatype: n.datatype,
            qform_code: n.xforms.qform_code,
            sform_code: n.xforms.sform_code,
            geometrySource: n.geometrySource,
            qformSformDisagreementMm: finiteOrNull(n.xforms.disagreementMm),
            qformSformDisagreementDeg: finiteOrNull(n.xforms.disagreementDeg),
            sformSheared: n.xforms.sformSheared,
            scl_slope: finiteOrNull(n.scl_slope),
            scl_inter: finiteOrNull(n.scl_inter),
            scalingApplied: n.scalingApplied,
          },
        }
      : {}),
  }
}

/** Opens the input and describes it (the `volseg info` job). */
export async function runInfo(
  input: readonly string[],
  options: OpenOptions = {},
): Promise<VolumeInfo> {
  return describe(input, await openVolume(input, options))
}

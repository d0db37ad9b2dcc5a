/**
 * Statistics export: one row per label, as CSV and JSON. Voxels, volume (mL), source-image
 * intensity mean/std/min/median/max (real-world values), bounding box and centroid of the voxel
 * centres in LPS mm, and the area (mm²) of the label's marching-cubes surface (the 3-D view's
 * surface before smoothing, in LPS mm).
 */
import type { ExportLabel, ExportLabelStats } from '../../shared/export.js'
import type { VolumeGeometry } from '../../shared/geometry.js'
import type { IntensityArray, LabelArray } from '../../core/segmentation/label-volume.js'
import { labelStatistics } from '../../core/segmentation/label-statistics.js'
import { labelSurfaceLPS, surfaceAreaMm2 } from '../../core/segmentation/label-surface.js'
import { labelBoxes } from '../../core/segmentation/surfaces.js'
import { publish, sameBytesCheck, type ExportSink } from './export-files.js'

/** Per-label statistics of `labels` over `image` (both on `geometry`), for the chosen `table` entries. */
export function computeLabelStats(
  labels: LabelArray,
  image: IntensityArray,
  geometry: VolumeGeometry,
  table: readonly ExportLabel[],
): ExportLabelStats[] {
  const stats = labelStatistics(
    labels,
    image,
    geometry,
    table.map((l) => l.value),
  )
  const boxes = labelBoxes(labels, geometry.sizeIJK)
  return stats.map((s) => {
    const box = boxes.get(s.value)
    const area = box ? surfaceAreaMm2(labelSurfaceLPS(labels, geometry, s.value, box, false)) : 0
    return {
      value: s.value,
      name: table.find((l) => l.value === s.value)?.name ?? `label ${s.value}`,
      voxels: s.voxels,
      volumeMl: s.volumeMl,
      intensityMean: s.intensity.mean,
      intensityStd: s.intensity.std,
      intensityMin: s.intensity.min,
      intensityMedian: s.intensity.median,
      intensityMax: s.intensity.max,
      bboxMinLPS: s.bboxLPS.min,
      bboxMaxLPS: s.bboxLPS.max,
      centroidLPS: s.centroidLPS,
      surfaceAreaMm2: area,
    }
  })
}

/** CSV column names, in order. */
export const STATS_COLUMNS = [
  'value',
  'name',
  'voxels',
  'volume_ml',
  'intensity_mean',
  'intensity_std',
  'intensity_min',
  'intensity_median',
  'intensity_max',
  'bbox_min_l_mm',
  'bbox_min_p_mm',
  'bbox_min_s_mm',
  'bbox_max_l_mm',
  'bbox_max_p_mm',
  'bbox_max_s_mm',
  'centroid_l_mm',
  'centroid_p_mm',
  'centroid_s_mm',
  'surface_area_mm2',
] as const

/** A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
function field(x: string | number): string {
  const s = typeof x === 'number' ? String(x) : x
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** The statistics as CSV text (header row, one row per label, numbers in full precision). */
export function statsCsv(rows: readonly ExportLabelStats[]): string {
  const lines = [STATS_COLUMNS.join(',')]
  for (const r of rows) {
    lines.push(
      [
        r.value,
        r.name,
        r.voxels,
        r.volumeMl,
        r.intensityMean,
        r.intensityStd,
        r.intensityMin,
        r.intensityMedian,
        r.intensityMax,
        ...r.bboxMinLPS,
        ...r.bboxMaxLPS,
        ...r.centroidLPS,
        r.surfaceAreaMm2,
      ]
        .map(field)
        .join(','),
    )
  }
  return `${lines.join('\n')}\n`
}

/** Writes `<stem>.stats.csv` and `<stem>.stats.json` (the rows plus `extra`), each atomic and re-read. */
export async function exportStats(
  sink: ExportSink,
  stem: string,
  rows: readonly ExportLabelStats[],
  extra: Readonly<Record<string, unknown>>,
): Promise<{ path: string; bytes: number; sha256: string; check: string; kind: 'csv' | 'json' }[]> {
  const csv = new TextEncoder().encode(statsCsv(rows))
  const json = new TextEncoder().encode(
    `${JSON.stringify({ frame: 'LPS', units: { volume: 'mL', position: 'mm', area: 'mm2' }, labels: rows, ...extra }, null, 2)}\n`,
  )
  const a = await publish(sink, `${stem}.stats.csv`, csv, sameBytesCheck(csv))
  const b = await publish(sink, `${stem}.stats.json`, json, sameBytesCheck(json, true))
  return [
    { ...a, kind: 'csv' },
    { ...b, kind: 'json' },
  ]
}

/**
 * Groups scanned DICOM headers into series. A group is one regular stack: same
 * SeriesInstanceUID, orientation (to 1e-4, Slicer PR #7362 splits on orientation), image size,
 * echo number and temporal position. A stack of Siemens mosaic files is split into its volumes
 * (one file each). Nothing is picked here: callers list the groups.
 */
import type { DicomSliceHeader, SkippedFile } from './dicom-slice.js'

export interface SeriesGroup {
  /** Stable key: SeriesInstanceUID, plus a suffix when one UID splits into several stacks. */
  readonly key: string
  readonly seriesInstanceUID: string
  readonly seriesDescription: string
  readonly seriesNumber: number | undefined
  readonly modality: string
  readonly rows: number
  readonly columns: number
  readonly slices: readonly DicomSliceHeader[]
  /**
   * Set when the group is one volume of a 4-D series stored one volume per file (Siemens
   * mosaics: a time series or DWI): its 1-based place in AcquisitionNumber/InstanceNumber order
   * and the number of volumes.
   */
  readonly volume?: { readonly index: number; readonly count: number }
}

export interface GroupResult {
  readonly series: readonly SeriesGroup[]
  readonly skipped: readonly SkippedFile[]
}

/** Why a header cannot be part of an image stack, or undefined if it can. */
export function nonImageReason(h: DicomSliceHeader): string | undefined {
  if (!h.hasPixelData) {
    return `no pixel data (a ${h.modality ?? 'non-image'} object${h.sopClassUID ? `, SOP class ${h.sopClassUID}` : ''})`
  }
  if (!h.rows || !h.columns) return 'no Rows/Columns'
  return undefined
}

export function groupSeries(headers: readonly DicomSliceHeader[]): GroupResult {
  const skipped: SkippedFile[] = []
  const buckets = new Map<string, DicomSliceHeader[]>()
  for (const h of headers) {
    const why = nonImageReason(h)
    if (why !== undefined) {
      skipped.push({ file: h.file, reason: why, code: 'E_NO_IMAGES' })
      continue
    }
    const iop = h.imageOrientationPatient?.map((v) => v.toFixed(4)).join(',') ?? 'none'
    const sub = `${h.rows}x${h.columns}|${iop}|e${h.echoNumber ?? ''}|t${h.temporalPosition ?? ''}${h.siemensMosaic ? '|mosaic' : ''}`
    const id = `${h.seriesInstanceUID ?? '(no series UID)'}\u0000${sub}`
    let list = buckets.get(id)
    if (!list) buckets.set(id, (list = []))
    list.push(h)
  }
  const byUid = new Map<string, number>()
  const series: SeriesGroup[] = []
  for (const [id, slices] of [...buckets.entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    const first = slices[0] as DicomSliceHeader
    const uid = id.split('\u0000')[0] as string
    const n = (byUid.get(uid) ?? 0) + 1
    byUid.set(uid, n)
    series.push({
      key: n === 1 ? uid : `${uid}#${n}`,
      seriesInstanceUID: uid,
      seriesDescription: first.seriesDescription ?? '',
      seriesNumber: first.seriesNumber,
      modality: first.modality ?? '',
      rows: first.rows as number,
      columns: first.columns as number,
      slices,
    })
  }
  // A UID that splits into several stacks gets "#1" on its first stack too, so every key names one stack.
  const result = series.map((s) =>
    (byUid.get(s.seriesInstanceUID) ?? 1) > 1 && s.key === s.seriesInstanceUID
      ? { ...s, key: `${s.key}#1` }
      : s,
  )
  result.sort((a, b) => (a.seriesNumber ?? 0) - (b.seriesNumber ?? 0) || (a.key < b.key ? -1 : 1))
  return { series: result.flatMap(splitMosaicVolumes), skipped }
}

/**
 * A stack of Siemens mosaics is a 4-D series, one volume per file (they may share positions or
 * not: nibabel's 0.dcm and 1.dcm are 3 mm apart): one group per volume, in AcquisitionNumber then
 * InstanceNumber order, keyed `<stack key>:vol<k>`.
 */
function splitMosaicVolumes(s: SeriesGroup): SeriesGroup[] {
  if (s.slices.length < 2 || !s.slices[0]?.siemensMosaic) return [s]
  const order = [...s.slices].sort(
    (a, b) =>
      (a.acquisitionNumber ?? 0) - (b.acquisitionNumber ?? 0) ||
      (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0) ||
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0),
  )
  return order.map((h, i) => ({
    ...s,
    key: `${s.key}:vol${i + 1}`,
    slices: [h],
    volume: { index: i + 1, count: order.length },
  }))
}

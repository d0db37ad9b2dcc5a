/**
 * What the viewer's header shows about a DICOM study and series, and the pure formatting of the
 * DICOM values it comes from (PN, DA). No DOM, no Node.
 */
import type { StudyInfo } from '../../shared/api.js'

/**
 * A DICOM Person Name (PN) value as PACS show it: `DOE^JOHN^A^DR^JR` → `DOE, DR JOHN A, JR`
 * (family name, then prefix, given and middle names, then suffix). Only the first (alphabetic)
 * component group is used (`=` separates ideographic and phonetic forms). Empty components are
 * dropped; an all-empty name answers `undefined`.
 */
export function formatPersonName(pn: string | undefined): string | undefined {
  if (pn === undefined) return undefined
  const alphabetic = (pn.split('=')[0] ?? '').trim()
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = alphabetic
    .split('^')
    .map((s) => s.trim())
  const first = [prefix, given, middle].filter((s) => s !== '').join(' ')
  const name = [family, first].filter((s) => s !== '').join(', ')
  const full = suffix !== '' && name !== '' ? `${name}, ${suffix}` : name || suffix
  return full === '' ? undefined : full
}

/**
 * A DICOM Date (DA) `YYYYMMDD` as ISO `YYYY-MM-DD`; the old `YYYY.MM.DD` form is accepted too.
 * Anything else is answered as it is (trimmed), or `undefined` when empty.
 */
export function formatDicomDate(da: string | undefined): string | undefined {
  const s = da?.trim()
  if (!s) return undefined
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(s)
  return m ? `${m[1]}-${m[2]}-${m[3]}` : s
}

/** The raw study tags of one file, as read (strings trimmed, undefined when absent). */
export interface StudyTags {
  readonly patientName?: string | undefined
  readonly patientId?: string | undefined
  readonly studyDate?: string | undefined
  readonly studyDescription?: string | undefined
  readonly seriesNumber?: number | undefined
  readonly seriesDescription?: string | undefined
  readonly modality?: string | undefined
}

/**
 * The study info shown for an opened series: patient name readable, date ISO, empty values left
 * out. Answers `undefined` when nothing is known.
 */
export function studyInfo(t: StudyTags): StudyInfo | undefined {
  const out: { -readonly [K in keyof StudyInfo]: StudyInfo[K] } = {}
  const name = formatPersonName(t.patientName)
  if (name) out.patientName = name
  if (t.patientId?.trim()) out.patientId = t.patientId.trim()
  const date = formatDicomDate(t.studyDate)
  if (date) out.studyDate = date
  if (t.studyDescription?.trim()) out.studyDescription = t.studyDescription.trim()
  if (t.seriesNumber !== undefined && Number.isFinite(t.seriesNumber)) {
    out.seriesNumber = t.seriesNumber
  }
  if (t.seriesDescription?.trim()) out.seriesDescription = t.seriesDescription.trim()
  if (t.modality?.trim()) out.modality = t.modality.trim()
  return Object.keys(out).length === 0 ? undefined : out
}

/**
 * One line for the viewer's header: `DOE, JOHN · ID 123 · 2024-01-31 · CHEST CT · series 3 AXIAL`.
 * Never a UID.
 */
export function studyLine(s: StudyInfo): string {
  const series = [
    s.seriesNumber === undefined ? '' : `series ${s.seriesNumber}`,
    s.seriesDescription ?? '',
  ]
    .filter((x) => x !== '')
    .join(' ')
  return [
    s.patientName ?? '',
    s.patientId ? `ID ${s.patientId}` : '',
    s.studyDate ?? '',
    s.studyDescription ?? '',
    series,
  ]
    .filter((x) => x !== '')
    .join(' · ')
}

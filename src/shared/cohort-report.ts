/**
 * The merged cohort report (`cohort/report.json`; `report.csv` holds the same rows). Plain JSON.
 */
import { CASE_ID_RE } from './cohort.js'
import { AppError } from './errors.js'
import type { Vec3 } from './geometry.js'

export const COHORT_REPORT_SCHEMA = 'volseg-cohort-report/1'

export interface CohortQcFlag {
  /** `failed`, `empty-mask`, `volume-outlier`, `wrong-side`, … (see `src/core/cohort/qc-flags.ts`). */
  readonly code: string
  readonly label?: string
  readonly message: string
}

export interface CohortReportRow {
  readonly id: string
  /** `pending`: no shard has written a result for this case yet. */
  readonly status: 'ok' | 'failed' | 'pending'
  readonly input: readonly string[]
  /** Mask path relative to the cohort folder. */
  readonly output: string
  readonly provider?: string
  readonly device?: string
  readonly seconds?: number
  readonly attempts?: number
  readonly shard?: string
  readonly error?: string
  /** Per foreground label name, mL. */
  readonly volumesMl: Readonly<Record<string, number>>
  /** Per foreground label name, robust z of the volume within the cohort (null: not computed). */
  readonly volumeZ: Readonly<Record<string, number | null>>
  /** Per foreground label name, centroid in LPS mm. */
  readonly centroidsLPS: Readonly<Record<string, Vec3>>
  readonly bodyCentroidLPS?: Vec3
  /** Mean entropy (0–1) inside the mask, from the uncertainty map. */
  readonly meanEntropy?: number
  readonly qc: readonly CohortQcFlag[]
  /** Sum of flag weights: the worklist order (highest first). */
  readonly qcScore: number
  /**
   * The reviewer's verdict, from the newest `<case>_seg[-N].review.json` in `masks/` (what the
   * viewer saves beside a mask): `rejected` when any label is, else `edited` when any label is,
   * `accepted` when all are, otherwise `pending` (also when there is no review).
   */
  readonly review: {
    readonly status: 'pending' | 'accepted' | 'edited' | 'rejected'
    /** Review file, relative to the cohort folder. */
    readonly file?: string
    readonly savedAt?: string
    /** Reasons given for rejected labels. */
    readonly reasons?: readonly string[]
  }
}

export interface CohortReport {
  readonly schema: typeof COHORT_REPORT_SCHEMA
  readonly generatedAt: string
  readonly model: { readonly id: string; readonly version: string; readonly sha256: string }
  readonly labels: readonly {
    readonly value: number
    readonly name: string
    readonly side?: string
  }[]
  /** Worklist order: cases not reviewed yet first, then QC score descending, then id. */
  readonly cases: readonly CohortReportRow[]
}

const REVIEW_STATES = ['pending', 'accepted', 'edited', 'rejected']
const CASE_STATES = ['ok', 'failed', 'pending']

/**
 * Checks a parsed `report.json` as far as the worklist reads it (schema, model, labels, and per
 * case its id, status, QC flags, score and review state); `E_BAD_HEADER` naming `file` and the
 * first bad field. The figures are passed through as written.
 */
export function parseCohortReport(x: unknown, file: string): CohortReport {
  const bad = (what: string): never => {
    throw new AppError('E_BAD_HEADER', `not a VolSeg cohort report: ${what}`, { file })
  }
  const obj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
  if (!obj(x) || x.schema !== COHORT_REPORT_SCHEMA) {
    return bad(`schema must be "${COHORT_REPORT_SCHEMA}"`)
  }
  if (!obj(x.model) || typeof x.model.id !== 'string' || typeof x.model.version !== 'string') {
    return bad('model must have id and version')
  }
  if (!Array.isArray(x.labels)) return bad('labels must be a list')
  if (!Array.isArray(x.cases)) return bad('cases must be a list')
  x.cases.forEach((c: unknown, i: number) => {
    const at = `cases[${i}]`
    if (!obj(c) || typeof c.id !== 'string' || !CASE_ID_RE.test(c.id)) return bad(`${at}.id`)
    if (!CASE_STATES.includes(c.status as string)) return bad(`${at}.status`)
    if (!Array.isArray(c.qc) || !c.qc.every((f) => obj(f) && typeof f.code === 'string')) {
      return bad(`${at}.qc`)
    }
    if (typeof c.qcScore !== 'number' || !Number.isFinite(c.qcScore)) return bad(`${at}.qcScore`)
    if (!obj(c.review) || !REVIEW_STATES.includes(c.review.status as string)) {
      return bad(`${at}.review.status`)
    }
    return undefined
  })
  return x as unknown as CohortReport
}

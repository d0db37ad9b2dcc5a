/**
 * What a segmentation job reports: per-case results (label volumes in mL, timings, provider) and
 * the events streamed while it runs. Plain JSON: crosses process and network boundaries.
 */
import type { ErrorCode } from './errors.js'
import type { InputCheck } from './input-fit.js'
import type { MaskVerification } from './mask-verification.js'

export type ProviderName = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml'

/** One case of a batch: the input path(s) and where its mask goes. */
export interface SegmentCase {
  /** Case id (file name without extension, or DICOM folder name); names the outputs. */
  readonly id: string
  readonly input: readonly string[]
  readonly output: string
  readonly uncertaintyOutput?: string
  readonly seriesKey?: string
}

export interface SegmentJobSpec {
  readonly cases: readonly SegmentCase[]
  /** Installed pack id or pack folder path. */
  readonly model: string
  readonly ep: ProviderName | 'auto'
  readonly tta: boolean
  /**
   * Not overwriting: skip cases whose output exists (resumable batches), and publish every mask
   * and uncertainty map without replacing a file that appeared while the case ran (that case
   * fails, naming it). False with `--overwrite`: outputs are replaced.
   */
  readonly skipExisting: boolean
  /** Tiles per network run. */
  readonly batch?: number
  /** Memory the engine may plan for, bytes. */
  readonly maxBytes?: number
  /** Where the worker writes the batch report (CSV and JSON), when wanted. */
  readonly report?: { readonly csv: string; readonly json: string }
  /** Run inputs that do not suit the model's card (wrong modality) anyway, with a warning. */
  readonly force?: boolean
}

export interface ModelReport {
  readonly id: string
  readonly version: string
  readonly sha256: string
  readonly provider: ProviderName
  readonly device: string
  readonly rewrites: readonly string[]
  /** Providers tried by `auto`, with the reason each was not kept. */
  readonly attempts: readonly {
    provider: string
    ok: boolean
    tried: boolean
    reason?: string
    maxProbDiff?: number
  }[]
  readonly loadMs: number
}

export interface LabelVolume {
  readonly value: number
  readonly name: string
  readonly voxels: number
  readonly volumeMl: number
}

export interface CaseReport {
  readonly id: string
  readonly input: readonly string[]
  readonly output: string
  readonly status: 'ok' | 'skipped' | 'failed'
  readonly error?: { code: ErrorCode; message: string; file?: string }
  readonly labels?: readonly LabelVolume[]
  readonly uncertaintyOutput?: string
  readonly uncertaintyKind?: 'entropy' | 'tta-variance' | 'none'
  readonly sizeIJK?: readonly number[]
  readonly spacingMm?: readonly number[]
  readonly modelShape?: readonly number[]
  readonly tiles?: number
  readonly networkRuns?: number
  readonly plannedMemoryBytes?: number
  readonly warnings?: readonly string[]
  readonly timingsMs?: Readonly<Record<string, number>>
  /** The input checked against the model card before running (absent for skipped cases). */
  readonly inputCheck?: InputCheck
  /** What the re-read of the written mask compared (a mismatch fails the case with E_VERIFY). */
  readonly verification?: MaskVerification
  /** The same for the uncertainty map, when one was written. */
  readonly uncertaintyVerification?: MaskVerification
}

export interface BatchReport {
  readonly model: ModelReport
  readonly tta: boolean
  readonly cases: readonly CaseReport[]
}

export type SegmentEvent =
  | { readonly kind: 'model'; readonly model: ModelReport }
  | { readonly kind: 'case-start'; readonly index: number; readonly id: string }
  | {
      readonly kind: 'progress'
      readonly index: number
      readonly stage: 'read' | 'preprocess' | 'inference' | 'postprocess' | 'write'
      readonly done: number
      readonly total: number
    }
  | {
      readonly kind: 'plan'
      readonly index: number
      readonly plannedMemoryBytes: number
      readonly modelShape: readonly number[]
      readonly tiles: number
      readonly networkRuns: number
    }
  | { readonly kind: 'case-end'; readonly index: number; readonly report: CaseReport }
  /** Something the user should know before the result (e.g. an unfit input run with --force). */
  | { readonly kind: 'warning'; readonly index: number; readonly message: string }

const csvCell = (s: string | number): string =>
  /[",\n]/.test(String(s)) ? `"${String(s).replace(/"/g, '""')}"` : String(s)

/** `ok`, `mismatch`, `mismatch, forced`, or empty when the case was not checked. */
function checkCell(c: CaseReport): string {
  const k = c.inputCheck
  if (!k) return ''
  return k.ok ? 'ok' : k.forced ? 'mismatch, forced' : 'mismatch'
}

/**
 * The report as CSV: one row per case, one `<label> (mL)` column per label, then the input check
 * against the card (`input check`, and its evidence or reason).
 */
export function reportCsv(r: BatchReport): string {
  const names = [
    ...new Set(
      r.cases.flatMap((c) => (c.labels ?? []).filter((l) => l.value !== 0).map((l) => l.name)),
    ),
  ]
  const head = [
    'case',
    'status',
    'input',
    'output',
    ...names.map((n) => `${n} (mL)`),
    'provider',
    'seconds',
    'error',
    'input check',
    'input check evidence',
  ]
  const rows = r.cases.map((c) => [
    c.id,
    c.status,
    c.input.join(';'),
    c.output,
    ...names.map((n) => {
      const l = c.labels?.find((x) => x.name === n)
      return l ? l.volumeMl.toFixed(3) : ''
    }),
    r.model.provider,
    c.timingsMs?.total === undefined ? '' : (c.timingsMs.total / 1000).toFixed(2),
    c.error?.message ?? '',
    checkCell(c),
    c.inputCheck ? (c.inputCheck.reason ?? c.inputCheck.evidence) : '',
  ])
  return [head, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n'
}

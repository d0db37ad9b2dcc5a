/**
 * A cohort: the manifest every shard reads (`cohort/manifest.json`), the per-case result each
 * shard writes (`cohort/results/<case>.json`), and the merged report rows. Plain JSON.
 *
 * Paths in a manifest: inputs are absolute (the data must be mounted at the same place on every
 * node, as SLURM and Kubernetes volumes are); outputs are relative to the cohort folder, so the
 * cohort folder itself may be mounted anywhere.
 */
import { AppError } from './errors.js'
import type { CaseReport } from './segment-report.js'

export const COHORT_MANIFEST_SCHEMA = 'volseg-cohort-manifest/1'
export const COHORT_RESULT_SCHEMA = 'volseg-cohort-result/1'

export interface CohortCase {
  /** Unique case id; names the outputs. Cases are sorted by id in the manifest. */
  readonly id: string
  /** Absolute input path(s): one image file or DICOM folder. */
  readonly input: readonly string[]
  /** sha256 (hex) of the input bytes when planned (a folder: its files in name order). */
  readonly inputSha256: string
  /** The mask, relative to the cohort folder. */
  readonly output: string
  /** The uncertainty map, relative to the cohort folder, when planned. */
  readonly uncertaintyOutput?: string
  readonly seriesKey?: string
}

export interface CohortManifest {
  readonly schema: typeof COHORT_MANIFEST_SCHEMA
  readonly createdAt: string
  /** How many shards the plan was made for (`--shard k/N` with this N). */
  readonly shards: number
  /** The pack every shard must run: `ref` is what `--model` resolves (an id or a folder). */
  readonly model: {
    readonly ref: string
    readonly id: string
    readonly version: string
    readonly sha256: string
  }
  readonly cases: readonly CohortCase[]
}

/** What one shard wrote for one case (`results/<id>.json`), after its last attempt. */
export interface CohortCaseResult {
  readonly schema: typeof COHORT_RESULT_SCHEMA
  readonly id: string
  readonly status: 'ok' | 'failed'
  /** Attempts made in the run that wrote this (1, or 2 after a retry). */
  readonly attempts: number
  /** sha256 of the input that was segmented. */
  readonly inputSha256: string
  readonly modelSha256: string
  /** `k/n` of the shard that wrote it. */
  readonly shard: string
  readonly provider?: string
  readonly device?: string
  /** Wall seconds of the successful (or last) attempt. */
  readonly seconds?: number
  readonly finishedAt: string
  readonly report: CaseReport
}

/** Parses `k/n` (1-based k); `E_ARGS` naming the value otherwise. */
export function parseShard(shard: string): { k: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(shard)
  const k = Number(m?.[1])
  const n = Number(m?.[2])
  if (!m || !(n >= 1) || !(k >= 1 && k <= n)) {
    throw new AppError('E_ARGS', `--shard must be k/n with 1 ≤ k ≤ n (got "${shard}")`)
  }
  return { k, n }
}

/**
 * Shard `k` of `n` of the manifest's cases: every n-th case from the k-th, in manifest (id)
 * order. Deterministic: every shard computes the same partition from the same manifest.
 */
export function casesOfShard<T>(cases: readonly T[], k: number, n: number): T[] {
  return cases.filter((_, i) => i % n === k - 1)
}

const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)
const isStr = (x: unknown): x is string => typeof x === 'string' && x.length > 0
const SHA_RE = /^[0-9a-f]{64}$/

/** Case ids become file names: letters, digits, `.`, `_`, `-`; no leading dot. */
export const CASE_ID_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/

/**
 * True for the name of a review saved beside one of case `id`'s masks in `masks/`:
 * `<id>_seg.review.json` or `<id>_seg-N.review.json` (the viewer's numbered saves), which is
 * what `volseg cohort report` reads a case's review from.
 */
export function isCaseReviewName(id: string, name: string): boolean {
  const head = `${id}_seg`
  const tail = '.review.json'
  if (!name.startsWith(head) || !name.endsWith(tail)) return false
  return /^(-\d+)?$/.test(name.slice(head.length, name.length - tail.length))
}

/** Validates a parsed `manifest.json`; `E_BAD_HEADER` naming `file` and the first bad field. */
export function parseCohortManifest(x: unknown, file: string): CohortManifest {
  const bad = (what: string): never => {
    throw new AppError('E_BAD_HEADER', `not a VolSeg cohort manifest: ${what}`, { file })
  }
  if (!isObj(x)) return bad('not a JSON object')
  if (x.schema !== COHORT_MANIFEST_SCHEMA) return bad(`schema must be "${COHORT_MANIFEST_SCHEMA}"`)
  if (!(Number.isInteger(x.shards) && (x.shards as number) >= 1)) return bad('shards must be ≥ 1')
  const m = x.model
  if (!isObj(m) || !isStr(m.ref) || !isStr(m.id) || !isStr(m.version) || !isStr(m.sha256)) {
    return bad('model must have ref, id, version and sha256')
  }
  if (!SHA_RE.test(m.sha256)) return bad('model.sha256 must be 64 hex digits')
  if (!Array.isArray(x.cases)) return bad('cases must be a list')
  const ids = new Set<string>()
  x.cases.forEach((c: unknown, i: number) => {
    const at = `cases[${i}]`
    if (!isObj(c)) return bad(`${at} is not an object`)
    if (!isStr(c.id) || !CASE_ID_RE.test(c.id)) return bad(`${at}.id is not a safe case id`)
    if (ids.has(c.id)) return bad(`${at}.id "${c.id}" repeats`)
    ids.add(c.id)
    if (!Array.isArray(c.input) || c.input.length === 0 || !c.input.every(isStr)) {
      return bad(`${at}.input must be a list of paths`)
    }
    if (!isStr(c.inputSha256) || !SHA_RE.test(c.inputSha256)) {
      return bad(`${at}.inputSha256 must be 64 hex digits`)
    }
    for (const k of ['output', 'uncertaintyOutput'] as const) {
      const v = c[k]
      if (v === undefined && k === 'uncertaintyOutput') continue
      // Outputs stay inside the cohort folder.
      if (!isStr(v) || v.startsWith('/') || v.split(/[\\/]/).includes('..')) {
        return bad(`${at}.${k} must be a path inside the cohort folder`)
      }
    }
    return undefined
  })
  return x as unknown as CohortManifest
}

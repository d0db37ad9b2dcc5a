/**
 * `volseg cohort plan`: the list of cases every shard will see (`manifest.json`), made once:
 * case ids, inputs, outputs inside the cohort folder, each input's sha256 and the model's
 * identity. Written atomically; nothing is segmented here.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, readdir, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve } from 'node:path'
import {
  CASE_ID_RE,
  COHORT_MANIFEST_SCHEMA,
  type CohortCase,
  type CohortManifest,
} from '../shared/cohort.js'
import { AppError } from '../shared/errors.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { hashFileInto } from '../io/file-sha256.js'
import { loadModelPack } from '../inference/ort/model-store.js'

const IMAGE_EXT = /\.(nii|nii\.gz|nrrd|nhdr|mha|mhd)$/i
/** Our own outputs, which may sit beside the inputs: never cases. */
const OUR_OUTPUT = /_(seg|uncertainty)\.nii\.gz$/i

export interface CohortPlanOptions {
  /** A folder (image files and DICOM sub-folders are cases) or a `.csv` list. */
  readonly source: string
  readonly outDir: string
  readonly shards: number
  /** `--model`: installed id or pack folder. */
  readonly model: string
  /** Plan an uncertainty map per case (entropy; the report's uncertainty QC). Default true. */
  readonly uncertainty?: boolean
  /** Replace an existing manifest (its results stay and are re-validated by hash). */
  readonly overwrite?: boolean
}

/** A file name turned into a case id (unsafe characters → `_`). */
export function caseIdFromName(name: string): string {
  const base = name.replace(IMAGE_EXT, '').replace(/[^A-Za-z0-9._-]/g, '_')
  const id = base.replace(/^\.+/, '_')
  return id.length > 0 ? id.slice(0, 200) : 'case'
}

/**
 * sha256 (hex) of an input: a file's bytes; for a folder (DICOM) every file below it in name
 * order, each as its relative path, a NUL, then its bytes. `E_NOT_FOUND` naming the path.
 */
export async function hashInput(paths: readonly string[]): Promise<string> {
  const h = createHash('sha256')
  const walk = async (p: string, root: string): Promise<void> => {
    let s
    try {
      s = await stat(p)
    } catch {
      throw new AppError('E_NOT_FOUND', 'no such file or folder', { file: p })
    }
    if (s.isDirectory()) {
      for (const n of (await readdir(p)).sort()) await walk(join(p, n), root)
      return
    }
    // A FIFO or device would block (or never end): not an input.
    if (!s.isFile()) {
      throw new AppError('E_UNSUPPORTED', 'not a regular file or folder', { file: p })
    }
    if (paths.length > 1 || p !== root) h.update(`${relative(root, p)}\0`)
    await hashFileInto(p, h)
  }
  for (const p of paths) await walk(p, p)
  return h.digest('hex')
}

interface Listed {
  readonly id: string
  readonly input: string[]
  readonly seriesKey?: string
}

/** A CSV cell list, RFC 4180 quoting. */
function csvRow(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let q = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string
    if (q) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (ch === '"') q = false
      else cur += ch
    } else if (ch === '"') q = true
    else if (ch === ',') {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out.map((s) => s.trim())
}

/**
 * Cases from a CSV list: a header naming an `input` (or `path`) column, optionally `id` and
 * `series`; or no header and one path per line. Relative paths are relative to the CSV's folder.
 */
async function listFromCsv(csv: string): Promise<Listed[]> {
  const text = await readFile(csv, 'utf8')
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'))
  if (lines.length === 0) throw new AppError('E_EMPTY', 'the case list is empty', { file: csv })
  const head = csvRow(lines[0] as string).map((s) => s.toLowerCase())
  const inputCol = head.findIndex((h) => h === 'input' || h === 'path')
  const hasHeader = inputCol >= 0
  const idCol = head.indexOf('id')
  const seriesCol = head.indexOf('series')
  const base = dirname(resolve(csv))
  return lines.slice(hasHeader ? 1 : 0).map((line, i) => {
    const cells = csvRow(line)
    const raw = cells[hasHeader ? inputCol : 0] ?? ''
    if (raw === '') {
      throw new AppError('E_BAD_HEADER', `line ${i + (hasHeader ? 2 : 1)} has no input path`, {
        file: csv,
      })
    }
    const input = resolve(base, raw)
    const given = idCol >= 0 ? cells[idCol] : undefined
    const series = seriesCol >= 0 ? cells[seriesCol] : undefined
    return {
      id: given !== undefined && given !== '' ? given : caseIdFromName(basename(input)),
      input: [input],
      ...(series !== undefined && series !== '' ? { seriesKey: series } : {}),
    }
  })
}

/** Cases from a folder: each image file, and each sub-folder (one DICOM series). */
async function listFromFolder(dir: string): Promise<Listed[]> {
  const out: Listed[] = []
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    if (e.name.startsWith('.')) continue
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push({ id: caseIdFromName(e.name), input: [p] })
    else if (IMAGE_EXT.test(e.name) && !OUR_OUTPUT.test(e.name)) {
      out.push({ id: caseIdFromName(e.name), input: [p] })
    }
  }
  return out
}

/** Writes `<outDir>/manifest.json`; resolves to the manifest. */
export async function planCohort(o: CohortPlanOptions): Promise<CohortManifest> {
  if (!(Number.isInteger(o.shards) && o.shards >= 1)) {
    throw new AppError('E_ARGS', `--shards must be a positive integer (got ${o.shards})`)
  }
  const source = resolve(o.source)
  let s
  try {
    s = await stat(source)
  } catch {
    throw new AppError('E_NOT_FOUND', 'no such folder or case list', { file: o.source })
  }
  const listed = s.isDirectory() ? await listFromFolder(source) : await listFromCsv(source)
  if (listed.length === 0) {
    throw new AppError('E_EMPTY', 'no cases found (image files, DICOM folders)', { file: source })
  }
  const seen = new Map<string, string>()
  for (const c of listed) {
    if (!CASE_ID_RE.test(c.id)) {
      throw new AppError('E_ARGS', `case id "${c.id}" is not safe as a file name`, {
        file: source,
      })
    }
    const prev = seen.get(c.id)
    if (prev !== undefined) {
      throw new AppError(
        'E_ARGS',
        `two cases have the id "${c.id}": ${prev} and ${c.input[0]} (give an id column)`,
        { file: source },
      )
    }
    seen.set(c.id, c.input[0] as string)
  }
  const pack = await loadModelPack(o.model)
  const outDir = resolve(o.outDir)
  const manifestPath = join(outDir, 'manifest.json')
  if (!o.overwrite && (await stat(manifestPath).catch(() => undefined))) {
    throw new AppError('E_WRITE', 'a manifest exists; pass --overwrite to plan again', {
      file: manifestPath,
    })
  }
  const wantUnc = o.uncertainty !== false
  const cases: CohortCase[] = []
  for (const c of [...listed].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    cases.push({
      id: c.id,
      input: c.input,
      inputSha256: await hashInput(c.input),
      output: `masks/${c.id}_seg.nii.gz`,
      ...(wantUnc ? { uncertaintyOutput: `uncertainty/${c.id}_uncertainty.nii.gz` } : {}),
      ...(c.seriesKey === undefined ? {} : { seriesKey: c.seriesKey }),
    })
  }
  const isPath = o.model.includes('/') || o.model.includes('\\')
  const manifest: CohortManifest = {
    schema: COHORT_MANIFEST_SCHEMA,
    createdAt: new Date().toISOString(),
    shards: o.shards,
    model: {
      ref: isPath ? resolve(o.model) : o.model,
      id: pack.card.id,
      version: pack.card.version,
      sha256: pack.card.sha256,
    },
    cases,
  }
  for (const d of ['', 'masks', 'uncertainty', 'results', 'logs']) {
    await mkdir(join(outDir, d), { recursive: true })
  }
  await writeFileAtomic(
    manifestPath,
    new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
    { protect: cases.flatMap((c) => c.input) },
  )
  return manifest
}

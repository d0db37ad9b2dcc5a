/**
 * `volseg` command line. Every failure prints one line on stderr starting with `volseg:` and
 * exits 1; no stack traces.
 */
import { readFileSync } from 'node:fs'
import { AppError, toAppError } from '../shared/errors.js'
import type { SeriesInfo } from '../shared/info.js'
import { replyValue, runJob } from '../jobs/fork-runner.js'
import { importModelPack } from '../jobs/import-model.js'
import { formatInfo, formatModels, formatSeriesTable } from './format-info.js'
import { cohortCommand, segmentManifestCommand } from './cohort.js'
import { exportCommand } from './export.js'
import { segmentCommand } from './segment.js'
import { serveCommand, serveOptions } from './serve.js'

const USAGE = `usage: volseg <command> [options]

commands:
  info <path...> [--json] [--series KEY|N] [--timeout SECONDS]
      Describe an image: a NIfTI (.nii/.nii.gz), NRRD, MHA/MHD file, a DICOM file,
      a DICOM folder (searched recursively) or a list of DICOM files.
  segment <input...> -o <out> [--model ID|PATH] [--ep auto|cpu|webgpu|cuda|dml|coreml]
          [--tta] [--uncertainty FILE|DIR] [--shard K/N] [--overwrite] [--json]
          [--series KEY|N] [--batch N] [--max-memory GIB] [--timeout SECONDS] [--force]
      Segment images with a model pack (default brain-extract). One input and -o x.nii.gz
      writes that file; several inputs, or a folder of image files, is a batch: -o is a
      folder, masks are <case>_seg.nii.gz, existing ones are skipped (resumable), and
      volseg-report.csv/.json hold per-label volumes in mL. --shard K/N runs every N-th
      case from the K-th (sorted by name), for array jobs across machines. The memory a
      run needs is planned and printed first; a run over --max-memory (default 60 % of
      RAM) is refused before allocating. An input that does not suit the model's card
      (a CT for an MR model, by DICOM Modality or by its HU values) is refused; --force
      runs it anyway with a warning.
  segment --manifest <cohort>/manifest.json [--shard K/N] [--ep ...] [--overwrite]
          [--case-timeout SECONDS]
      Run shard K of N of a planned cohort (every N-th case of the manifest from the K-th):
      finished cases with an unchanged input sha256 are skipped, a failed case is retried
      once then reported; results/<case>.json and logs/<case>.log are written atomically.
      A case past --case-timeout fails (E_TIMEOUT) and the rest go on.
  cohort plan <folder|list.csv> --shards N -o <cohort> [--model ID|PATH] [--no-uncertainty]
      Write <cohort>/manifest.json: case ids, inputs, outputs, input sha256, model sha256.
  cohort report <cohort> [--json] [--timeout SECONDS]
      Merge the shards' results into report.csv, report.json and a self-contained
      report.html (sortable table, slice montage), with QC flags across the cohort.
  export <mask.nii.gz> --reference <image|DICOM folder> -o <folder>
         [--format nifti|seg|stl|obj|stats|all] [--labels 1,3] [--ras] [--raw-surface]
         [--review FILE] [--ai MODEL_MASK] [--run-report FILE] [--model ID] [--overwrite] [--json]
      Export a label map on the reference's grid: NIfTI + JSON sidecar, DICOM SEG (DICOM
      references only), one STL/OBJ mesh per label (patient mm, LPS; --ras for RAS), and
      per-label statistics (CSV + JSON). Every file is written atomically into the folder,
      re-read and checked; an existing name is refused unless --overwrite. Provenance (model,
      source checksums or UIDs, review states, AI-vs-final delta with --ai) is in
      <mask stem>.export.json; the review file beside the mask is used when present.
  models [--json]
      List installed model packs and execution providers.
  models add <pack-folder>
      Validate a pack (model.onnx + model.json) and install it for this user.
  models import nnunet <results-folder | plans.json dataset.json> --onnx model.onnx
          [--configuration 3d_fullres] [--fold N|all] [--id ID] [--licence L] [--intended-use T]
  models import monai <bundle-folder> [--onnx models/model.onnx] [--id ID] [--licence L]
          [--spacing A,B,C|none] [--orientation RAS|as-stored] [--normalisation JSON]
          [--patch A,B,C] [--modality CT] [--label-names a,b,...]
      Build the card from the model's own configuration (MONAI: configs/metadata and
      inference .json or .yaml; nnU-Net: plans.json, dataset.json, the fold's summary.json),
      check it against the ONNX graph, and install the pack atomically for this user.
  serve [--port N] [--host 127.0.0.1] [--data DIR] [--out DIR] [--open] [--max-frame MIB]
        [--max-volumes N] [--max-workers N] [--max-segmentations N] [--recovery DIR]
        [--open-source FILE] [--cohort DIR]
      Serve the browser UI and the API on http://127.0.0.1:N (default 8787, 0 = any free
      port) behind a one-time token; prints "VolSeg serving at <url>". --data is the folder
      the UI may open (default test/fixtures of the package, else the current folder),
      --out where masks are saved (default ./volseg-out). Another --host is a warning.
      Limits shared by every viewer: volumes open (default 8), jobs running at once
      (default the CPU count, 2-8), segmentations at once (default 1; they share 60 % of
      RAM). What a closed page held is released 20 s later unless it reloads.
      --recovery keeps backups of unsaved edits, outside --data and --out (default
      $XDG_STATE_HOME/volseg/recovery, else ~/.local/state/volseg/recovery).
      --open-source: a file under --data the page opened by --open shows first.
      --cohort: a planned cohort folder (manifest.json, results/): the viewer's Worklist
      opens its cases in report order (worst QC first) and saves each review beside the
      case's mask (masks/<case>_seg-N.nii.gz + .review.json), then writes the report again.
  --help, --version`

interface Parsed {
  readonly command: string | undefined
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

const VALUE_FLAGS = new Set([
  '--series',
  '--timeout',
  '--out',
  '--model',
  '--ep',
  '--uncertainty',
  '--shard',
  '--batch',
  '--max-memory',
  '--port',
  '--host',
  '--data',
  '--max-frame',
  '--recovery',
  '--max-volumes',
  '--max-workers',
  '--max-segmentations',
  '--manifest',
  '--shards',
  '--onnx',
  '--configuration',
  '--fold',
  '--id',
  '--licence',
  '--intended-use',
  '--spacing',
  '--orientation',
  '--normalisation',
  '--patch',
  '--modality',
  '--label-names',
  '--case-timeout',
  '--open-source',
  '--cohort',
  '--reference',
  '--format',
  '--labels',
  '--review',
  '--ai',
  '--run-report',
])

export function parseArgs(argv: readonly string[]): Parsed {
  const positional: string[] = []
  const flags = new Map<string, string | true>()
  let command: string | undefined
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i] as string
    if (a === '-o') a = '--out'
    if (a === '--') {
      positional.push(...argv.slice(i + 1))
      break
    }
    if (a.startsWith('--')) {
      const [name, inline] = a.split(/=(.*)/s, 2) as [string, string | undefined]
      if (VALUE_FLAGS.has(name)) {
        const value = inline ?? argv[++i]
        if (value === undefined) throw new AppError('E_ARGS', `${name} needs a value`)
        flags.set(name, value)
      } else flags.set(name, true)
    } else if (command === undefined) command = a
    else positional.push(a)
  }
  return { command, positional, flags }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}

function fail(e: unknown, json: boolean): number {
  const err = toAppError(e, 'E_INTERNAL')
  const series = (err.details as { series?: SeriesInfo[] } | undefined)?.series
  if (json) {
    process.stdout.write(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`)
  } else if (series && series.length > 0) {
    process.stdout.write(`${formatSeriesTable(series.map(toSeriesInfo))}\n`)
  }
  const hint = err.code === 'E_MULTIPLE_SERIES' ? ' (pass --series N or --series KEY)' : ''
  process.stderr.write(
    `volseg: ${err.file ? `${err.file}: ` : ''}${err.message.replace(/\s+/g, ' ')}${hint}\n`,
  )
  return 1
}

// Series in error details come from the worker as DicomSeriesSummary objects.
function toSeriesInfo(
  s: SeriesInfo | { seriesInstanceUID: string; seriesNumber?: number },
): SeriesInfo {
  const x = s as unknown as Record<string, unknown>
  return {
    ...(s as SeriesInfo),
    uid: (x.uid ?? x.seriesInstanceUID) as string,
    seriesNumber: (x.seriesNumber ?? null) as number | null,
  }
}

async function info(p: Parsed): Promise<number> {
  const json = p.flags.has('--json')
  if (p.positional.length === 0) {
    throw new AppError('E_ARGS', 'info needs a path (file, DICOM folder or DICOM files)')
  }
  const series = p.flags.get('--series')
  const timeout = timeoutSeconds(p, 600)
  const reply = await runJob(
    {
      kind: 'info',
      input: p.positional,
      options: typeof series === 'string' ? { seriesKey: series } : {},
    },
    { timeoutMs: timeout * 1000 },
  )
  const value = replyValue(reply)
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${formatInfo(value)}\n`)
  return 0
}

const EPS = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const

function timeoutSeconds(p: Parsed, fallback: number): number {
  const t = Number(p.flags.get('--timeout') ?? fallback)
  if (!(t > 0)) throw new AppError('E_ARGS', '--timeout must be a positive number of seconds')
  return t
}

async function segment(p: Parsed): Promise<number> {
  const manifest = p.flags.get('--manifest')
  if (typeof manifest === 'string') return segmentWithManifest(p, manifest)
  if (p.positional.length === 0) {
    throw new AppError('E_ARGS', 'segment needs an input (file or folder)')
  }
  const out = p.flags.get('--out')
  if (typeof out !== 'string') {
    throw new AppError('E_ARGS', 'segment needs -o <output file or folder>')
  }
  const ep = (p.flags.get('--ep') ?? 'auto') as (typeof EPS)[number]
  if (!EPS.includes(ep)) throw new AppError('E_ARGS', `--ep must be one of ${EPS.join(', ')}`)
  const str = (k: string): string | undefined => {
    const v = p.flags.get(k)
    if (v === true) throw new AppError('E_ARGS', `${k} needs a value`)
    return v
  }
  const batch = str('--batch')
  if (batch !== undefined && !(Number.isInteger(Number(batch)) && Number(batch) >= 1)) {
    throw new AppError('E_ARGS', '--batch must be a positive integer')
  }
  const maxMemory = str('--max-memory')
  if (maxMemory !== undefined && !(Number(maxMemory) > 0)) {
    throw new AppError('E_ARGS', '--max-memory must be a positive number of GiB')
  }
  const uncertainty = str('--uncertainty')
  const shard = str('--shard')
  const series = str('--series')
  return segmentCommand({
    inputs: p.positional,
    out,
    model: str('--model') ?? 'brain-extract',
    ep,
    tta: p.flags.has('--tta'),
    overwrite: p.flags.has('--overwrite'),
    json: p.flags.has('--json'),
    force: p.flags.has('--force'),
    timeoutS: timeoutSeconds(p, 24 * 3600),
    ...(uncertainty === undefined ? {} : { uncertainty }),
    ...(shard === undefined ? {} : { shard }),
    ...(series === undefined ? {} : { seriesKey: series }),
    ...(batch === undefined ? {} : { batch: Number(batch) }),
    ...(maxMemory === undefined ? {} : { maxBytes: Math.floor(Number(maxMemory) * 2 ** 30) }),
  })
}

async function segmentWithManifest(p: Parsed, manifest: string): Promise<number> {
  if (p.positional.length > 0 || p.flags.has('--out')) {
    throw new AppError('E_ARGS', '--manifest takes no inputs or -o: the manifest names them')
  }
  const ep = (p.flags.get('--ep') ?? 'auto') as (typeof EPS)[number]
  if (!EPS.includes(ep)) throw new AppError('E_ARGS', `--ep must be one of ${EPS.join(', ')}`)
  const shard = p.flags.get('--shard')
  const caseTimeout = p.flags.get('--case-timeout')
  if (caseTimeout !== undefined && !(Number(caseTimeout) > 0)) {
    throw new AppError('E_ARGS', '--case-timeout must be a positive number of seconds')
  }
  return segmentManifestCommand({
    ...(caseTimeout === undefined ? {} : { caseTimeoutS: Number(caseTimeout) }),
    manifest,
    ...(typeof shard === 'string' ? { shard } : {}),
    ep,
    tta: p.flags.has('--tta'),
    overwrite: p.flags.has('--overwrite'),
    force: p.flags.has('--force'),
    json: p.flags.has('--json'),
    timeoutS: timeoutSeconds(p, 24 * 3600),
  })
}

async function models(p: Parsed): Promise<number> {
  if (p.positional[0] === 'add') {
    const dir = p.positional[1]
    if (dir === undefined) throw new AppError('E_ARGS', 'models add needs a pack folder')
    const r = await runJob({ kind: 'add-model', dir }, { timeoutMs: 120_000 })
    if (!r.ok) {
      throw new AppError(
        r.error.code,
        r.error.message,
        r.error.file === undefined ? {} : { file: r.error.file },
      )
    }
    process.stdout.write(`installed ${r.value.id} ${r.value.card.version} → ${r.value.dir}\n`)
    return 0
  }
  if (p.positional[0] === 'import') {
    const format = p.positional[1]
    if (format !== 'nnunet' && format !== 'monai') {
      throw new AppError('E_ARGS', 'models import needs nnunet or monai')
    }
    const opt = (k: string): string | undefined => {
      const v = p.flags.get(k)
      if (v === true) throw new AppError('E_ARGS', `${k} needs a value`)
      return v
    }
    const o = Object.fromEntries(
      (
        [
          ['onnx', '--onnx'],
          ['configuration', '--configuration'],
          ['fold', '--fold'],
          ['id', '--id'],
          ['licence', '--licence'],
          ['intendedUse', '--intended-use'],
          ['spacing', '--spacing'],
          ['orientation', '--orientation'],
          ['normalisation', '--normalisation'],
          ['patch', '--patch'],
          ['modality', '--modality'],
          ['labelNames', '--label-names'],
        ] as const
      )
        .map(([k, f]) => [k, opt(f)] as const)
        .filter(([, v]) => v !== undefined),
    )
    const e = await importModelPack({ format, paths: p.positional.slice(2), ...o })
    process.stdout.write(`installed ${e.id} ${e.card.version} → ${e.dir}\n`)
    return 0
  }
  if (p.positional.length > 0) {
    throw new AppError('E_ARGS', `unknown models subcommand "${p.positional[0]}"`)
  }
  const r = await runJob({ kind: 'models' }, { timeoutMs: 120_000 })
  if (!r.ok) throw new AppError(r.error.code, r.error.message)
  if (p.flags.has('--json')) {
    process.stdout.write(`${JSON.stringify(r.value, null, 2)}\n`)
    return 0
  }
  process.stdout.write(formatModels(r.value))
  return 0
}

export async function main(argv: readonly string[]): Promise<number> {
  let json = argv.includes('--json')
  try {
    const p = parseArgs(argv)
    json = p.flags.has('--json')
    if (p.flags.has('--version')) {
      process.stdout.write(`${version()}\n`)
      return 0
    }
    if (p.command === undefined || p.flags.has('--help') || p.command === 'help') {
      process.stdout.write(`${USAGE}\n`)
      return p.command === undefined && !p.flags.has('--help') ? 1 : 0
    }
    switch (p.command) {
      case 'info':
        return await info(p)
      case 'segment':
        return await segment(p)
      case 'models':
        return await models(p)
      case 'cohort':
        return await cohortCommand(p.positional, p.flags)
      case 'export':
        return await exportCommand(p, timeoutSeconds(p, 3600))
      case 'serve':
        if (p.positional.length > 0) {
          throw new AppError('E_ARGS', `serve takes no arguments (got "${p.positional[0]}")`)
        }
        return await serveCommand(serveOptions(p.flags))
      default:
        throw new AppError('E_ARGS', `unknown command "${p.command}" (try volseg --help)`)
    }
  } catch (e) {
    return fail(e, json)
  }
}

/**
 * `volseg` command line. Every failure prints one line on stderr starting with `volseg:` and
 * exits 1; no stack traces.
 */
import { readFileSync } from 'node:fs'
import { AppError, toAppError } from '../shared/errors.js'
import type { SeriesInfo } from '../shared/info.js'
import { runJob } from '../jobs/fork-runner.js'
import { formatInfo, formatSeriesTable } from './format-info.js'

const USAGE = `usage: volseg <command> [options]

commands:
  info <path...> [--json] [--series KEY|N] [--timeout SECONDS]
      Describe an image: a NIfTI (.nii/.nii.gz), NRRD, MHA/MHD file, a DICOM file,
      a DICOM folder (searched recursively) or a list of DICOM files.
  --help, --version`

interface Parsed {
  readonly command: string | undefined
  readonly positional: string[]
  readonly flags: Map<string, string | true>
}

const VALUE_FLAGS = new Set(['--series', '--timeout'])

export function parseArgs(argv: readonly string[]): Parsed {
  const positional: string[] = []
  const flags = new Map<string, string | true>()
  let command: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
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
  const timeout = Number(p.flags.get('--timeout') ?? 600)
  if (!(timeout > 0)) throw new AppError('E_ARGS', '--timeout must be a positive number of seconds')
  const reply = await runJob(
    {
      kind: 'info',
      input: p.positional,
      options: typeof series === 'string' ? { seriesKey: series } : {},
    },
    { timeoutMs: timeout * 1000 },
  )
  if (!reply.ok) {
    const e = reply.error
    throw new AppError(e.code, e.message, {
      ...(e.file === undefined ? {} : { file: e.file }),
      details: e.details,
    })
  }
  process.stdout.write(
    json ? `${JSON.stringify(reply.value, null, 2)}\n` : `${formatInfo(reply.value)}\n`,
  )
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
      default:
        throw new AppError('E_ARGS', `unknown command "${p.command}" (try volseg --help)`)
    }
  } catch (e) {
    return fail(e, json)
  }
}

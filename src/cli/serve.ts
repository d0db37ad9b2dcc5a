/**
 * `volseg serve`: the core behind HTTP + WebSocket for the browser UI (architecture.md §8). Prints exactly
 * one line `VolSeg serving at <url>` on stdout (tests parse it), then logs to stderr. SIGINT or
 * SIGTERM closes the server, stops the workers and resolves 0.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AppError } from '../shared/errors.js'
import { prepareCohortWorklist } from '../jobs/cohort-report.js'
import { keepSpareWorker, startJob } from '../jobs/fork-runner.js'
import { defaultRecoveryDir } from '../service/backups.js'
import { createService } from '../service/create-service.js'
import type { AdmissionLimits } from '../service/admission.js'
import type { JobRunner } from '../service/job-runner.js'
import { isLoopback, isWildcard } from '../serve/access.js'
import { DEFAULT_MAX_FRAME_BYTES, startServer } from '../serve/server.js'

/** Package root (from `dist/cli` or `src/cli`). */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Options of {@link serveCommand}, from the command line. */
export interface ServeOptions {
  readonly port: number
  readonly host: string
  readonly data?: string
  readonly out: string
  /** `--recovery`: the folder of backups of unsaved edits (default {@link defaultRecoveryDir}). */
  readonly recovery: string
  /** True when `--recovery` was given: a folder that cannot be used stops the server then. */
  readonly recoveryGiven: boolean
  readonly open: boolean
  /** `--open-source REF`: a file under `--data` the opened page shows first (`npm start -- FILE`). */
  readonly openSource?: string
  readonly maxFrameBytes: number
  /** `--max-volumes`, `--max-workers`, `--max-segmentations` (the rest: defaults). */
  readonly limits: Partial<AdmissionLimits>
  /** `--cohort DIR`: a planned cohort folder whose review worklist the viewer shows. */
  readonly cohort?: string
}

/** The runner the service uses: one forked worker per job (`src/jobs/fork-runner.ts`). */
export const forkRunner: JobRunner = {
  start: (req, options) => startJob(req, options ?? {}),
}

/** Parses the flag values of `serve`; throws `E_ARGS` naming the bad one. */
export function serveOptions(flags: ReadonlyMap<string, string | true>): ServeOptions {
  const str = (k: string): string | undefined => {
    const v = flags.get(k)
    if (v === true) throw new AppError('E_ARGS', `${k} needs a value`)
    return v
  }
  const port = Number(str('--port') ?? 8787)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new AppError('E_ARGS', '--port must be an integer from 0 to 65535 (0: any free port)')
  }
  const mib = str('--max-frame')
  const maxFrameBytes = mib === undefined ? DEFAULT_MAX_FRAME_BYTES : Number(mib) * 2 ** 20
  if (!(maxFrameBytes >= 1024)) throw new AppError('E_ARGS', '--max-frame must be MiB > 0')
  const data = str('--data')
  const openSource = str('--open-source')
  const cohort = str('--cohort')
  const count = (k: string): number | undefined => {
    const v = str(k)
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1 || n > 1000) {
      throw new AppError('E_ARGS', `${k} must be a whole number from 1 to 1000`)
    }
    return n
  }
  const limits: Record<string, number> = {}
  for (const [flag, key] of [
    ['--max-volumes', 'maxVolumes'],
    ['--max-workers', 'maxWorkers'],
    ['--max-segmentations', 'maxSegmentations'],
  ] as const) {
    const n = count(flag)
    if (n !== undefined) limits[key] = n
  }
  return {
    port,
    host: str('--host') ?? '127.0.0.1',
    ...(data === undefined ? {} : { data }),
    out: str('--out') ?? './volseg-out',
    recovery: str('--recovery') ?? defaultRecoveryDir(),
    recoveryGiven: flags.has('--recovery'),
    open: flags.has('--open'),
    ...(openSource === undefined ? {} : { openSource }),
    ...(cohort === undefined ? {} : { cohort }),
    maxFrameBytes: Math.floor(maxFrameBytes),
    limits,
  }
}

/** Opens `url` in the default browser; failures are ignored (the URL is printed anyway). */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]]
  try {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' })
    child.on('error', () => undefined)
    child.unref()
  } catch {
    // no browser opener: the printed URL is enough
  }
}

/**
 * The address the browser is opened at: the page URL, plus `open=<ref>` in its fragment when a
 * first source was asked for (the page opens it instead of the sample; the fragment never
 * reaches a server).
 */
export function openUrl(url: string, source: string | undefined): string {
  return source === undefined ? url : `${url}&open=${encodeURIComponent(source)}`
}

/** Runs the server until SIGINT/SIGTERM; resolves the exit code. */
export async function serveCommand(o: ServeOptions): Promise<number> {
  const fixtures = join(PACKAGE_ROOT, 'test', 'fixtures')
  const dataRoot = resolve(o.data ?? (existsSync(fixtures) ? fixtures : process.cwd()))
  const log = (line: string): void => {
    process.stderr.write(`volseg serve: ${line}\n`)
  }
  if (!isLoopback(o.host)) {
    log(
      `WARNING: listening on ${o.host}${isWildcard(o.host) ? ' (every interface)' : ''}, not 127.0.0.1: ` +
        'anyone who can reach this address and learns the token can read --data and write --out',
    )
  }
  // A cohort is checked (and its report made or brought up to date) before anything listens.
  const cohort =
    o.cohort === undefined ? undefined : await prepareCohortWorklist(o.cohort, (l) => log(l))
  const options = {
    dataRoot,
    outDir: resolve(o.out),
    runner: forkRunner,
    limits: o.limits,
    ...(cohort === undefined ? {} : { cohort }),
  }
  let recovery: string | undefined = resolve(o.recovery)
  let service
  try {
    service = await createService({ ...options, recoveryDir: recovery })
  } catch (e) {
    // The default folder may be unusable (a read-only home): serve anyway, and say so loudly.
    if (o.recoveryGiven || !(e instanceof AppError) || e.code !== 'E_WRITE') throw e
    log(`WARNING: no backups of unsaved edits are kept (${e.message}); give --recovery DIR`)
    recovery = undefined
    service = await createService(options)
  }
  let server
  try {
    server = await startServer({
      service,
      staticRoot: join(PACKAGE_ROOT, 'renderer', 'dist'),
      host: o.host,
      port: o.port,
      maxFrameBytes: o.maxFrameBytes,
    })
  } catch (e) {
    await service.close()
    const why = (e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'is in use' : 'cannot be used'
    throw new AppError('E_ARGS', `port ${o.port} on ${o.host} ${why} (${(e as Error).message})`)
  }
  // Handlers first: a SIGTERM sent as soon as the URL line is read must not find the default one.
  const stopped = new Promise<void>((resolveStop) => {
    const stop = (signal: string): void => {
      log(`${signal}: shutting down`)
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
      resolveStop()
    }
    const onInt = (): void => stop('SIGINT')
    const onTerm = (): void => stop('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
  })
  // A started worker waits for the next job, so opening a file skips the worker's start-up.
  keepSpareWorker(true)
  process.stdout.write(`VolSeg serving at ${server.url}\n`)
  log(`data ${dataRoot}`)
  log(`out  ${resolve(o.out)}`)
  if (recovery !== undefined) log(`recovery ${recovery}`)
  if (cohort !== undefined) log(`cohort ${cohort.dir} (${cohort.manifest.cases.length} cases)`)
  if (o.open) openBrowser(openUrl(server.url, o.openSource))
  await stopped
  keepSpareWorker(false)
  await server.close()
  await service.close()
  return 0
}

/**
 * Crash recovery (architecture.md §5 items 4–5): the viewer's unsaved edits, kept in a recovery
 * folder outside `--data` and `--out` until the user saves them or discards them.
 *
 * - One backup per source file, named by a digest of its identity: the source ref, and each
 *   input file's path, size and modification time, so a file changed since gives no stale offer.
 *   A dropped file has no path to open again: its identity is its name and the SHA-256 of its
 *   bytes, so dropping the same file after a crash finds its backup.
 * - A backup is a mask `<key>-<version>.nii.gz` plus the sidecar `<key>.json` (`BackupFile`),
 *   both written atomically by a job worker (`write-backup`); the sidecar is the commit point.
 * - An unclean-exit marker `run-<pid>-<hex>.lock` is written when the store opens and removed by
 *   {@link BackupStore.close}. A marker whose process is gone means that run crashed: its
 *   backups are offered as "VolSeg did not close cleanly". Markers no backup refers to any more
 *   are removed on the next start.
 *
 * The service never parses or compresses here: the worker writes, and a restore reads the mask
 * with an `open` job (`asLabels`), exactly like `openLabels`.
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, mkdir, readFile, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import {
  err,
  isReviewRecord,
  ok,
  type BackupInfo,
  type BackupLabelsRequest,
  type LabelsHeader,
  type LabelsId,
  type OpenedLabels,
  type Result,
  type ReviewRecord,
  type VolumeRequest,
} from '../shared/api.js'
import { AppError } from '../shared/errors.js'
import { tempFileOwner } from '../shared/file-names.js'
import type {
  BackupFile,
  BackupJobRequest,
  BackupJobValue,
  BackupMeta,
  OpenJobRequest,
  OpenJobValue,
} from '../shared/jobs.js'
import { reviewCoverageProblem } from '../shared/review-file.js'
import { gridMismatch } from '../core/geometry/grid-match.js'
import type { Admission } from './admission.js'
import { isInside } from './confine.js'
import type { HeldVolume, Holdings } from './holdings.js'
import { countLabels, type LabelStyle } from './label-stats.js'
import { newId } from './new-id.js'
import type { SessionState } from './sessions.js'
import { LEFTOVER_MAX_AGE_MS, pidAlive } from './sweep-leftovers.js'

/** Largest sidecar read back (a review of 65535 labels is about 10 MB). */
const MAX_SIDECAR_BYTES = 16 * 1024 * 1024
const MARKER = /^run-(\d+)-([0-9a-f]{8})\.lock$/
/** `<key>-<time base 36>-<writer pid>.nii.gz` (`backup-job.ts`). */
const MASK = /^([0-9a-f]{32})-[0-9a-z]+-(\d+)\.nii\.gz$/

/**
 * The recovery folder used when `--recovery` is not given: `$XDG_STATE_HOME/volseg/recovery`
 * (default `~/.local/state/volseg/recovery`); `%LOCALAPPDATA%\volseg\recovery` on Windows,
 * `~/Library/Application Support/volseg/recovery` on macOS.
 */
export function defaultRecoveryDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home = homedir(),
): string {
  if (platform === 'win32') {
    return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'volseg', 'recovery')
  }
  if (platform === 'darwin') {
    return join(home, 'Library', 'Application Support', 'volseg', 'recovery')
  }
  const state = env.XDG_STATE_HOME?.startsWith('/') ? env.XDG_STATE_HOME : undefined
  return join(state ?? join(home, '.local', 'state'), 'volseg', 'recovery')
}

/** What the store needs from the service. */
export interface BackupDeps {
  readonly holdings: Holdings
  readonly admission: Admission
  /** Runs a `write-backup` job on a worker (the service's `run`). */
  readonly write: (req: BackupJobRequest, what: string) => Promise<Result<BackupJobValue>>
  /** Runs an `open` job on a worker (the service's `run`). */
  readonly open: (req: OpenJobRequest, what: string) => Promise<Result<OpenJobValue>>
}

/** The real path `p` will have: its deepest existing ancestor resolved, the rest appended. */
async function realPathOfNew(p: string): Promise<string> {
  const rest: string[] = []
  for (let at = p; ; at = dirname(at)) {
    try {
      return join(await realpath(at), ...rest.reverse())
    } catch {
      if (dirname(at) === at) return p
      rest.push(basename(at))
    }
  }
}

/** A readable sidecar, or undefined (none, or not ours). */
async function readSidecar(path: string, key: string): Promise<BackupFile | undefined> {
  let text: string
  try {
    const st = await stat(path)
    if (!st.isFile() || st.size > MAX_SIDECAR_BYTES) return undefined
    text = await readFile(path, 'utf8')
  } catch {
    return undefined
  }
  let f: Partial<BackupFile>
  try {
    f = JSON.parse(text) as Partial<BackupFile>
  } catch {
    return undefined
  }
  if (f.format !== 'volseg-backup' || typeof f.mask !== 'string') return undefined
  if (MASK.exec(f.mask)?.[1] !== key || typeof f.savedAt !== 'string') return undefined
  if (typeof f.runId !== 'string' || typeof f.labelVoxels !== 'number') return undefined
  if (typeof f.labelCount !== 'number') return undefined
  return f as BackupFile
}

/** The recovery folder of one service: backups, its marker, and the API handlers over them. */
export class BackupStore {
  /** Real path of the recovery folder. */
  readonly dir: string
  /** This run's id (`<pid>-<hex>`), recorded in every backup it writes. */
  readonly runId: string
  readonly #crashedRuns: ReadonlySet<string>
  readonly #keys = new WeakMap<HeldVolume, string>()
  /** Per key, the last operation queued: writes and deletes of one backup never overlap. */
  readonly #queue = new Map<string, Promise<unknown>>()

  private constructor(dir: string, runId: string, crashedRuns: ReadonlySet<string>) {
    this.dir = dir
    this.runId = runId
    this.#crashedRuns = crashedRuns
  }

  /**
   * Creates (mode 0700) and checks the recovery folder: refused (`E_ARGS`) when it is inside,
   * or contains, `dataRoot` or `outDir` (real paths). Finds the markers of crashed runs, sweeps
   * leftovers (temp files of dead writers, day-old masks no sidecar names) and writes this
   * run's marker.
   */
  static async open(o: {
    readonly dir: string
    readonly dataRoot: string
    readonly outDir: string
  }): Promise<BackupStore> {
    const asked = resolve(o.dir)
    const refuse = (dir: string): void => {
      for (const [name, root] of [
        ['--data', o.dataRoot],
        ['--out', o.outDir],
      ] as const) {
        if (isInside(root, dir) || isInside(dir, root)) {
          throw new AppError(
            'E_ARGS',
            `the recovery folder ${asked} must be outside the ${name} folder ${root} (backups never go among the user's files)`,
          )
        }
      }
    }
    // Checked before anything is created (no empty folder left in --out), and again after.
    refuse(await realPathOfNew(asked))
    try {
      await mkdir(asked, { recursive: true, mode: 0o700 })
    } catch (e) {
      throw new AppError('E_WRITE', `cannot create the recovery folder ${asked}: ${String(e)}`)
    }
    const dir = await realpath(asked)
    refuse(dir)
    const names = await readdir(dir)
    const now = Date.now()
    const crashed = new Map<string, string>() // run id → marker name
    for (const name of names) {
      const m = MARKER.exec(name)
      if (m && !pidAlive(Number(m[1]))) crashed.set(`${m[1]}-${m[2]}`, name)
      const tempPid = tempFileOwner(name)
      if (tempPid !== undefined && !pidAlive(tempPid)) await rm(join(dir, name), { force: true })
    }
    const referenced = new Set<string>()
    const named = new Set<string>()
    for (const name of names) {
      const key = /^([0-9a-f]{32})\.json$/.exec(name)?.[1]
      if (!key) continue
      const f = await readSidecar(join(dir, name), key)
      if (f) {
        referenced.add(f.runId)
        named.add(f.mask)
      }
    }
    for (const name of names) {
      const writer = MASK.exec(name)?.[2]
      if (writer === undefined || named.has(name)) continue
      // A mask no sidecar names: its writer was killed before the sidecar, unless that writer
      // is alive (another server's write in progress) and it is not a day old.
      const st = await lstat(join(dir, name)).catch(() => undefined)
      const stale = pidAlive(Number(writer))
        ? now - (st?.mtimeMs ?? now) > LEFTOVER_MAX_AGE_MS
        : true
      if (st?.isFile() && stale) await rm(join(dir, name), { force: true })
    }
    for (const [run, marker] of crashed) {
      if (!referenced.has(run)) await rm(join(dir, marker), { force: true })
    }
    const runId = `${process.pid}-${randomBytes(4).toString('hex')}`
    const marker = JSON.stringify({ pid: process.pid, startedAt: new Date(now).toISOString() })
    await writeFile(join(dir, `run-${runId}.lock`), `${marker}\n`, { flag: 'wx', mode: 0o600 })
    return new BackupStore(dir, runId, new Set(crashed.keys()))
  }

  /** Removes this run's marker: it closed cleanly. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#queue.values()])
    await rm(join(this.dir, `run-${this.runId}.lock`), { force: true })
  }

  /**
   * The digest naming `v`'s backup (32 hex digits): its source ref and each input file's path,
   * size and modification time; for a dropped file, its name and the SHA-256 of its bytes.
   */
  async keyOf(v: HeldVolume): Promise<string> {
    const known = this.#keys.get(v)
    if (known) return known
    const parts: unknown[] = [v.source]
    if (v.upload) parts.push(['sha256', await fileSha256(v.upload.path)])
    else {
      for (const f of v.files) {
        const st = await stat(f)
        parts.push([f, st.size, st.mtimeMs])
      }
    }
    const key = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32)
    this.#keys.set(v, key)
    return key
  }

  /** Runs `fn` after every earlier operation on `key`. */
  #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#queue.get(key) ?? Promise.resolve()
    const next = previous.then(fn, fn)
    const settled = next.then(
      () => undefined,
      () => undefined,
    )
    this.#queue.set(key, settled)
    void settled.then(() => {
      if (this.#queue.get(key) === settled) this.#queue.delete(key)
    })
    return next
  }

  #info(f: BackupMeta): BackupInfo {
    return {
      savedAt: f.savedAt,
      labelCount: f.labelCount,
      labelVoxels: f.labelVoxels,
      crashed: this.#crashedRuns.has(f.runId),
    }
  }

  /** Writes the backup of `v` (see the module comment). */
  async write(v: HeldVolume, req: BackupLabelsRequest, d: BackupDeps): Promise<Result<BackupInfo>> {
    const key = await this.keyOf(v)
    const present = countLabels(req.bytes, req.dataType, v.geometry.spacingMm, []).filter(
      (l) => l.value !== 0,
    )
    // A review that does not list every label present would restore without their names.
    const review =
      req.review &&
      !reviewCoverageProblem(
        req.review,
        present.map((l) => l.value),
      )
        ? req.review
        : undefined
    const meta: BackupMeta = {
      format: 'volseg-backup',
      version: 1,
      source: v.source,
      sourceName: v.name,
      geometry: v.geometry,
      runId: this.runId,
      savedAt: new Date().toISOString(),
      labelCount: present.length,
      labelVoxels: present.reduce((a, l) => a + l.voxels, 0),
      ...(review ? { review } : {}),
    }
    // Own copy: the request's bytes are a view into a received network frame.
    const labels = req.bytes.slice()
    return this.#serial(key, async () => {
      const r = await d.write(
        {
          kind: 'write-backup',
          dir: this.dir,
          key,
          dataType: req.dataType,
          labels,
          sourceFiles: v.files,
          meta,
          ...(v.xformCodes ? { xformCodes: v.xformCodes } : {}),
        },
        `backing up the edits of ${v.name}`,
      )
      return r.ok ? ok(this.#info(meta)) : r
    })
  }

  /** The backup kept for `v`'s source, or null. */
  async find(v: HeldVolume): Promise<BackupInfo | null> {
    const key = await this.keyOf(v)
    return this.#serial(key, async () => {
      const f = await readSidecar(join(this.dir, `${key}.json`), key)
      if (!f) return null
      const mask = await stat(join(this.dir, f.mask)).catch(() => undefined)
      return mask?.isFile() ? this.#info(f) : null
    })
  }

  /** Deletes `v`'s backup: the sidecar first (the commit point), then its masks. */
  async discard(v: HeldVolume): Promise<void> {
    const key = await this.keyOf(v)
    await this.#serial(key, async () => {
      await rm(join(this.dir, `${key}.json`), { force: true })
      for (const name of await readdir(this.dir)) {
        if (MASK.exec(name)?.[1] === key) await rm(join(this.dir, name), { force: true })
      }
    })
  }

  /** Reads `v`'s backup as a label map held for it, with the review it was kept with. */
  async restore(v: HeldVolume, d: BackupDeps): Promise<Result<OpenedLabels>> {
    const key = await this.keyOf(v)
    // Serialised with the writes: a backup landing meanwhile would remove the mask being read.
    const read = await this.#serial(key, async () => {
      const f = await readSidecar(join(this.dir, `${key}.json`), key)
      if (!f) return undefined
      const r = await d.open(
        { kind: 'open', input: [join(this.dir, f.mask)], confineTo: this.dir, asLabels: true },
        `restoring the backup of ${v.name}`,
      )
      return { f, r }
    })
    if (!read) return err('E_NOT_FOUND', `no backup of ${v.name} is kept`)
    const { f, r } = read
    if (!r.ok) {
      return err(r.error.code, `the backup of ${v.name} could not be read: ${r.error.message}`)
    }
    const m = r.value
    if (m.kind !== 'volume') return err('E_INTERNAL', `the backup of ${v.name} is not a mask`)
    const mismatch = gridMismatch(v.geometry, m.volume.geometry)
    if (mismatch) return err('E_ARGS', `the backup is not a mask of ${v.name}: ${mismatch}`)
    const dataType = m.volume.dataType
    if (dataType !== 'uint8' && dataType !== 'uint16') {
      return err('E_INTERNAL', `the backup of ${v.name} was read as ${dataType}, not as labels`)
    }
    const bytes = m.volume.voxels
    const counted = countLabels(bytes, dataType, v.geometry.spacingMm, v.styles)
    const review: ReviewRecord | undefined = isReviewRecord(f.review) ? f.review : undefined
    const named = new Map<number, LabelStyle>(
      (review?.labels ?? []).map((l) => [
        l.value,
        { value: l.value, name: l.name, color: l.colourRGB },
      ]),
    )
    const voxels = counted.filter((l) => l.value !== 0).reduce((a, l) => a + l.voxels, 0)
    const warnings =
      voxels === f.labelVoxels
        ? []
        : [`the backup holds ${voxels} labelled voxels, its record says ${f.labelVoxels}`]
    const grant = d.admission.holdBytes(bytes.byteLength, `the backup of ${v.name}`)
    const header: LabelsHeader = {
      labelsId: newId<LabelsId>('lbl'),
      volumeId: v.id,
      dataType,
      sizeIJK: v.geometry.sizeIJK,
      byteLength: bytes.byteLength,
      labels: counted.map((l) => {
        const n = named.get(l.value)
        return n ? { ...l, name: n.name, color: n.color } : l
      }),
      warnings,
    }
    if (!d.holdings.addLabels(v, { header, bytes, grant, origin: { kind: 'backup' } })) {
      return err('E_CANCELLED', `${v.name} was closed while its backup was read`)
    }
    return ok({ labels: header, path: f.mask, ...(review ? { review } : {}) })
  }
}

/** The handlers of the backup methods; without a store, nothing is kept (and none is found). */
export function backupHandlers(
  store: BackupStore | undefined,
  d: BackupDeps,
): {
  backupLabels(s: SessionState, req: BackupLabelsRequest): Promise<Result<BackupInfo>>
  findBackup(s: SessionState, req: VolumeRequest): Promise<Result<BackupInfo | null>>
  restoreBackup(s: SessionState, req: VolumeRequest): Promise<Result<OpenedLabels>>
  discardBackup(s: SessionState, req: VolumeRequest): Promise<Result<null>>
} {
  const none = (): Result<never> =>
    err('E_UNSUPPORTED', 'this VolSeg keeps no backups (it was started without a recovery folder)')
  return {
    backupLabels: async (s, req) => {
      const v = d.holdings.volume(req.volumeId, s.key)
      if (req.sizeIJK.some((n, k) => n !== v.geometry.sizeIJK[k])) {
        return err(
          'E_ARGS',
          `labels of ${req.sizeIJK.join('×')} voxels do not fit the volume's ${v.geometry.sizeIJK.join('×')} grid`,
        )
      }
      return store ? store.write(v, req, d) : none()
    },
    findBackup: async (s, req) => {
      const v = d.holdings.volume(req.volumeId, s.key)
      return ok(store ? await store.find(v) : null)
    },
    restoreBackup: async (s, req) => {
      const v = d.holdings.volume(req.volumeId, s.key)
      return store ? store.restore(v, d) : none()
    },
    discardBackup: async (s, req) => {
      const v = d.holdings.volume(req.volumeId, s.key)
      await store?.discard(v)
      return ok(null)
    },
  }
}

/**
 * SHA-256 of a file's bytes, hex; read in chunks (a dropped CT is hundreds of MB), so the loop is
 * never held for the whole file. (src/io/file-sha256.ts is out of the service's reach by the
 * layering rule: the service reads no input files but this one private copy.)
 */
async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

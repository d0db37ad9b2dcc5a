/**
 * The private folder for dropped files (`openUpload`): the browser hands over only a name and the
 * bytes, and the job worker reads paths, so the bytes are written to a folder this service creates
 * (`mkdtemp` under the OS temporary folder, mode 0700, never inside `--data`) and removed when the
 * volume is closed or the service shuts down. Names are checked against the single-file formats
 * and sanitised; every write is atomic (temp file, fsync, rename) in a fresh sub-folder per upload,
 * so two drops of the same name never meet.
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, open, realpath, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AppError } from '../shared/errors.js'
import { cutToUtf8, sanitiseName } from '../shared/file-names.js'
import { isInside, printable } from './confine.js'

/**
 * Prefix of the upload folder under the OS temporary folder; the folder is
 * `<prefix><pid>-<6 random>`, so a later start can tell a dead server's folder from a live one's
 * (`sweep-leftovers.ts`).
 */
export const UPLOAD_DIR_PREFIX = 'volseg-uploads-'

/** Extensions a dropped file may have (lower case), longest first. */
const ACCEPTED = ['.nii.gz', '.nii', '.nrrd', '.mha'] as const

/** Why a name is refused, for the extensions we know; the sentence says what to do instead. */
const REFUSED: readonly [RegExp, string][] = [
  [
    /\.(dcm|dicom|ima)$/i,
    "single DICOM files can't be dropped; put the folder under --data and open it from the file list",
  ],
  [
    /\.(nhdr|mhd|hdr|img)$/i,
    "this header keeps its voxels in a separate file, which a drop doesn't bring; put both files under --data, or drop a single-file .nrrd, .mha or .nii.gz",
  ],
  [
    /\.(zip|tar|tgz|7z|rar|gz)$/i,
    'archives are not opened; unpack it, then drop the NIfTI, NRRD or MHA file',
  ],
]

/** The accepted extension of `name` (lower case), or throws `E_UNSUPPORTED` naming the reason. */
export function uploadExtension(name: string): (typeof ACCEPTED)[number] {
  const lower = name.toLowerCase()
  const ext = ACCEPTED.find((e) => lower.endsWith(e) && lower.length > e.length)
  if (ext) return ext
  const shown = printable(name)
  const known = REFUSED.find(([re]) => re.test(name))
  const why = known
    ? known[1]
    : /\.[A-Za-z0-9]+$/.test(name) || name.includes('.')
      ? 'only NIfTI (.nii, .nii.gz), NRRD (.nrrd) and MetaImage (.mha) files can be dropped'
      : "a file without an extension can't be dropped (a DICOM file? put its folder under --data); drop a .nii, .nii.gz, .nrrd or .mha file"
  throw new AppError('E_UNSUPPORTED', `${shown}: ${why}`, { file: shown })
}

/** Longest stored name of a dropped file, UTF-8 bytes (well under the 255-byte limit). */
const MAX_STORED_NAME_BYTES = 120

/**
 * `name` as a safe file name, by the one name rule (`src/shared/file-names.ts`): every character
 * it refuses becomes `_`, a leading `.` or `-` too, and the stem is cut (never inside a character)
 * so the whole name fits {@link MAX_STORED_NAME_BYTES} bytes; the accepted extension is kept (in
 * lower case).
 */
export function sanitiseUploadName(name: string): string {
  const ext = uploadExtension(name)
  const stem = cutToUtf8(
    sanitiseName(name.slice(0, name.length - ext.length)).replace(/^[.-]/, '_'),
    MAX_STORED_NAME_BYTES - ext.length,
  )
  return `${stem || 'upload'}${ext}`
}

const NRRD_DATA_FILE = /^\s*data\s*file\s*:/im
const META_DATA_FILE = /^\s*ElementDataFile\s*=\s*(.*?)\s*$/m
/** Bytes of the head searched for a detached-data field. */
const HEAD_BYTES = 64 * 1024

/**
 * Refuses a NRRD or MetaImage whose header points to a separate data file: the reader would open
 * that path relative to (or outside) the upload folder, which a drop must never reach (architecture.md §5,
 * S4). The format is taken from the content for NRRD (the reader detects it so) and from the
 * `.mha` name for MetaImage (likewise).
 */
function refuseDetachedData(name: string, ext: string, bytes: Uint8Array): void {
  const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b
  if (isGzip) return
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, HEAD_BYTES))
  const shown = printable(name)
  if (head.startsWith('NRRD')) {
    const end = head.search(/\r?\n\r?\n/)
    if (NRRD_DATA_FILE.test(end < 0 ? head : head.slice(0, end))) {
      throw new AppError(
        'E_UNSUPPORTED',
        `${shown}: this NRRD header points to a separate data file, which a drop doesn't bring; put both files under --data`,
        { file: shown },
      )
    }
  }
  if (ext === '.mha') {
    const m = META_DATA_FILE.exec(head)
    if (m && (m[1] ?? '').toUpperCase() !== 'LOCAL') {
      throw new AppError(
        'E_UNSUPPORTED',
        `${shown}: this MetaImage header points to a separate data file (ElementDataFile = ${printable(m[1] ?? '')}), which a drop doesn't bring; put both files under --data`,
        { file: shown },
      )
    }
  }
}

/** A written upload: its absolute path (read by the worker) and its sub-folder (to remove). */
export interface StoredUpload {
  readonly path: string
  readonly folder: string
}

/** The upload folder of one service; created on first use. */
export class UploadStore {
  readonly #dataRoot: string
  readonly #parent: string | undefined
  #root: Promise<string> | undefined
  #closed = false

  /** `dataRoot` is a real path; `parent` (default the OS temporary folder) is for tests. */
  constructor(dataRoot: string, parent?: string) {
    this.#dataRoot = dataRoot
    this.#parent = parent
  }

  /** The upload folder (real path), created with mode 0700 on first call. */
  root(): Promise<string> {
    this.#root ??= this.#create().catch((e: unknown) => {
      this.#root = undefined
      throw e
    })
    return this.#root
  }

  async #create(): Promise<string> {
    const parent = await realpath(this.#parent ?? tmpdir())
    if (isInside(this.#dataRoot, parent)) {
      // Inside --data, the copies would show up in the file list and be openable by ref.
      throw new AppError(
        'E_WRITE',
        'the temporary folder is inside the data folder, so dropped files cannot be kept apart; set TMPDIR to another folder',
      )
    }
    const dir = await mkdtemp(join(parent, `${UPLOAD_DIR_PREFIX}${process.pid}-`))
    await chmod(dir, 0o700)
    return realpath(dir)
  }

  /**
   * Checks `name` and `bytes`, then writes them atomically as `<root>/<random>/<safe name>`.
   * Throws `E_UNSUPPORTED` for names and headers a drop cannot open, `E_WRITE` when writing fails.
   */
  async store(name: string, bytes: Uint8Array): Promise<StoredUpload> {
    if (this.#closed) throw new AppError('E_INTERNAL', 'the service is shutting down')
    const ext = uploadExtension(name)
    refuseDetachedData(name, ext, bytes)
    const safe = sanitiseUploadName(name)
    const root = await this.root()
    const folder = join(root, randomBytes(8).toString('hex'))
    await mkdir(folder, { mode: 0o700 })
    const path = join(folder, safe)
    const temp = join(folder, `.${randomBytes(4).toString('hex')}.tmp`)
    try {
      const fh = await open(temp, 'wx', 0o600)
      try {
        await fh.writeFile(bytes)
        await fh.sync()
      } finally {
        await fh.close()
      }
      await rename(temp, path)
      const d = await open(folder, 'r')
      try {
        await d.sync()
      } catch {
        // fsync of a folder is not supported everywhere (Windows); the rename is done.
      } finally {
        await d.close()
      }
    } catch (e) {
      await rm(folder, { recursive: true, force: true })
      throw new AppError(
        'E_WRITE',
        `${printable(name)}: could not keep a copy of the dropped file (${(e as Error).message.split(root).join('…')})`,
        { file: printable(name) },
      )
    }
    return { path, folder }
  }

  /** Removes one upload's sub-folder; never throws. */
  async remove(u: StoredUpload): Promise<void> {
    await rm(u.folder, { recursive: true, force: true }).catch(() => undefined)
  }

  /** Removes the whole upload folder; later `store` calls fail. */
  async close(): Promise<void> {
    this.#closed = true
    const root = this.#root
    this.#root = undefined
    if (!root) return
    const dir = await root.catch(() => undefined)
    if (dir !== undefined) await rm(dir, { recursive: true, force: true }).catch(() => undefined)
  }
}

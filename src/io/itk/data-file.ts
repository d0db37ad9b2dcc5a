/**
 * Where a detached NRRD (`data file:`) or MetaImage (`ElementDataFile =`) header's data lives.
 * For files opened through the service, the data file must stay under the `--data` root
 * (architecture.md §5, S4): the header is the client's to choose, so `../../etc/...` or an
 * absolute path would otherwise let a client learn whether a file outside exists and its size.
 * The path is walked one segment at a time on the real file system (symlinks resolved, `..` taken
 * physically), and the walk is refused as soon as it leaves the root, before anything outside is
 * looked at: the answer is the same whether the outside file exists or not.
 */
import { lstat, realpath } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { AppError } from '../../shared/errors.js'

/** True when the real path `p` is `root` or below it. */
function within(root: string, p: string): boolean {
  const rel = relative(root, p)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * The absolute path of `dataFile` as named by the header at `headerAbs`. Without `root`, resolved
 * beside the header (CLI use: the user's own files, wherever they may read). With `root` (a
 * folder), the real path, refused (`E_UNSUPPORTED`) when it is or passes outside `root`, or is a
 * broken link; a missing file inside `root` is `E_NOT_FOUND`. `shown` is the header's name for
 * messages.
 */
export async function dataFilePath(
  headerAbs: string,
  dataFile: string,
  root: string | undefined,
  shown: string,
): Promise<string> {
  if (root === undefined) return resolve(dirname(headerAbs), dataFile)
  const outside = (): AppError =>
    new AppError(
      'E_UNSUPPORTED',
      `the header points to data file "${dataFile}" outside the data folder; only files under the data folder are read`,
      { file: shown },
    )
  if (isAbsolute(dataFile) || /^[A-Za-z]:/.test(dataFile)) throw outside()
  const realRoot = await realpath(root)
  let cur = await realpath(dirname(headerAbs))
  if (!within(realRoot, cur)) throw outside()
  for (const part of dataFile.split(/[\\/]/)) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      cur = dirname(cur)
      if (!within(realRoot, cur)) throw outside()
      continue
    }
    const next = join(cur, part)
    let link: boolean
    try {
      link = (await lstat(next)).isSymbolicLink()
    } catch {
      // Missing inside the root: nothing below it can be reached either.
      throw new AppError(
        'E_NOT_FOUND',
        `the header points to data file "${dataFile}", which is missing`,
        { file: shown },
      )
    }
    if (link) {
      // A broken link may point anywhere: refused like one that points out.
      cur = await realpath(next).catch(() => {
        throw outside()
      })
      if (!within(realRoot, cur)) throw outside()
    } else cur = next
  }
  return cur
}

/**
 * Names of saved masks under `--out`: the user's name checked by the one name rule
 * (`src/shared/file-names.ts`), then the first free `<stem>.nii.gz`, `<stem>-1.nii.gz`, ... The
 * check here is only a first choice: the save-mask job publishes without replacing and moves on
 * to the next free number when a name was taken meanwhile (another server, a batch).
 */
import { lstat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { AppError } from '../shared/errors.js'
import { MAX_NAME_SUFFIX, maskStem, numberedMaskName, visibleName } from '../shared/file-names.js'
import { isInside } from './confine.js'

/** A chosen output: its absolute path and the stem and number it was made of. */
export interface OutName {
  readonly path: string
  readonly stem: string
  readonly n: number
}

const exists = (p: string): Promise<boolean> =>
  lstat(p).then(
    () => true,
    () => false,
  )

/**
 * The first free numbered name for `name` in `outDir` (a real path) not in `reserved`, whose
 * `companion` name (when given, e.g. the review file) is free as well, numbered from `from` (0:
 * the name itself first; 1: never the bare name, as for a cohort case's reviewed mask). Throws
 * `E_ARGS` naming the offending character (as U+XXXX) or the length rule, `E_WRITE` when all
 * numbers up to {@link MAX_NAME_SUFFIX} are taken.
 */
export async function freeOutName(
  outDir: string,
  name: string,
  reserved: ReadonlySet<string>,
  companion?: (maskName: string) => string,
  from = 0,
): Promise<OutName> {
  const shown = visibleName(name)
  const s = maskStem(name)
  if ('problem' in s) {
    throw new AppError('E_ARGS', `refused file name "${shown}": ${s.problem}`, { file: shown })
  }
  for (let n = from; n <= MAX_NAME_SUFFIX; n++) {
    const path = join(outDir, numberedMaskName(s.stem, n))
    if (!isInside(outDir, path) || relative(outDir, path).includes(sep)) {
      throw new AppError('E_ARGS', `refused file name "${shown}"`, { file: shown })
    }
    // A companion file (the review beside the mask) must be free too: both share one stem.
    const other = companion ? join(outDir, companion(numberedMaskName(s.stem, n))) : undefined
    if (
      !reserved.has(path) &&
      !(await exists(path)) &&
      (other === undefined || !(await exists(other)))
    ) {
      return { path, stem: s.stem, n }
    }
  }
  throw new AppError('E_WRITE', `no free file name for "${shown}" in the output folder`)
}

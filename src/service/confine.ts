/**
 * Path confinement for `--data` refs and `--out` names (architecture.md §5, S4): a ref is a relative POSIX
 * path under a root; it is refused when it, or its percent-decoded form, holds NUL, a backslash,
 * an absolute path or a `.`/`..` segment, and when its real path (symlinks followed) leaves the
 * root. Every refusal is an `AppError` `E_ARGS` naming the reason; a missing path is
 * `E_NOT_FOUND`.
 */
import { realpath } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { AppError } from '../shared/errors.js'
import { visibleName } from '../shared/file-names.js'

/** Why `text` is not a safe relative POSIX path, or undefined when it is. */
function unsafeReason(text: string): string | undefined {
  if (text.includes('\0')) return 'it contains a NUL character'
  if (text.includes('\\')) return 'it contains a backslash'
  if (text.startsWith('/') || isAbsolute(text) || /^[A-Za-z]:/.test(text)) {
    return 'it is an absolute path'
  }
  const parts = text.split('/')
  if (parts.some((p) => p === '..')) return 'it leaves the folder (a ".." segment)'
  if (parts.some((p) => p === '.' || p === '')) return 'it has an empty or "." segment'
  return undefined
}

/** True when `p` is `root` itself or inside it (both absolute, real paths). */
export function isInside(root: string, p: string): boolean {
  const rel = relative(root, p)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..')
}

/**
 * Checks a ref's syntax: throws `E_ARGS` for NUL, backslash, absolute paths, `.`/`..` or empty
 * segments, in the text as given and after percent-decoding (`%2e%2e%2f` is `../`).
 */
export function checkRefSyntax(ref: string, what = 'path'): void {
  let why = unsafeReason(ref)
  if (why === undefined && ref.includes('%')) {
    let decoded: string | undefined
    try {
      decoded = decodeURIComponent(ref)
    } catch {
      why = 'it has a malformed percent-escape'
    }
    if (decoded !== undefined && decoded !== ref) {
      const inner = unsafeReason(decoded)
      if (inner !== undefined) why = `once percent-decoded, ${inner}`
    }
  }
  if (why !== undefined) {
    throw new AppError('E_ARGS', `refused ${what} "${printable(ref)}": ${why}`, {
      file: printable(ref),
    })
  }
}

// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\u0000-\u001f]/g

/**
 * `ref` with control characters made visible (`\\x1f`), and every other character the name rule
 * refuses (C1 controls, bidi controls, invisible characters) as `<U+XXXX>`, for messages.
 */
export function printable(ref: string): string {
  return visibleName(
    ref.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`),
  )
}

/**
 * The real absolute path of `ref` under `root` (itself a real path). Throws `E_ARGS` when the
 * ref is unsafe or resolves (through symlinks) outside the root, `E_NOT_FOUND` when missing.
 * An empty ref is the root.
 */
export async function resolveUnder(root: string, ref: string, what = 'path'): Promise<string> {
  if (ref === '') return root
  checkRefSyntax(ref, what)
  const joined = resolve(root, ...ref.split('/'))
  if (!isInside(root, joined)) {
    throw new AppError('E_ARGS', `refused ${what} "${printable(ref)}": it leaves the folder`, {
      file: printable(ref),
    })
  }
  let real: string
  try {
    real = await realpath(joined)
  } catch {
    throw new AppError('E_NOT_FOUND', `no such file or folder "${printable(ref)}"`, {
      file: printable(ref),
    })
  }
  if (!isInside(root, real)) {
    throw new AppError(
      'E_ARGS',
      `refused ${what} "${printable(ref)}": it is a link to somewhere outside the folder`,
      { file: printable(ref) },
    )
  }
  return real
}

/** The POSIX ref of `abs` (inside `root`), `''` for the root itself. */
export function refOf(root: string, abs: string): string {
  return relative(root, abs).split(sep).join('/')
}

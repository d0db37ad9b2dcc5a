/**
 * The one rule for file names VolSeg writes or keeps (architecture.md §5, S5): saved masks
 * (`saveMask`, refused when the name breaks it) and dropped files (`openUpload`, whose stored copy
 * is sanitised by the same character classes). A name must not be empty or hidden, must not hold
 * path separators, control characters, line separators, bidirectional controls (U+202E makes
 * `scan\u202Ezg.ii` display as `scan.iigz`) or invisible characters (names that look alike but
 * differ), and must fit the file system's 255-byte limit with room for a `-999` suffix.
 *
 * Also the names of VolSeg's own hidden temporary files, which carry the writer's process id so
 * that a later start can tell a dead writer's leftovers from a live one's (`sweep-leftovers.ts`).
 * Pure: no Node imports.
 */

/** Longest file name most file systems accept, in bytes (ext4, APFS, NTFS: 255). */
export const MAX_NAME_BYTES = 255
/** Highest `-N` suffix a save tries before giving up. */
export const MAX_NAME_SUFFIX = 999
/** The extension of a saved mask. */
export const MASK_EXT = '.nii.gz'
/** Longest stem of a saved mask, bytes: `<stem>-999.nii.gz` still fits {@link MAX_NAME_BYTES}. */
export const MAX_SAVE_STEM_BYTES = MAX_NAME_BYTES - `-${MAX_NAME_SUFFIX}${MASK_EXT}`.length

/** Character classes refused in names, with the reason a user reads. */
const UNSAFE: readonly (readonly [RegExp, string])[] = [
  [/[/\\]/u, 'a path separator'],
  // eslint-disable-next-line no-control-regex -- control characters are what it refuses
  [/[\u0000-\u001f\u007f]/u, 'a control character'],
  [/[\u0080-\u009f]/u, 'a C1 control character'],
  [/[\u2028\u2029]/u, 'a line or paragraph separator'],
  [
    /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u,
    'a bidirectional control, which makes a name display differently from what it is (it can hide the real extension)',
  ],
  [
    // U+034F (a combining mark) outside the class: lint rightly warns about combining marks in one.
    /[\u00ad\u115f\u1160\u180e\u200b-\u200d\u2060-\u2064\u3164\ufeff\uffa0]|\u034f/u,
    'an invisible character, which makes names that look the same differ',
  ],
  [/\p{Cs}/u, 'half of a surrogate pair (not valid Unicode)'],
]

/** Every refused character (global), for sanitising. */
const UNSAFE_ANY = new RegExp(UNSAFE.map(([re]) => re.source).join('|'), 'gu')

/** `U+XXXX` of a code point. */
export function codePointLabel(c: string): string {
  return `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

/** The first refused character of `name` and why, or undefined. */
export function unsafeCharacter(
  name: string,
): { readonly label: string; readonly why: string } | undefined {
  for (const c of name) {
    for (const [re, why] of UNSAFE) {
      if (re.test(c)) return { label: codePointLabel(c), why }
    }
  }
  return undefined
}

/** `text` with every refused character shown as `<U+XXXX>`, so a message cannot be spoofed. */
export function visibleName(text: string): string {
  return text.replace(UNSAFE_ANY, (c) => (c === '/' || c === '\\' ? c : `<${codePointLabel(c)}>`))
}

/** `text` with every refused character replaced by `_` (a safe name for a stored copy). */
export function sanitiseName(text: string): string {
  return text.replace(UNSAFE_ANY, '_')
}

/** The UTF-8 length of `s` in bytes (a lone surrogate counts 3, as its replacement). */
export function utf8Length(s: string): number {
  let n = 0
  for (const c of s) {
    const cp = c.codePointAt(0) ?? 0
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
  }
  return n
}

/** The longest prefix of `s` of at most `maxBytes` UTF-8 bytes, never splitting a character. */
export function cutToUtf8(s: string, maxBytes: number): string {
  let n = 0
  let out = ''
  for (const c of s) {
    const len = utf8Length(c)
    if (n + len > maxBytes) break
    n += len
    out += c
  }
  return out
}

/** Why `name` is not an acceptable file name (a sentence fragment), or undefined when it is. */
export function fileNameProblem(name: string, maxBytes = MAX_NAME_BYTES): string | undefined {
  if (name === '') return 'it is empty'
  const bad = unsafeCharacter(name)
  if (bad) return `it contains ${bad.label}, ${bad.why}`
  if (name.startsWith('.')) return 'it starts with "." (a hidden file)'
  const bytes = utf8Length(name)
  if (bytes > maxBytes) return `it is ${bytes} bytes long in UTF-8; at most ${maxBytes} fit`
  return undefined
}

/**
 * The stem of a mask name (`brain.nii.gz`, `brain.nii` or `brain` → `brain`), or why the name is
 * refused: the rule of {@link fileNameProblem}, with a stem of at most {@link MAX_SAVE_STEM_BYTES}.
 */
export function maskStem(name: string): { stem: string } | { problem: string } {
  const stem = name.replace(/\.nii(\.gz)?$/i, '')
  const problem =
    fileNameProblem(name, Number.MAX_SAFE_INTEGER) ??
    (stem === '' ? 'it has no name before the extension' : undefined) ??
    (utf8Length(stem) > MAX_SAVE_STEM_BYTES
      ? `it is too long: the name before ${MASK_EXT} may have at most ${MAX_SAVE_STEM_BYTES} bytes in UTF-8 (has ${utf8Length(stem)}), to leave room for a "-${MAX_NAME_SUFFIX}" suffix`
      : undefined)
  return problem === undefined ? { stem } : { problem }
}

/** `<stem>.nii.gz` for `n = 0`, else `<stem>-<n>.nii.gz`. */
export function numberedMaskName(stem: string, n: number): string {
  return `${stem}${n === 0 ? '' : `-${n}`}${MASK_EXT}`
}

/** What a VolSeg temporary file is for: a file being written, or a kept previous version. */
export type TempKind = 'tmp' | 'bak'

const TEMP_NAME = /^\.volseg-(\d{10})-[0-9a-f]{8}\.(tmp|bak)$/

/**
 * The hidden name of a temporary file written by process `pid`: fixed length (31 bytes) whatever
 * the target's name, so a long target name never makes its temp name too long. `random` is 8
 * lower-case hex digits.
 */
export function tempFileName(pid: number, random: string, kind: TempKind = 'tmp'): string {
  return `.volseg-${String(pid).padStart(10, '0')}-${random}.${kind}`
}

/** The writer's pid of a name made by {@link tempFileName}, or undefined for any other name. */
export function tempFileOwner(name: string): number | undefined {
  const m = TEMP_NAME.exec(name)
  return m ? Number(m[1]) : undefined
}

/**
 * Which output of a run would land on one of its inputs, or on another output: pure matching
 * over file records, so the CLI can refuse a run before any inference starts.
 */

/** A path and, when it exists, the file it names (device + inode, as `fs.stat` reports them). */
export interface FileRecord {
  /** Absolute path. */
  readonly path: string
  readonly dev?: number
  readonly ino?: number
}

/** An output that names the same file as an input (`kind: 'input'`) or as an earlier output. */
export interface OutputAlias {
  readonly kind: 'input' | 'output'
  readonly output: string
  readonly other: string
}

function same(a: FileRecord, b: FileRecord): boolean {
  if (a.path === b.path) return true
  return a.dev !== undefined && a.ino !== undefined && a.dev === b.dev && a.ino === b.ino
}

/**
 * The first output that is one of `inputs` (same path, or the same device + inode: a hard link
 * or a symlink to it), else the first output equal to an earlier output; undefined when none.
 */
export function findOutputAlias(
  outputs: readonly FileRecord[],
  inputs: readonly FileRecord[],
): OutputAlias | undefined {
  for (const o of outputs) {
    const hit = inputs.find((i) => same(o, i))
    if (hit) return { kind: 'input', output: o.path, other: hit.path }
  }
  for (const [k, o] of outputs.entries()) {
    const hit = outputs.slice(0, k).find((p) => same(o, p))
    if (hit) return { kind: 'output', output: o.path, other: hit.path }
  }
  return undefined
}

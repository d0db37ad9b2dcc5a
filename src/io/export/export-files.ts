/**
 * Where export files go and how they are published: every name is a plain file name inside the
 * chosen output folder (no separators, no `..`, not hidden), never one of the source files, and
 * every write is atomic (src/io/atomic-write.ts), checked on the fsynced temp file before it is
 * published. Without `overwrite` a taken name is refused, not replaced.
 */
import { createHash } from 'node:crypto'
import { readFile, realpath, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { AppError } from '../../shared/errors.js'
import { fileNameProblem } from '../../shared/file-names.js'
import type { SourceFileRecord } from '../../shared/export.js'
import { refuseOverwrite, writeFileAtomic } from '../atomic-write.js'
import { fileSha256 } from '../file-sha256.js'

/** Hex SHA-256 of bytes. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A file's name, size and SHA-256 (for provenance). */
export async function fileRecord(path: string): Promise<SourceFileRecord> {
  return { name: basename(path), ...(await fileSha256(path)) }
}

/** The output folder, resolved (symlinks followed once, here): throws E_WRITE when it is not a folder. */
export async function outputFolder(dir: string): Promise<string> {
  let real: string
  try {
    real = await realpath(dir)
  } catch {
    throw new AppError('E_WRITE', 'the output folder does not exist', { file: dir })
  }
  if (!(await stat(real)).isDirectory()) {
    throw new AppError('E_WRITE', 'the output path is not a folder', { file: dir })
  }
  return real
}

/** Publishing rules shared by one export run. */
export interface ExportSink {
  /** Resolved output folder. */
  readonly dir: string
  /** Source files (reference image, mask, review, AI mask): never written. */
  readonly protect: readonly string[]
  readonly overwrite: boolean
}

/**
 * The path of `name` in the sink's folder; throws E_WRITE when the name is not a plain file name
 * (which would leave the folder) or names a source file.
 */
export async function exportPath(sink: ExportSink, name: string): Promise<string> {
  const problem = fileNameProblem(name)
  if (problem !== undefined || name === '..' || basename(name) !== name) {
    throw new AppError(
      'E_WRITE',
      `refusing the output name "${name}": ${problem ?? 'not a plain file name'}`,
      {
        file: join(sink.dir, name),
      },
    )
  }
  const path = join(sink.dir, name)
  await refuseOverwrite(path, sink.protect)
  return path
}

/**
 * Writes `data` as `name` in the sink's folder atomically; `check` runs on the fsynced temp
 * file (throw E_VERIFY to publish nothing) and returns the sentence the report carries.
 */
export async function publish(
  sink: ExportSink,
  name: string,
  data: Uint8Array,
  check: (tempPath: string) => Promise<string>,
): Promise<{ path: string; check: string; sha256: string; bytes: number }> {
  const target = await exportPath(sink, name)
  let said = ''
  const path = await writeFileAtomic(target, data, {
    protect: sink.protect,
    ...(sink.overwrite ? {} : { noReplace: true }),
    verify: async (temp) => {
      said = await check(temp)
    },
  })
  return { path, check: said, sha256: sha256Hex(data), bytes: data.length }
}

/** A check for text and JSON outputs: the temp file re-reads byte for byte as meant (and parses, for JSON). */
export function sameBytesCheck(data: Uint8Array, json = false): (temp: string) => Promise<string> {
  return async (temp) => {
    const back = await readFile(temp)
    if (Buffer.compare(back, Buffer.from(data.buffer, data.byteOffset, data.byteLength)) !== 0) {
      throw new AppError(
        'E_VERIFY',
        'the written file did not re-read as written; nothing was saved',
        {
          file: temp,
        },
      )
    }
    if (json) JSON.parse(back.toString('utf8'))
    return `re-read: ${back.length.toLocaleString('en-US')} bytes equal${json ? ', valid JSON' : ''}`
  }
}

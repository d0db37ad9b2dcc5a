import { open, stat } from 'node:fs/promises'
import { gunzipSync, constants as zc } from 'node:zlib'
import { AppError } from '../shared/errors.js'

/** Stats a path, turning ENOENT/EACCES into `E_NOT_FOUND` that names it. */
export async function statPath(path: string): Promise<{ size: number; isDirectory: boolean }> {
  try {
    const s = await stat(path)
    return { size: s.size, isDirectory: s.isDirectory() }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'no such file or folder'
        : code === 'EACCES'
          ? 'permission denied'
          : String((e as Error).message)
    throw new AppError('E_NOT_FOUND', why, { file: path })
  }
}

/** Reads up to `length` bytes from the start of a file. */
export async function readHead(path: string, length: number): Promise<Uint8Array> {
  const fh = await open(path, 'r')
  try {
    const buf = new Uint8Array(length)
    const { bytesRead } = await fh.read(buf, 0, length, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

export function isGzip(head: Uint8Array): boolean {
  return head[0] === 0x1f && head[1] === 0x8b
}

/**
 * Inflates the start of a gzip stream from a partial buffer (no error for the missing rest).
 * Returns an empty array when the bytes are not valid gzip.
 */
export function gunzipHead(head: Uint8Array): Uint8Array {
  try {
    return gunzipSync(head, { finishFlush: zc.Z_SYNC_FLUSH })
  } catch {
    return new Uint8Array(0)
  }
}

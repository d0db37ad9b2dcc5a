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

/**
 * Reads the first `length` bytes of a file (fewer if it is shorter) into a fresh buffer, in chunks:
 * one fs read is limited to 2 GiB, and past that Node aborts the process.
 */
export async function readPrefix(
  path: string,
  length: number,
): Promise<{ bytes: Uint8Array; fileSize: number }> {
  const fh = await open(path, 'r')
  try {
    const fileSize = (await fh.stat()).size
    const bytes = new Uint8Array(Math.min(length, fileSize))
    let at = 0
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, READ_CHUNK)
      const { bytesRead } = await fh.read(bytes, at, n, at)
      if (bytesRead === 0) return { bytes: bytes.subarray(0, at), fileSize }
      at += bytesRead
    }
    return { bytes, fileSize }
  } finally {
    await fh.close()
  }
}

/** Bytes per read call in {@link readPrefix}, well under Node's 2 GiB limit. */
const READ_CHUNK = 256 * 1024 * 1024

/** Why `path` is not a regular file ("a FIFO", "a socket", ...), or undefined when it is one. */
export async function notRegularFile(path: string): Promise<string | undefined> {
  let s
  try {
    s = await stat(path)
  } catch {
    return undefined // missing files are reported by the caller's own open/stat
  }
  if (s.isFile()) return undefined
  return s.isFIFO()
    ? 'a FIFO (named pipe)'
    : s.isSocket()
      ? 'a socket'
      : s.isCharacterDevice()
        ? 'a character device'
        : s.isBlockDevice()
          ? 'a block device'
          : s.isDirectory()
            ? 'a folder'
            : 'not a plain file'
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

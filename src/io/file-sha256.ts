/**
 * SHA-256 of files, read in chunks: inputs and dropped scans are hundreds of MB, so no file is
 * held whole just to be hashed. One place for the cohort manifest and the exports' provenance.
 */
import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/** Feeds the bytes of `path` into `h`; resolves with the number of bytes read. */
export async function hashFileInto(path: string, h: Hash): Promise<number> {
  let bytes = 0
  for await (const chunk of createReadStream(path)) {
    const b = chunk as Buffer
    h.update(b)
    bytes += b.length
  }
  return bytes
}

/** The hex SHA-256 of a file's bytes, and how many there are. */
export async function fileSha256(path: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHash('sha256')
  const bytes = await hashFileInto(path, h)
  return { sha256: h.digest('hex'), bytes }
}

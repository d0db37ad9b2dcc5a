/**
 * Hands an opened volume's voxels from the `open` worker to its parent through a private file
 * instead of the IPC pipe: 150 MB through `serialization: 'advanced'` IPC took ~1.5 s, a write
 * and a read of a file in /dev/shm (memory) take well under a tenth of that (issue 14).
 *
 * The parent picks the path (named by `tempFileName` with the parent's pid, so the leftover
 * sweep removes it after a crash of the parent) and sends it with the job; the
 * worker creates it exclusively (mode 0600) and answers with its length; the parent reads it and
 * unlinks it at once, and unlinks it too whenever the worker ends without a usable answer.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { open, readFile, rm, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tempFileName } from '../shared/file-names.js'

/** The voxels were written to the handoff file: `byteLength` bytes. */
export interface VoxelHandoff {
  readonly byteLength: number
}

/** Where handoff files go: /dev/shm (memory) when present, else the OS temporary folder. */
export function handoffDir(): string {
  try {
    if (existsSync('/dev/shm') && statSync('/dev/shm').isDirectory()) return '/dev/shm'
  } catch {
    // Not usable: fall back.
  }
  return tmpdir()
}

/** A fresh handoff path for a worker started by this process. */
export function newHandoffPath(): string {
  return join(handoffDir(), tempFileName(process.pid, randomBytes(4).toString('hex')))
}

/**
 * Worker side: fills the handoff file at `path` (sent with the job), in order, as the voxels are
 * decoded. Once a write fails (e.g. /dev/shm full) it writes nothing more and `ok` is false: the
 * voxels then go through the IPC pipe as before.
 */
export class HandoffWriter {
  readonly #path: string
  #fd: number | undefined
  #ok: boolean
  /** Bytes written so far, from the start. */
  written = 0

  constructor(path: string) {
    this.#path = path
    this.#ok = path !== ''
  }

  get ok(): boolean {
    return this.#ok
  }

  /** Writes `bytes`, which must start at byte `written`; false once writing has failed. */
  append(bytes: Uint8Array): boolean {
    if (!this.#ok) return false
    try {
      // 'wx': never follow or reuse a file someone else put there.
      this.#fd ??= openSync(this.#path, 'wx', 0o600)
      let off = 0
      while (off < bytes.byteLength) {
        off += writeSync(this.#fd, bytes, off, bytes.byteLength - off, this.written + off)
      }
      this.written += bytes.byteLength
      return true
    } catch {
      this.#fail()
      return false
    }
  }

  /**
   * Writes what of `all` (the whole voxel bytes) is not written yet and closes: what to tell the
   * parent, or undefined when the file could not take it all.
   */
  finish(all: Uint8Array): VoxelHandoff | undefined {
    if (this.written < all.byteLength) this.append(all.subarray(this.written))
    if (!this.#ok || this.written !== all.byteLength) return undefined
    try {
      // An empty volume still leaves a file, so the parent's read finds one.
      this.#fd ??= openSync(this.#path, 'wx', 0o600)
      closeSync(this.#fd)
      this.#fd = undefined
      return { byteLength: all.byteLength }
    } catch {
      this.#fail()
      return undefined
    }
  }

  #fail(): void {
    this.#ok = false
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd)
      } catch {
        // Closed.
      }
      this.#fd = undefined
    }
    try {
      unlinkSync(this.#path)
    } catch {
      // Not created.
    }
  }
}

/** Worker side, in one go: writes `bytes` to the handoff file at `path` (see {@link HandoffWriter}). */
export function writeHandoff(bytes: Uint8Array, path: string): VoxelHandoff | undefined {
  return new HandoffWriter(path).finish(bytes)
}

/**
 * Parent side: reads the handoff file at `path` (expecting `byteLength` bytes) and removes it.
 * The returned bytes own their buffer (offset 0), so no further copy is needed downstream.
 */
export async function takeHandoff(path: string, byteLength: number): Promise<Uint8Array> {
  try {
    const buf = await readFile(path)
    if (buf.byteLength !== byteLength) {
      throw new Error(
        `the reader's voxel file ${path} holds ${buf.byteLength} bytes, not ${byteLength}`,
      )
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  } finally {
    await rm(path, { force: true })
  }
}

/**
 * Parent side, while the worker still writes: reads the handoff file at `path` into `buffer` (the
 * whole grid's bytes) as far as the worker says it wrote, one read after another, and calls
 * `onRead` with how many bytes are in after each.
 */
export class HandoffReader {
  readonly buffer: Uint8Array
  readonly #path: string
  readonly #onRead: (readBytes: number) => void
  #fd: Promise<FileHandle> | undefined
  #asked = 0
  #read = 0
  #chain: Promise<void> = Promise.resolve()
  #error: Error | undefined
  /** No more reads: the bytes came through the pipe, or the reader was closed. */
  #done = false

  constructor(path: string, byteLength: number, onRead: (readBytes: number) => void) {
    this.#path = path
    this.buffer = new Uint8Array(byteLength)
    this.#onRead = onRead
  }

  /** Bytes in `buffer` so far. */
  get readBytes(): number {
    return this.#read
  }

  /** The worker wrote the first `bytes`: read them (after the reads already asked for). */
  advance(bytes: number): void {
    const to = Math.min(bytes, this.buffer.byteLength)
    if (to <= this.#asked || this.#error || this.#done) return
    const from = this.#asked
    this.#asked = to
    this.#chain = this.#chain.then(async () => {
      if (this.#error || this.#done) return
      try {
        this.#fd ??= open(this.#path, 'r')
        const fh = await this.#fd
        let at = from
        while (at < to) {
          const { bytesRead } = await fh.read(this.buffer, at, to - at, at)
          if (bytesRead === 0) {
            throw new Error(`the reader's voxel file ends at byte ${at} of ${to}`)
          }
          at += bytesRead
        }
        if (this.#done) return
        this.#read = to
        this.#onRead(to)
      } catch (e) {
        this.#error = e as Error
      }
    })
  }

  /**
   * The worker answered: its voxels are all in the file (`viaPipe` undefined: read the rest), or
   * came through the pipe (`viaPipe`: the file failed; they are placed over the buffer). Closes
   * and removes the file; resolves with the whole buffer, rejects when a read failed.
   */
  async complete(viaPipe: Uint8Array | undefined): Promise<Uint8Array> {
    if (viaPipe === undefined) {
      this.advance(this.buffer.byteLength)
    } else {
      if (viaPipe.byteLength !== this.buffer.byteLength) {
        throw new Error(`${viaPipe.byteLength} voxel bytes, not ${this.buffer.byteLength}`)
      }
      this.#done = true
      this.buffer.set(viaPipe)
      this.#read = viaPipe.byteLength
      this.#onRead(this.#read)
    }
    await this.#chain
    await this.close()
    if (viaPipe === undefined && this.#error) throw this.#error
    if (this.#read !== this.buffer.byteLength) {
      throw new Error(`read ${this.#read} of the ${this.buffer.byteLength} voxel bytes`)
    }
    return this.buffer
  }

  /** Stops reading; closes and removes the file. */
  async close(): Promise<void> {
    this.#done = true
    const fd = this.#fd
    this.#fd = undefined
    await fd?.then((f) => f.close()).catch(() => undefined)
    await rm(this.#path, { force: true })
  }
}

/** Removes a handoff file that was never taken (worker crashed, timed out, was cancelled). */
export function dropHandoff(path: string): void {
  void rm(path, { force: true }).catch(() => undefined)
}

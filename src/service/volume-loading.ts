/**
 * A volume answered before it was read to the end (an early `open`, issue 14): how many of its
 * voxel bytes are in, waits for more, and the final answer once the reader is done.
 */
import { err, ok, type OpenedVolume, type Result } from '../shared/api.js'

export class VolumeLoading {
  #readBytes: number
  #waiters: { readonly bytes: number; readonly done: (r: Result<null>) => void }[] = []
  #end: Result<OpenedVolume> | undefined
  #onEnd: ((r: Result<OpenedVolume>) => void)[] = []
  readonly #cancel: () => void

  /** `readBytes` are in already; `cancel` stops the reader (the volume was closed). */
  constructor(readBytes: number, cancel: () => void) {
    this.#readBytes = readBytes
    this.#cancel = cancel
  }

  get readBytes(): number {
    return this.#readBytes
  }

  /** True once the reader is done, whether every byte came or it failed. */
  get ended(): boolean {
    return this.#end !== undefined
  }

  /** The first `bytes` voxel bytes are in. */
  advance(bytes: number): void {
    if (bytes <= this.#readBytes) return
    this.#readBytes = bytes
    const ready = this.#waiters.filter((w) => w.bytes <= bytes)
    this.#waiters = this.#waiters.filter((w) => w.bytes > bytes)
    for (const w of ready) w.done(ok(null))
  }

  /** The reader is done: `r` is the volume with its final figures, or why the rest is missing. */
  end(r: Result<OpenedVolume>): void {
    if (this.#end) return
    this.#end = r
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.done(r.ok ? ok(null) : r)
    for (const f of this.#onEnd.splice(0)) f(r)
  }

  /** Resolves once the first `bytes` voxel bytes are in, or with the reader's failure. */
  until(bytes: number): Promise<Result<null>> {
    if (bytes <= this.#readBytes) return Promise.resolve(ok(null))
    if (this.#end) {
      return Promise.resolve(
        this.#end.ok ? err('E_INTERNAL', 'the reader ended before the last voxel') : this.#end,
      )
    }
    return new Promise((done) => this.#waiters.push({ bytes, done }))
  }

  /** The volume once read to the end (figures over every voxel), or the reader's failure. */
  whole(): Promise<Result<OpenedVolume>> {
    if (this.#end) return Promise.resolve(this.#end)
    return new Promise((done) => this.#onEnd.push(done))
  }

  /** The volume was closed while being read: stop the reader; whoever waits hears so. */
  cancel(): void {
    this.#cancel()
    this.end(err('E_CANCELLED', 'the volume was closed before it was read to the end'))
  }
}

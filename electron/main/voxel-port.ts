/**
 * Result bytes (voxels, label maps, uncertainty) leave main over a `MessageChannelMain` port that
 * the preload hands to the page (`PORT_CHANNEL`), never inside the JSON-like invoke reply and
 * never through `contextBridge` (which would copy 150 MB once more). The reply keeps its header
 * and a ticket; the port message `{ ticket, bytes }` carries an `ArrayBuffer` the page receives
 * as its own (architecture.md §1.1).
 */
import type { Result } from '../../src/shared/api.js'
import type { DetachedBytes } from '../../src/shared/ipc-channels.js'

/** The part of a `MessagePortMain` this module uses. */
export interface BytesSink {
  postMessage(message: unknown): void
}

/** One port message. */
export interface BytesMessage {
  readonly ticket: number
  readonly bytes: ArrayBuffer
}

/** An `ArrayBuffer` holding exactly the bytes of `view` (the view itself when it spans its buffer). */
export function exactBuffer(view: Uint8Array): ArrayBuffer {
  const whole =
    view.byteOffset === 0 &&
    view.byteLength === view.buffer.byteLength &&
    view.buffer instanceof ArrayBuffer
  return whole ? (view.buffer as ArrayBuffer) : (view.slice().buffer as ArrayBuffer)
}

/** Numbers the tickets of one page's port. */
export class BytesOut {
  #next = 1
  constructor(private readonly sink: BytesSink) {}

  /**
   * `r` with its value's `bytes` replaced by a ticket, the bytes posted on the port first; any
   * other result (no bytes, or a failure) unchanged.
   */
  detach(r: Result<unknown>): Result<unknown> {
    if (!r.ok) return r
    const v = r.value as { bytes?: unknown } | null
    if (typeof v !== 'object' || v === null || !(v.bytes instanceof Uint8Array)) return r
    const ticket = this.#next++
    const message: BytesMessage = { ticket, bytes: exactBuffer(v.bytes) }
    this.sink.postMessage(message)
    const header: Record<string, unknown> = { ...v }
    delete header.bytes
    const value: typeof header & DetachedBytes = { ...header, bytesTicket: ticket }
    return { ok: true, value }
  }
}

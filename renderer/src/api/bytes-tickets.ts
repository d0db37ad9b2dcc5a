/**
 * The page's half of the desktop bytes port (DOM-free, so it is tested in Node): bytes that
 * arrived by ticket, calls waiting for theirs, and the reply with its bytes put back, so the
 * viewer sees exactly the contract's `{ ...header, bytes: Uint8Array }`.
 */
import type { Result } from '../../../src/shared/api.js'

/** Bytes by ticket, and calls waiting for theirs. */
export class BytesTickets {
  readonly #ready = new Map<number, ArrayBuffer>()
  readonly #waiting = new Map<number, (b: ArrayBuffer) => void>()

  /** Takes one port message `{ ticket, bytes }`; anything else is ignored. */
  take(data: unknown): void {
    const m = data as { ticket?: unknown; bytes?: unknown } | null
    if (typeof m?.ticket !== 'number' || !(m.bytes instanceof ArrayBuffer)) return
    const w = this.#waiting.get(m.ticket)
    if (w) {
      this.#waiting.delete(m.ticket)
      w(m.bytes)
    } else this.#ready.set(m.ticket, m.bytes)
  }

  /** The bytes of `ticket`, now or once they arrive. */
  bytes(ticket: number): Promise<ArrayBuffer> {
    const b = this.#ready.get(ticket)
    if (b) {
      this.#ready.delete(ticket)
      return Promise.resolve(b)
    }
    return new Promise((resolve) => this.#waiting.set(ticket, resolve))
  }

  /** `r` with its `bytesTicket` replaced by the bytes it names; any other result unchanged. */
  async attach(r: Result<unknown>): Promise<Result<unknown>> {
    if (!r.ok) return r
    const v = r.value as { bytesTicket?: unknown } | null
    if (typeof v !== 'object' || v === null || typeof v.bytesTicket !== 'number') return r
    const { bytesTicket, ...header } = v as { bytesTicket: number } & Record<string, unknown>
    const buf = await this.bytes(bytesTicket)
    return { ok: true, value: { ...header, bytes: new Uint8Array(buf) } }
  }
}

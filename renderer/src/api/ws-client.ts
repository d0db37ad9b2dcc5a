/**
 * {@link VolsegApi} over one WebSocket (`volseg serve`): binary frames from `src/shared/wire.ts`,
 * request ids, responses matched by id, pushed {@link ApiEvent}s to subscribers. Every method
 * resolves to a `Result`; a lost connection answers the pending calls with `E_DISCONNECTED`-like
 * errors instead of rejecting.
 */
import {
  API_METHODS,
  err,
  type ApiEvent,
  type ApiMethod,
  type ApiRequest,
  type ApiValue,
  type Result,
  type VolsegApi,
} from '../../../src/shared/api.js'
import { decodeMessage, encodeRequest } from '../../../src/shared/wire.js'

/** A client: the API, event subscription, and connection state. */
export interface ApiClient {
  readonly api: VolsegApi
  /** Calls `listener` for every pushed event; returns the unsubscribe function. */
  onEvent(listener: (e: ApiEvent) => void): () => void
  /** Calls `listener` once when the connection is lost (not after `close()`), with a sentence. */
  onClose(listener: (why: string) => void): () => void
  close(): void
}

interface Pending {
  resolve(r: Result<unknown>): void
}

/**
 * Opens the socket at `url`, offering `protocols` (the token travels as one), and resolves once
 * it is open (or rejects with a sentence).
 */
export function connectWebSocket(url: string, protocols: string[] = []): Promise<ApiClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols)
    socket.binaryType = 'arraybuffer'
    const pending = new Map<number, Pending>()
    const events = new Set<(e: ApiEvent) => void>()
    const closers = new Set<(why: string) => void>()
    let nextId = 1
    let open = false
    let closedWhy: string | undefined
    /** Closed by `close()` (the page is leaving): no "lost" listener runs, no reconnect starts. */
    let closedByUs = false

    const failAll = (why: string): void => {
      for (const p of pending.values()) p.resolve(err('E_INTERNAL', why))
      pending.clear()
    }

    socket.addEventListener('open', () => {
      open = true
      resolve(client)
    })
    socket.addEventListener('close', (ev) => {
      closedWhy = `the connection to VolSeg was closed (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`
      failAll(closedWhy)
      if (!open) reject(new Error(closedWhy))
      if (!closedByUs) for (const c of closers) c(closedWhy)
    })
    socket.addEventListener('message', (ev: MessageEvent<unknown>) => {
      if (!(ev.data instanceof ArrayBuffer)) return
      const m = decodeMessage(new Uint8Array(ev.data))
      if (!m.ok) {
        console.error('volseg: bad frame from the core:', m.error.message)
        return
      }
      const msg = m.value
      if (msg.kind === 'response') {
        const p = pending.get(msg.id)
        pending.delete(msg.id)
        p?.resolve(msg.result)
      } else if (msg.kind === 'event') {
        for (const l of events) l(msg.event)
      }
    })

    function call<M extends ApiMethod>(
      method: M,
      params: ApiRequest<M>,
    ): Promise<Result<ApiValue<M>>> {
      if (closedWhy !== undefined || socket.readyState !== WebSocket.OPEN) {
        return Promise.resolve(err('E_INTERNAL', closedWhy ?? 'not connected to VolSeg'))
      }
      const id = nextId++
      return new Promise((res) => {
        pending.set(id, { resolve: res as (r: Result<unknown>) => void })
        socket.send(encodeRequest(id, method, params))
      })
    }

    const api = {} as Record<ApiMethod, (req: unknown) => Promise<Result<unknown>>>
    for (const method of Object.keys(API_METHODS) as ApiMethod[]) {
      api[method] = (req: unknown) => call(method, req as ApiRequest<typeof method>)
    }

    const client: ApiClient = {
      api: api as unknown as VolsegApi,
      onEvent(listener) {
        events.add(listener)
        return () => events.delete(listener)
      },
      onClose(listener) {
        closers.add(listener)
        return () => closers.delete(listener)
      },
      close() {
        // A leaving page that reconnected from its close handler would race its own reload for
        // the session (it happened in CI: the reload found its session taken).
        closedByUs = true
        socket.close(1000, 'closed by the viewer')
      },
    }
  })
}

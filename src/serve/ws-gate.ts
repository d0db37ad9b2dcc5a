/**
 * The WebSocket gate (architecture.md §3, §5 S6): one connection, binary frames in the `wire.ts` format.
 * Every request is decoded, checked by `requestGuards[method]`, and only then handed to the
 * service; every answer is a `Result`. A malformed frame is answered with an error `Result`
 * (under the request's id when it can be read, else id 0) and the connection stays usable.
 * Events of the service are pushed to the connection as event frames.
 */
import type { WebSocket, RawData } from 'ws'
import {
  err,
  ok,
  requestGuards,
  type ApiMethod,
  type Result,
  type VolsegApi,
} from '../shared/api.js'
import {
  REQUEST_LIMITS,
  decodeFrame,
  decodeMessage,
  encodeEvent,
  encodeResponse,
  encodeResponseParts,
} from '../shared/wire.js'
import type { ServiceSession, VolsegService } from '../service/create-service.js'

/** Most requests one connection may have in flight; more are refused with `E_ARGS`. */
export const MAX_IN_FLIGHT = 64

/** Id used for errors about a frame whose own id could not be read. Clients start at 1. */
export const UNATTRIBUTED_ID = 0

/** One frame of `data` as a `Uint8Array` (ws hands a Buffer, an ArrayBuffer or fragments). */
function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return data
}

/** The id of a frame that failed to decode as a message, when its header still has one. */
function idOf(frame: Uint8Array): number {
  const f = decodeFrame(frame, REQUEST_LIMITS)
  if (!f.ok) return UNATTRIBUTED_ID
  const h = f.value.header as { id?: unknown } | null
  const id = typeof h === 'object' && h !== null ? h.id : undefined
  return Number.isSafeInteger(id) && (id as number) >= 0 ? (id as number) : UNATTRIBUTED_ID
}

/** Calls `method` of `api` with already-guarded `params`. */
function dispatch(api: VolsegApi, method: ApiMethod, params: unknown): Promise<Result<unknown>> {
  const fn = api[method] as (p: unknown) => Promise<Result<unknown>>
  return fn.call(api, params)
}

/** `session` whose `hello` also reports the upload limit of this transport. */
function withUploadLimit(session: ServiceSession, maxUploadBytes: number): VolsegApi {
  return {
    ...session,
    async hello(req) {
      const r = await session.hello(req)
      return r.ok ? ok({ ...r.value, maxUploadBytes }) : r
    },
  }
}

/**
 * Serves one accepted (authenticated) WebSocket connection until it closes. The connection gets
 * its own session of `service`; when it closes, the session is detached (architecture.md §7:
 * what it opened is released after the grace period unless a reloaded page resumes it).
 */
export function attachConnection(
  ws: WebSocket,
  service: VolsegService,
  maxUploadBytes: number,
): void {
  let inFlight = 0
  const send = (frame: Uint8Array): void => {
    if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true })
  }
  const session = service.openSession()
  const api = withUploadLimit(session, maxUploadBytes)
  session.subscribe((event) => send(encodeEvent(event)))
  ws.on('close', () => session.detach())
  ws.on('error', () => ws.terminate())
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      send(encodeResponse(UNATTRIBUTED_ID, err('E_BAD_HEADER', 'text frames are not accepted')))
      return
    }
    const frame = toBytes(data)
    // Size and nesting are capped before parsing: a huge or deep header must not block the loop.
    const m = decodeMessage(frame, REQUEST_LIMITS)
    if (!m.ok) {
      send(encodeResponse(idOf(frame), m))
      return
    }
    const msg = m.value
    if (msg.kind !== 'request') {
      send(
        encodeResponse(UNATTRIBUTED_ID, err('E_BAD_HEADER', `a client may not send ${msg.kind}s`)),
      )
      return
    }
    const { id, method, params } = msg
    if (!requestGuards[method](params)) {
      send(encodeResponse(id, err('E_ARGS', `invalid arguments for ${method}`)))
      return
    }
    if (inFlight >= MAX_IN_FLIGHT) {
      send(encodeResponse(id, err('E_ARGS', `more than ${MAX_IN_FLIGHT} calls in flight`)))
      return
    }
    inFlight++
    dispatch(api, method, params)
      .catch((x: unknown) => err('E_INTERNAL', `unexpected failure: ${String(x)}`))
      .then((result) => {
        let parts: [Uint8Array, Uint8Array | undefined]
        try {
          parts = encodeResponseParts(id, result)
        } catch (x) {
          parts = [
            encodeResponse(id, err('E_INTERNAL', `could not encode the answer: ${String(x)}`)),
            undefined,
          ]
        }
        const [head, payload] = parts
        if (payload === undefined) {
          send(head)
        } else if (ws.readyState === ws.OPEN) {
          // One message in two fragments, sent back to back (nothing can come between them).
          ws.send(head, { binary: true, fin: false })
          ws.send(payload, { binary: true, fin: true })
        }
      })
      .catch(() => undefined)
      .finally(() => inFlight--)
  })
}

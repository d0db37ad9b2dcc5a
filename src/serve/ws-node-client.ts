/**
 * A {@link VolsegApi} client over one WebSocket, for Node (tests, scripts): the same wire format
 * as the renderer's `ws-client.ts`. Ids start at 1 (0 is the server's id for unattributable
 * errors). Never rejects a call: transport failures resolve to an `E_INTERNAL` Result.
 */
import WebSocket from 'ws'
import {
  API_METHODS,
  err,
  type ApiEvent,
  type ApiMethod,
  type ApiRequest,
  type ApiValue,
  type Result,
  type VolsegApi,
} from '../shared/api.js'
import { SOCKET_PATH, TOKEN_PARAM, socketProtocols } from '../shared/serve-token.js'
import { decodeMessage, encodeRequest } from '../shared/wire.js'

/** Options of {@link connectNodeClient}. */
export interface NodeClientOptions {
  /** `Origin` header; default `http://<host:port of url>`. */
  readonly origin?: string
  /** Extra headers (e.g. a cookie, a forged Host in tests). */
  readonly headers?: Readonly<Record<string, string>>
  /** The token; default the one in `url`. Presented as a subprotocol, never in the URL. */
  readonly token?: string
}

/**
 * The socket URL and token for `url`: the page URL `volseg serve` printed
 * (`http://host:port/#token=…`) or a socket URL (`ws://host:port/ws`, optionally `?token=…`,
 * which is taken out of the URL).
 */
export function socketTarget(url: string): { url: string; token: string | undefined } {
  const u = new URL(url)
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    const token = new URLSearchParams(u.hash.slice(1)).get(TOKEN_PARAM) ?? undefined
    const ws = u.protocol === 'https:' ? 'wss:' : 'ws:'
    return { url: `${ws}//${u.host}${SOCKET_PATH}`, token }
  }
  const token = u.searchParams.get(TOKEN_PARAM) ?? undefined
  u.searchParams.delete(TOKEN_PARAM)
  return { url: u.href, token }
}

/** A connected client: the API plus raw access for tests. */
export interface NodeClient extends VolsegApi {
  /** Calls `method`; resolves to its Result. */
  call<M extends ApiMethod>(method: M, params: ApiRequest<M>): Promise<Result<ApiValue<M>>>
  /** Sends raw bytes as one binary frame; the answer with `id` (if any) resolves. */
  sendRaw(frame: Uint8Array, id: number): Promise<Result<unknown>>
  /** Every pushed event. */
  onEvent(fn: (e: ApiEvent) => void): () => void
  /** Resolves with the close code once the socket closes. */
  readonly closed: Promise<number>
  close(): void
  readonly socket: WebSocket
}

/**
 * Connects to `url` (see {@link socketTarget}), presenting the token as the renderer does;
 * rejects when the upgrade is refused.
 */
export async function connectNodeClient(
  url: string,
  options: NodeClientOptions = {},
): Promise<NodeClient> {
  const target = socketTarget(url)
  const u = new URL(target.url)
  const ws = new WebSocket(target.url, socketProtocols(options.token ?? target.token), {
    origin: options.origin ?? `http://${u.host}`,
    ...(options.headers ? { headers: { ...options.headers } } : {}),
    perMessageDeflate: false,
    maxPayload: 2 ** 31,
  })
  ws.binaryType = 'nodebuffer'
  await new Promise<void>((resolveOpen, reject) => {
    ws.once('open', () => resolveOpen())
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`upgrade refused: HTTP ${res.statusCode}`))
      ws.terminate()
    })
  })
  const pending = new Map<number, (r: Result<unknown>) => void>()
  const listeners = new Set<(e: ApiEvent) => void>()
  let next = 1
  const closed = new Promise<number>((r) => {
    ws.on('close', (code) => {
      for (const done of pending.values()) done(err('E_INTERNAL', `socket closed (${code})`))
      pending.clear()
      r(code)
    })
  })
  ws.on('error', () => undefined)
  ws.on('message', (data: Buffer) => {
    const m = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    if (!m.ok) return
    if (m.value.kind === 'event') {
      for (const fn of listeners) fn(m.value.event)
    } else if (m.value.kind === 'response') {
      const done = pending.get(m.value.id)
      pending.delete(m.value.id)
      done?.(m.value.result)
    }
  })
  const sendRaw = (frame: Uint8Array, id: number): Promise<Result<unknown>> =>
    new Promise((r) => {
      if (ws.readyState !== ws.OPEN) {
        r(err('E_INTERNAL', 'socket is not open'))
        return
      }
      pending.set(id, r)
      ws.send(frame, { binary: true })
    })
  const call = <M extends ApiMethod>(
    method: M,
    params: ApiRequest<M>,
  ): Promise<Result<ApiValue<M>>> => {
    const id = next++
    return sendRaw(encodeRequest(id, method, params), id) as Promise<Result<ApiValue<M>>>
  }
  const api = Object.fromEntries(
    Object.keys(API_METHODS).map((m) => [
      m,
      (p: unknown) => call(m as ApiMethod, p as ApiRequest<ApiMethod>),
    ]),
  ) as unknown as VolsegApi
  return {
    ...api,
    call,
    sendRaw,
    onEvent(fn) {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    closed,
    close: () => ws.close(),
    socket: ws,
  }
}

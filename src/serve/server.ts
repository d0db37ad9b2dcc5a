/**
 * The `volseg serve` HTTP + WebSocket server (architecture.md §3, §5 S1–S6). Every request needs a
 * `Host` naming this server. All data goes over the WebSocket, whose upgrade also needs our
 * `Origin` and the token as a subprotocol (`src/shared/serve-token.ts`). HTTP serves only the
 * built renderer (public code, no data), so it needs no token, with a CSP header and `nosniff`;
 * no CORS headers and no cookies are ever sent, and a cookie the browser sends is never read.
 * The WebSocket (`ws`, `noServer`) caps frames at `maxFrameBytes`: a bigger one closes that
 * socket (1009).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { MAX_UPLOAD_BYTES } from '../shared/api.js'
import { contentSecurityPolicy } from './csp.js'
import type { VolsegService } from '../service/create-service.js'
import {
  SOCKET_PATH,
  SOCKET_PROTOCOL,
  TOKEN_PARAM,
  pageUrl,
  tokenFromProtocols,
} from '../shared/serve-token.js'
import {
  allowedHosts,
  hostPort,
  hostProblem,
  isWildcard,
  newToken,
  originProblem,
  tokenMatches,
} from './access.js'
import { serveStatic } from './static-files.js'
import { attachConnection } from './ws-gate.js'

/**
 * Default cap on one incoming WebSocket frame: a uint16 512×512×300 label upload fits, and so
 * does a dropped file of up to `MAX_UPLOAD_BYTES` (256 MiB less 64 KiB) with its header.
 */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024

/** Room left in a frame for the JSON header of an `openUpload` request (name ≤ 255 chars). */
export const UPLOAD_HEADER_ROOM = 64 * 1024

/**
 * Largest request head we parse. Any other server on this host may set cookies that the browser
 * then sends to us too (cookies ignore the port): Chromium keeps up to 180 of 4 KiB per host,
 * past Node's 16 KiB default, so a "cookie bomb" would get every request refused (431).
 */
export const MAX_HEADER_BYTES = 1024 * 1024

/**
 * The largest dropped file (`openUpload`) whose request fits one frame of `maxFrameBytes`: the
 * frame less {@link UPLOAD_HEADER_ROOM}, at most {@link MAX_UPLOAD_BYTES}.
 */
export function maxUploadBytes(maxFrameBytes: number): number {
  return Math.max(0, Math.min(MAX_UPLOAD_BYTES, maxFrameBytes - UPLOAD_HEADER_ROOM))
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  readonly service: VolsegService
  /** Built renderer folder (`renderer/dist`). */
  readonly staticRoot: string
  /** Default `127.0.0.1`. */
  readonly host?: string
  /** Default 8787; 0 picks a free port. */
  readonly port?: number
  /** Largest incoming WebSocket frame (default {@link DEFAULT_MAX_FRAME_BYTES}). */
  readonly maxFrameBytes?: number
  /** Fixed token (tests); default a fresh random one. */
  readonly token?: string
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port/#token=<hex>`: the one URL to open (the fragment never leaves the browser). */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly token: string
  /** The bound address as the OS reports it. */
  readonly address: AddressInfo
  /** Closes every socket and the listener (the service is the caller's to close). */
  close(): Promise<void>
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  })
  res.end(`${text}\n`)
}

/** Refuses an upgrade on the raw socket: a short HTTP answer, then the socket is destroyed. */
function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n`,
    )
  }
  socket.destroy()
}

/** Splits a raw request target into path and query (no URL normalisation: `..` stays). */
function splitTarget(target: string | undefined): { path: string; query: URLSearchParams } {
  const t = target ?? '/'
  const q = t.indexOf('?')
  return q < 0
    ? { path: t, query: new URLSearchParams() }
    : { path: t.slice(0, q), query: new URLSearchParams(t.slice(q + 1)) }
}

/** Starts listening; resolves once bound. */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const host = o.host ?? '127.0.0.1'
  const token = o.token ?? newToken()
  const wildcard = isWildcard(host)
  let port = 0
  let allowed = new Set<string>()
  const maxFrameBytes = o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const uploadLimit = maxUploadBytes(maxFrameBytes)
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrameBytes,
    perMessageDeflate: false,
    // The upgrade was authorised by the token subprotocol; answer with ours only, so the token
    // is never echoed.
    handleProtocols: (offered) => (offered.has(SOCKET_PROTOCOL) ? SOCKET_PROTOCOL : false),
  })

  // Only the subprotocol counts: no cookie (every server on the host gets it) and no query
  // (URLs end up in logs and history).
  const authorised = (req: IncomingMessage): boolean =>
    tokenMatches(tokenFromProtocols(req.headers['sec-websocket-protocol']), token)

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const hostWhy = hostProblem(req, allowed, wildcard)
    if (hostWhy !== undefined) return plain(res, 403, `forbidden: ${hostWhy}`)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return plain(res, 405, 'method not allowed')
    }
    const { path, query } = splitTarget(req.url)
    const old = query.get(TOKEN_PARAM)
    if (old !== null) {
      // An old link (`/?token=`): move the token to the fragment, out of every later request.
      // Not checked here: HTTP serves no data, and the page's socket will be.
      query.delete(TOKEN_PARAM)
      const rest = query.toString()
      res.writeHead(302, {
        Location: `${path.startsWith('/') ? path.replace(/^\/+/, '/') : '/'}${rest ? `?${rest}` : ''}#${TOKEN_PARAM}=${encodeURIComponent(old)}`,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
      })
      res.end()
      return
    }
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(req.headers.host ?? ''))
    res.setHeader('X-Content-Type-Options', 'nosniff')
    res.setHeader('Referrer-Policy', 'no-referrer')
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
    await serveStatic(o.staticRoot, path, res, req.method === 'HEAD')
  }

  const server: Server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, (req, res) => {
    onRequest(req, res).catch(() => {
      if (!res.headersSent) plain(res, 500, 'internal error')
      else res.destroy()
    })
  })

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const hostWhy = hostProblem(req, allowed, wildcard)
    if (hostWhy !== undefined) return refuseUpgrade(socket, 403, 'Forbidden')
    const originWhy = originProblem(req)
    if (originWhy !== undefined) return refuseUpgrade(socket, 403, 'Forbidden')
    if (!authorised(req)) return refuseUpgrade(socket, 401, 'Unauthorized')
    if (splitTarget(req.url).path !== SOCKET_PATH) return refuseUpgrade(socket, 404, 'Not Found')
    wss.handleUpgrade(req, socket, head, (ws) => attachConnection(ws, o.service, uploadLimit))
  })
  server.on('clientError', (_e, socket) => socket.destroy())

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(o.port ?? 8787, host, () => {
      server.off('error', reject)
      resolveListen()
    })
  })
  const address = server.address() as AddressInfo
  port = address.port
  allowed = allowedHosts(host, port)
  const shown = wildcard ? '127.0.0.1' : host
  return {
    url: pageUrl(`http://${hostPort(shown, port)}`, token),
    host,
    port,
    token,
    address,
    async close() {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

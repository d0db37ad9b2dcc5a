/**
 * How a client presents the `volseg serve` token (architecture.md §5, S2), shared by the
 * server, the renderer and the Node client. The printed URL carries it in the fragment
 * (`/#token=<hex>`), which no browser sends to any server; the client presents it only as a
 * WebSocket subprotocol, never in a URL or a cookie (cookies are scoped by host, not port,
 * so every other server on 127.0.0.1 would receive one).
 */

/** Where the server accepts the WebSocket. */
export const SOCKET_PATH = '/ws'

/** The subprotocol the server answers with; every client offers it. */
export const SOCKET_PROTOCOL = 'volseg'

/** Prefix of the subprotocol that carries the token (cf. Kubernetes' bearer subprotocol). */
export const TOKEN_PROTOCOL_PREFIX = 'volseg.token.'

/** The fragment parameter of the printed URL that holds the token. */
export const TOKEN_PARAM = 'token'

/** What a token looks like: 32 random bytes as 64 lowercase hex digits. */
export const TOKEN_SHAPE = /^[0-9a-f]{64}$/

/** The subprotocols to offer: ours, plus the token when there is one. */
export function socketProtocols(token: string | undefined): string[] {
  return token === undefined
    ? [SOCKET_PROTOCOL]
    : [SOCKET_PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`]
}

/** The URL a user opens: `origin` (`http://host:port`) with the token in the fragment. */
export function pageUrl(origin: string, token: string): string {
  return `${origin}/#${TOKEN_PARAM}=${token}`
}

/**
 * The token a `Sec-WebSocket-Protocol` value presents: the one `volseg.token.*` entry, when
 * `volseg` is offered too (it is what the server answers with). Undefined otherwise, also
 * when several tokens are offered.
 */
export function tokenFromProtocols(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const offered = header.split(',').map((p) => p.trim())
  if (!offered.includes(SOCKET_PROTOCOL)) return undefined
  const tokens = offered.filter((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))
  return tokens.length === 1 ? tokens[0]!.slice(TOKEN_PROTOCOL_PREFIX.length) : undefined
}

/**
 * Who may talk to `volseg serve` (architecture.md §5, S1–S3): a random 32-byte token per start,
 * presented only as a WebSocket subprotocol (`src/shared/serve-token.ts`; never a cookie, which
 * every other server on the host would receive) and compared in constant time; the `Host`
 * header must name the bound address (DNS rebinding) and a WebSocket's `Origin` must be our own.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** A fresh access token: 32 random bytes as 64 hex digits. */
export function newToken(): string {
  return randomBytes(32).toString('hex')
}

/** Constant-time comparison of a presented token with ours (length leaks nothing useful). */
export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false
  const a = Buffer.from(presented, 'utf8')
  const b = Buffer.from(token, 'utf8')
  if (a.length !== b.length) {
    timingSafeEqual(b, b) // same work either way
    return false
  }
  return timingSafeEqual(a, b)
}

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h)
}

/** True for the wildcard addresses (0.0.0.0, ::), which have no one name to check `Host` by. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]'
}

/** `host:port` as it appears in a `Host` header (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`
}

/** The `Host` values we answer to: the bound address, and `localhost` when bound to loopback. */
export function allowedHosts(host: string, port: number): Set<string> {
  const set = new Set([hostPort(host, port)])
  if (isLoopback(host)) {
    set.add(`localhost:${port}`)
    set.add(`127.0.0.1:${port}`)
  }
  return set
}

/**
 * Why the request's `Host` is refused, or undefined when it is ours. With a wildcard bind any
 * host is accepted (the token still guards; `--host` printed a warning).
 */
export function hostProblem(
  req: IncomingMessage,
  allowed: ReadonlySet<string>,
  wildcard: boolean,
): string | undefined {
  const h = req.headers.host
  if (h === undefined) return 'no Host header'
  if (wildcard || allowed.has(h.toLowerCase())) return undefined
  return `Host "${h}" is not this server`
}

/** Why a WebSocket upgrade's `Origin` is refused: it must be `http://` + the request's Host. */
export function originProblem(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin
  const h = req.headers.host
  if (origin === undefined) return 'no Origin header'
  if (h === undefined || origin.toLowerCase() !== `http://${h.toLowerCase()}`) {
    return `Origin "${origin}" is not this server`
  }
  return undefined
}

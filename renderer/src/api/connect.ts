/**
 * Picks the API client for where the viewer runs; the only module that knows the transport
 * (architecture.md §3). `http:`/`https:` → `volseg serve` over a WebSocket at `/ws` on the same origin.
 * The token arrives in the page URL (`?token=`); the server also keeps it in a cookie, which the
 * browser sends on the upgrade. We pass it in the socket URL too and then drop it from the
 * address bar so it is not copied into bookmarks or screenshots.
 */
import { connectWebSocket, type ApiClient } from './ws-client.js'

export type { ApiClient } from './ws-client.js'

/** Where `volseg serve` (src/serve/server.ts) accepts the socket. */
const SOCKET_PATH = '/ws'

/** Connects to the core serving this page. Rejects with a sentence when it cannot. */
export async function connect(): Promise<ApiClient> {
  const { protocol, host, search, pathname, hash } = window.location
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new Error(`no VolSeg client for ${protocol} pages yet (Electron IPC is a later issue)`)
  }
  const token = new URLSearchParams(search).get('token')
  const ws = protocol === 'https:' ? 'wss:' : 'ws:'
  const query = token !== null ? `?token=${encodeURIComponent(token)}` : ''
  const client = await connectWebSocket(`${ws}//${host}${SOCKET_PATH}${query}`)
  if (token !== null) window.history.replaceState(null, '', `${pathname}${hash}`)
  return client
}

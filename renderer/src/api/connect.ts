/**
 * Picks the API client for where the viewer runs; the only module that knows the transport
 * (architecture.md §3). `app:` → the desktop app's IPC (`ipc-client.ts`); `http:`/`https:` →
 * `volseg serve` over a WebSocket at `/ws` on the same origin.
 * The token arrives in the fragment of the printed URL (`/#token=<hex>`, never sent to a
 * server). It is kept in memory and in `sessionStorage` (this origin and tab only, so a reload
 * still connects and no other port can read it), dropped from the address bar at once, and
 * presented as a WebSocket subprotocol. No cookie is involved: cookies reach every port.
 */
import {
  SOCKET_PATH,
  TOKEN_PARAM,
  TOKEN_SHAPE,
  socketProtocols,
} from '../../../src/shared/serve-token.js'
import { connectIpc, desktopBridge } from './ipc-client.js'
import { connectWebSocket, type ApiClient } from './ws-client.js'

export type { ApiClient } from './ws-client.js'

/** The sessionStorage key of the token. */
const STORED = 'volseg.token'

/** Thrown when the page has no token: the user opened the address without it. */
export class NoTokenError extends Error {
  constructor() {
    super('Open the address that "volseg serve" printed: it carries the access token.')
    this.name = 'NoTokenError'
  }
}

/** sessionStorage, or undefined where it is unavailable (storage disabled). */
function storage(): Storage | undefined {
  try {
    return window.sessionStorage
  } catch {
    return undefined
  }
}

/**
 * The token from the fragment (stored, then removed from the address bar and history) or,
 * after a reload, from sessionStorage.
 */
function takeToken(): string | undefined {
  const { hash, pathname, search } = window.location
  const params = new URLSearchParams(hash.slice(1))
  const fromUrl = params.get(TOKEN_PARAM)
  if (fromUrl !== null) {
    params.delete(TOKEN_PARAM)
    const rest = params.toString()
    window.history.replaceState(null, '', `${pathname}${search}${rest ? `#${rest}` : ''}`)
    try {
      if (TOKEN_SHAPE.test(fromUrl)) storage()?.setItem(STORED, fromUrl)
    } catch {
      // storage full or refused: the token still lives in memory for this page
    }
    return fromUrl
  }
  return storage()?.getItem(STORED) ?? undefined
}

/** Connects to the core serving this page. Rejects with a sentence when it cannot. */
export async function connect(): Promise<ApiClient> {
  const { protocol, host } = window.location
  if (protocol === 'app:') {
    const bridge = desktopBridge()
    if (bridge === undefined) throw new Error('the desktop app started without its preload')
    return connectIpc(bridge)
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new Error(`no VolSeg client for ${protocol} pages`)
  }
  const token = takeToken()
  if (token === undefined || !TOKEN_SHAPE.test(token)) throw new NoTokenError()
  const ws = protocol === 'https:' ? 'wss:' : 'ws:'
  return connectWebSocket(`${ws}//${host}${SOCKET_PATH}`, socketProtocols(token))
}

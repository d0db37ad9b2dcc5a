/**
 * {@link VolsegApi} over the desktop app's preload (`window.volseg`, built from `API_METHODS` in
 * `electron/preload/api-builder.ts`). Calls go through Electron's IPC gate; result bytes arrive
 * over the bytes port the preload hands to this page (`PORT_MESSAGE`), as this page's own
 * `ArrayBuffer`s, matched to their reply by `bytesTicket`.
 */
import {
  API_METHODS,
  err,
  type ApiEvent,
  type ApiMethod,
  type Result,
  type VolsegApi,
} from '../../../src/shared/api.js'
import { APP_ORIGIN, PORT_MESSAGE, type ShellCommand } from '../../../src/shared/ipc-channels.js'
import { BytesTickets } from './bytes-tickets.js'
import type { ApiClient } from './ws-client.js'

/** What the preload exposes (see `electron/preload/api-builder.ts`). */
export type VolsegBridge = {
  readonly [M in ApiMethod]: (req: unknown) => Promise<Result<unknown>>
} & {
  onEvent(listener: (e: ApiEvent) => void): () => void
  onCommand(listener: (c: ShellCommand) => void): () => void
}

/** The preload's bridge, when this page runs in the desktop app. */
export function desktopBridge(): VolsegBridge | undefined {
  return (window as unknown as { volseg?: VolsegBridge }).volseg
}

/** Listens for the bytes port the preload posts to this page, and feeds `tickets` from it. */
function listenForPort(tickets: BytesTickets): void {
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    const tagged = (e.data as { type?: unknown } | null)?.type === PORT_MESSAGE
    if (e.source !== window || e.origin !== APP_ORIGIN || !tagged) return
    const port = e.ports[0]
    if (port === undefined) return
    port.onmessage = (m: MessageEvent<unknown>) => tickets.take(m.data)
  })
}

/** The client over `bridge`; resolves at once (the preload is there before the page runs). */
export function connectIpc(bridge: VolsegBridge): Promise<ApiClient> {
  const tickets = new BytesTickets()
  listenForPort(tickets)
  const call = async (method: ApiMethod, req: unknown): Promise<Result<unknown>> => {
    let r: Result<unknown>
    try {
      r = await bridge[method](req)
    } catch (x) {
      return err('E_INTERNAL', `the call ${method} failed: ${String(x)}`)
    }
    return tickets.attach(r)
  }
  const api = {} as Record<ApiMethod, (req: unknown) => Promise<Result<unknown>>>
  for (const m of Object.keys(API_METHODS) as ApiMethod[]) api[m] = (req) => call(m, req)
  const client: ApiClient = {
    api: api as unknown as VolsegApi,
    onEvent: (listener) => bridge.onEvent(listener),
    // The window and its core live and die together: there is no connection to lose.
    onClose: () => () => undefined,
    close: () => undefined,
  }
  return Promise.resolve(client)
}

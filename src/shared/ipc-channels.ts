/**
 * The one channel list of the Electron transport (architecture.md §1.4): main's IPC gate, the
 * preload and the renderer's IPC client all derive their channels from {@link API_METHODS} and
 * these few constants. Every channel carries the app prefix `volseg:`.
 */
import { API_METHODS, type ApiMethod, type SourceRef } from './api.js'

/** Origin of the desktop UI (`app://bundle`, served by `electron/main/protocol.ts`). */
export const APP_ORIGIN = 'app://bundle'

/** Prefix of every VolSeg IPC channel. */
export const CHANNEL_PREFIX = 'volseg:'

/** The invoke channel of API method `M`. */
export type ApiChannel<M extends ApiMethod = ApiMethod> = `volseg:${M}`

/** The invoke channel of `method`. */
export function channelOf<M extends ApiMethod>(method: M): ApiChannel<M> {
  return `${CHANNEL_PREFIX}${method}` as ApiChannel<M>
}

/** Every invoke channel, one per {@link API_METHODS} entry, frozen. */
export const API_CHANNELS: Readonly<{ [M in ApiMethod]: ApiChannel<M> }> = Object.freeze(
  Object.fromEntries((Object.keys(API_METHODS) as ApiMethod[]).map((m) => [m, channelOf(m)])) as {
    [M in ApiMethod]: ApiChannel<M>
  },
)

/** Main → renderer: one `ApiEvent` per message. */
export const EVENT_CHANNEL = 'volseg:event'
/** Main → renderer: one {@link ShellCommand} per message (menus, dialogs, second launch). */
export const COMMAND_CHANNEL = 'volseg:command'
/** Main → preload: the `MessagePort` that carries result bytes (sent once per page load). */
export const PORT_CHANNEL = 'volseg:port'
/** `window.postMessage` tag the preload uses to hand that port to the page. */
export const PORT_MESSAGE = 'volseg:bytes-port'

/**
 * A result whose `bytes` travelled over the bytes port: the header, and the ticket of the port
 * message (`{ ticket, bytes: ArrayBuffer }`) that carries them.
 */
export interface DetachedBytes {
  readonly bytesTicket: number
}

/** What the shell asks the viewer to do (menus, dialogs, a file given to a second launch). */
export type ShellCommand =
  /** Open a source granted by a native dialog (or a command line): pass `source` to `openSource`. */
  | { readonly type: 'open-source'; readonly source: SourceRef; readonly name: string }
  | { readonly type: 'save' }
  | { readonly type: 'export' }
  | { readonly type: 'undo' }
  | { readonly type: 'redo' }
  | { readonly type: 'show-shortcuts' }

/** Every {@link ShellCommand} type, once (missing/extra fail tsc). */
export const SHELL_COMMANDS = {
  'open-source': 1,
  save: 1,
  export: 1,
  undo: 1,
  redo: 1,
  'show-shortcuts': 1,
} as const satisfies Record<ShellCommand['type'], 1>

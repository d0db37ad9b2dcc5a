/**
 * Builds `window.volseg` (security checklist E2): exactly one function per {@link API_METHODS}
 * entry, plus `onEvent` and `onCommand`; frozen. No method takes a channel, nothing hands out
 * `ipcRenderer`, and listeners receive only the payload (an `ApiEvent` or a `ShellCommand`),
 * never Electron's event object. Plain code over two functions, so it is tested in Node.
 */
import {
  API_EVENTS,
  API_METHODS,
  err,
  type ApiEvent,
  type ApiMethod,
  type Result,
} from '../../src/shared/api.js'
import {
  API_CHANNELS,
  COMMAND_CHANNEL,
  EVENT_CHANNEL,
  SHELL_COMMANDS,
  type ShellCommand,
} from '../../src/shared/ipc-channels.js'

/** The transport the preload gives the builder (`ipcRenderer.invoke` and a filtered `on`). */
export interface PreloadTransport {
  invoke(channel: string, payload: unknown): Promise<unknown>
  /** Subscribes to `channel`; the listener gets the message payload only. Returns the unsubscribe. */
  on(channel: string, listener: (payload: unknown) => void): () => void
}

/** `window.volseg`: the contract's methods (results as sent by main), events and shell commands. */
export type PreloadApi = {
  readonly [M in ApiMethod]: (req: unknown) => Promise<Result<unknown>>
} & {
  readonly onEvent: (listener: (e: ApiEvent) => void) => () => void
  readonly onCommand: (listener: (c: ShellCommand) => void) => () => void
}

/** The names `window.volseg` has besides the methods. */
export const PRELOAD_EXTRAS = ['onEvent', 'onCommand'] as const

/** True for an object whose `type` is one of `known`. */
function typed(x: unknown, known: Readonly<Record<string, 1>>): boolean {
  if (typeof x !== 'object' || x === null) return false
  const t = (x as { type?: unknown }).type
  return typeof t === 'string' && Object.hasOwn(known, t)
}

/** Builds the frozen API over `t`. */
export function buildPreloadApi(t: PreloadTransport): PreloadApi {
  const api: Record<string, unknown> = {}
  for (const m of Object.keys(API_METHODS) as ApiMethod[]) {
    const channel = API_CHANNELS[m]
    // One argument, always: extra arguments never reach ipcRenderer.
    api[m] = (req: unknown): Promise<Result<unknown>> =>
      t.invoke(channel, req).then(
        (r) => r as Result<unknown>,
        (x: unknown) => err('E_INTERNAL', `the call ${m} failed: ${String(x)}`),
      )
  }
  api.onEvent = (listener: (e: ApiEvent) => void): (() => void) =>
    t.on(EVENT_CHANNEL, (p) => {
      if (typed(p, API_EVENTS)) listener(p as ApiEvent)
    })
  api.onCommand = (listener: (c: ShellCommand) => void): (() => void) =>
    t.on(COMMAND_CHANNEL, (p) => {
      if (typed(p, SHELL_COMMANDS)) listener(p as ShellCommand)
    })
  return Object.freeze(api) as PreloadApi
}

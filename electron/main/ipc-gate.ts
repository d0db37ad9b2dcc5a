/**
 * The one IPC gate (security checklist E3). Every `ipcMain.handle` goes through
 * {@link gateCall}: first the sender frame must be the top frame of the `app://bundle` page,
 * then the payload must pass the contract's own `requestGuards[method]` (the same guards the
 * WebSocket gate of `volseg serve` uses), and only then does a handler run. Every answer is a
 * `Result`; a refusal is a typed error (`E_ARGS`) and no handler is reached. Result bytes leave
 * through the bytes port (`voxel-port.ts`), never inside the invoke reply.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron'
import {
  API_METHODS,
  err,
  isApiMethod,
  requestGuards,
  type ApiMethod,
  type Result,
  type VolsegApi,
} from '../../src/shared/api.js'
import { API_CHANNELS, channelOf } from '../../src/shared/ipc-channels.js'
import { APP_ORIGIN } from './protocol.js'

/** What the gate reads of a sender frame (`WebFrameMain`). */
export interface GateFrame {
  readonly url: string
  /** `null` for a top frame. */
  readonly parent: unknown
}

/** What the gate reads of an invoke event. */
export interface GateEvent {
  /** `null` when the frame navigated away or was destroyed before the call arrived. */
  readonly senderFrame: GateFrame | null
}

/**
 * Why calls from `frame` are refused, or undefined when it is the top frame of the bundle. The
 * origin is parsed from the frame's URL (scheme + host), not matched as a prefix, so
 * `app://bundle.evil/` or `app://bundle@x/` is not ours.
 */
export function senderProblem(frame: GateFrame | null | undefined): string | undefined {
  if (frame === null || frame === undefined) return 'the calling frame is gone'
  if (frame.parent !== null) return 'calls from sub-frames are refused'
  let origin: string
  try {
    const u = new URL(frame.url)
    if (u.username !== '' || u.password !== '' || u.port !== '') return 'foreign origin'
    origin = `${u.protocol}//${u.host}`
  } catch {
    return 'the calling frame has no valid URL'
  }
  if (origin !== APP_ORIGIN) return `calls from ${origin} are refused`
  return undefined
}

/** Finds the API (the service session) of the window that sent `event`, if it has one. */
export type ApiOfSender = (event: GateEvent) => VolsegApi | undefined

/**
 * Checks and dispatches one call: sender frame, then `requestGuards[method]`, then the handler.
 * Never rejects; whatever a handler throws becomes `E_INTERNAL`.
 */
export async function gateCall(
  method: unknown,
  event: GateEvent,
  payload: unknown,
  apiOf: ApiOfSender,
): Promise<Result<unknown>> {
  if (!isApiMethod(method)) return err('E_ARGS', 'unknown method')
  const why = senderProblem(event.senderFrame)
  if (why !== undefined) return err('E_ARGS', `refused ${method}: ${why}`)
  if (!requestGuards[method](payload)) return err('E_ARGS', `invalid arguments for ${method}`)
  const api = apiOf(event)
  if (api === undefined) return err('E_ARGS', `refused ${method}: this window has no session`)
  try {
    const fn = api[method] as (p: unknown) => Promise<Result<unknown>>
    return await fn.call(api, payload)
  } catch (x) {
    return err('E_INTERNAL', `unexpected failure in ${method}: ${String(x)}`)
  }
}

/** What is done with a successful reply before it is sent (bytes to the port). */
export type ReplyFilter = (event: GateEvent, r: Result<unknown>) => Result<unknown>

/**
 * Registers one `ipcMain.handle` per {@link API_METHODS} entry, each through {@link gateCall};
 * returns the function that removes them all. No other invoke channel is ever registered.
 */
export function registerGate(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  apiOf: ApiOfSender,
  reply: ReplyFilter = (_e, r) => r,
): () => void {
  const methods = Object.keys(API_METHODS) as ApiMethod[]
  for (const m of methods) {
    ipcMain.handle(channelOf(m), async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      // Exactly one argument: extra ones are a malformed call, not ignored.
      const payload = args.length === 1 ? args[0] : Symbol('malformed')
      return reply(event, await gateCall(m, event, payload, apiOf))
    })
  }
  return () => {
    for (const m of methods) ipcMain.removeHandler(API_CHANNELS[m])
  }
}

/**
 * The WebSocket wire format of the {@link VolsegApi} contract, for browser and Node alike: pure
 * TypeScript over `Uint8Array`/`DataView` (no `Buffer`).
 *
 * One message is one binary frame:
 *
 * ```
 * [u32 little-endian L] [L bytes: UTF-8 JSON header, space-padded] [payload bytes]
 * ```
 *
 * `L` is padded so the payload starts at a multiple of {@link FRAME_ALIGN} bytes from the frame
 * start (typed-array views need aligned offsets). The header is a {@link WireMessage}; a message
 * whose params or result value carried `bytes: Uint8Array` has it moved into the payload and
 * `binary: <byteLength>` put in the header, and decoding puts it back.
 */
import { AppError } from './errors.js'
import {
  API_EVENTS,
  err,
  isApiMethod,
  ok,
  type ApiEvent,
  type ApiMethod,
  type ApiRequest,
  type ApiValue,
  type Result,
} from './api.js'
import { BYTES_PER_PIXEL, type PixelType, type VoxelArray } from './volume.js'

/** The payload starts at a multiple of this many bytes from the start of the frame. */
export const FRAME_ALIGN = 8
/** Longest JSON header accepted (bytes, padding included): 8 MiB. */
export const MAX_HEADER_BYTES = 8 * 1024 * 1024

/** Limits on a received JSON header, checked by a linear scan before `JSON.parse`. */
export interface HeaderLimits {
  /** Longest header, bytes (padding included). */
  readonly maxBytes: number
  /** Deepest nesting of arrays and objects. */
  readonly maxDepth: number
}

/** Limits for frames from the other side in general (responses and events may be large). */
export const FRAME_LIMITS: HeaderLimits = { maxBytes: MAX_HEADER_BYTES, maxDepth: 64 }

/**
 * Limits for requests, as the server receives them. The largest legitimate request header is an
 * `openSource` with a 4096-character ref and series key: at most 6 bytes per character once
 * JSON-escaped, under 50 KiB; its deepest nesting is 3 (`uploadLabels`' `params.sizeIJK`). An
 * 8 MiB `[[[[…]]]]` would block the server's loop for seconds in `JSON.parse`.
 */
export const REQUEST_LIMITS: HeaderLimits = { maxBytes: 64 * 1024, maxDepth: 8 }

/** UI → core: call `method` with `params`; answered by a {@link WireResponse} with the same id. */
export interface WireRequest<M extends ApiMethod = ApiMethod> {
  /** Chosen by the client, unique among its pending calls; a non-negative safe integer. */
  readonly id: number
  readonly method: M
  /** Unchecked until the gate runs `requestGuards[method]` on it. */
  readonly params: ApiRequest<M>
}

/** Core → UI: the {@link Result} of request `id`. */
export interface WireResponse<M extends ApiMethod = ApiMethod> {
  readonly id: number
  readonly result: Result<ApiValue<M>>
}

/** Core → UI: a pushed {@link ApiEvent}. */
export interface WireEvent {
  readonly event: ApiEvent
}

/** Any decoded message, tagged by which of the three it is. */
export type WireMessage =
  | ({ readonly kind: 'request' } & WireRequest)
  | ({ readonly kind: 'response' } & WireResponse)
  | ({ readonly kind: 'event' } & WireEvent)

/** A decoded frame: its parsed JSON header and its payload (a view into the frame). */
export interface Frame {
  readonly header: unknown
  readonly payload: Uint8Array
}

interface Utf8 {
  readonly TextEncoder: new () => { encode(s: string): Uint8Array }
  readonly TextDecoder: new (
    label: string,
    options: { fatal: boolean },
  ) => { decode(b: Uint8Array): string }
}
// Present in browsers, Electron and Node ≥ 11; src/shared builds without DOM or Node types.
const utf8 = globalThis as unknown as Utf8
const encoder = new utf8.TextEncoder()
const decoder = new utf8.TextDecoder('utf-8', { fatal: true })
const SPACE = 0x20
const EMPTY = new Uint8Array(0)

/**
 * One frame from a JSON-serialisable header and a payload (default empty).
 * Throws `AppError` `E_ARGS` when the header is not serialisable, `E_TOO_LARGE` when it exceeds
 * {@link MAX_HEADER_BYTES}; both are bugs of the caller, never caused by received data.
 */
export function encodeFrame(header: unknown, payload: Uint8Array = EMPTY): Uint8Array {
  const json: unknown = JSON.stringify(header)
  if (typeof json !== 'string') throw new AppError('E_ARGS', 'frame header is not JSON')
  const text = encoder.encode(json)
  const padded = Math.ceil((4 + text.byteLength) / FRAME_ALIGN) * FRAME_ALIGN - 4
  if (padded > MAX_HEADER_BYTES) {
    throw new AppError('E_TOO_LARGE', `frame header of ${padded} bytes is over the limit`)
  }
  const out = new Uint8Array(4 + padded + payload.byteLength)
  new DataView(out.buffer).setUint32(0, padded, true)
  out.set(text, 4)
  out.fill(SPACE, 4 + text.byteLength, 4 + padded)
  out.set(payload, 4 + padded)
  return out
}

const OPEN = new Uint8Array(256)
for (const c of '[{') OPEN[c.charCodeAt(0)] = 1
for (const c of ']}') OPEN[c.charCodeAt(0)] = 2
OPEN[0x22] = 3 // "
OPEN[0x5c] = 4 // \

/**
 * The deepest array/object nesting of JSON text `b`, stopping as soon as it passes `max`
 * (one pass, strings skipped; malformed text is left to `JSON.parse`).
 */
function nestingOver(b: Uint8Array, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < b.length; i++) {
    const k = OPEN[b[i] as number]
    if (k === 0) continue
    if (inString) {
      if (k === 4) i++
      else if (k === 3) inString = false
    } else if (k === 3) inString = true
    else if (k === 1) {
      if (++depth > max) return true
    } else if (k === 2) depth--
  }
  return false
}

/**
 * Splits a received frame into its JSON header and payload. Never throws: a short frame is
 * `E_TRUNCATED`, a header over {@link MAX_HEADER_BYTES} `E_TOO_LARGE`, one over smaller `limits`
 * (a request's size, or nesting too deep) or invalid UTF-8 or JSON `E_BAD_HEADER`, all checked
 * before parsing. The payload is a view into `frame` (no copy).
 */
export function decodeFrame(frame: Uint8Array, limits: HeaderLimits = FRAME_LIMITS): Result<Frame> {
  if (frame.byteLength < 4) return err('E_TRUNCATED', `frame of ${frame.byteLength} bytes`)
  const length = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true)
  if (length > limits.maxBytes && limits.maxBytes < MAX_HEADER_BYTES) {
    // A request far over any legitimate size (whatever it claims): refused as malformed.
    return err(
      'E_BAD_HEADER',
      `frame header of ${length} bytes is over the ${limits.maxBytes}-byte limit`,
    )
  }
  if (length > MAX_HEADER_BYTES) {
    return err('E_TOO_LARGE', `frame header of ${length} bytes is over the limit`)
  }
  if (4 + length > frame.byteLength) {
    return err('E_TRUNCATED', `frame header says ${length} bytes, ${frame.byteLength - 4} came`)
  }
  const text = frame.subarray(4, 4 + length)
  if (nestingOver(text, limits.maxDepth)) {
    return err('E_BAD_HEADER', `frame header nests deeper than ${limits.maxDepth} levels`)
  }
  let header: unknown
  try {
    header = JSON.parse(decoder.decode(text))
  } catch (e) {
    return err('E_BAD_HEADER', `frame header is not UTF-8 JSON: ${(e as Error).message}`)
  }
  return ok({ header, payload: frame.subarray(4 + length) })
}

type Obj = Record<string, unknown>

const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x)

/** Moves a top-level `bytes: Uint8Array` out of `o`; returns the rest and the bytes. */
function detach(o: unknown): { rest: unknown; bytes: Uint8Array | undefined } {
  if (!isObj(o) || !(o.bytes instanceof Uint8Array)) return { rest: o, bytes: undefined }
  const { bytes, ...rest } = o
  return { rest, bytes }
}

function frameOf(header: Obj, bytes: Uint8Array | undefined): Uint8Array {
  return bytes === undefined
    ? encodeFrame(header)
    : encodeFrame({ ...header, binary: bytes.byteLength }, bytes)
}

/** A request frame; a `bytes` field of `params` travels as the payload. */
export function encodeRequest<M extends ApiMethod>(
  id: number,
  method: M,
  params: ApiRequest<M>,
): Uint8Array {
  const { rest, bytes } = detach(params)
  return frameOf({ id, method, params: rest }, bytes)
}

/** A response frame; a `bytes` field of a successful value travels as the payload. */
export function encodeResponse(id: number, result: Result<unknown>): Uint8Array {
  const [head, payload] = encodeResponseParts(id, result)
  if (payload === undefined) return head
  const out = new Uint8Array(head.byteLength + payload.byteLength)
  out.set(head)
  out.set(payload, head.byteLength)
  return out
}

/**
 * {@link encodeResponse} as its two parts, whose concatenation is the frame: the header and the
 * payload as it is (a view of the held voxels), so a transport that can send one message in two
 * pieces (WebSocket fragments) never copies 32 MiB slabs into a frame first.
 */
export function encodeResponseParts(
  id: number,
  result: Result<unknown>,
): [head: Uint8Array, payload: Uint8Array | undefined] {
  if (!result.ok) return [encodeFrame({ id, result }), undefined]
  const { rest, bytes } = detach(result.value)
  const header = { id, result: { ok: true, value: rest } }
  return bytes === undefined
    ? [encodeFrame(header), undefined]
    : [encodeFrame({ ...header, binary: bytes.byteLength }), bytes]
}

/** An event frame (events carry no payload). */
export function encodeEvent(event: ApiEvent): Uint8Array {
  return encodeFrame({ event })
}

const isId = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0

/** Puts the payload back as `bytes` when the header announced one; checks its length. */
function attach(target: unknown, h: Obj, payload: Uint8Array, where: string): Result<unknown> {
  if (h.binary === undefined) {
    if (payload.byteLength !== 0) return err('E_BAD_HEADER', `unannounced payload on ${where}`)
    return ok(target)
  }
  if (!isId(h.binary)) return err('E_BAD_HEADER', `bad binary length on ${where}`)
  if (payload.byteLength !== h.binary) {
    return err(
      'E_TRUNCATED',
      `${where}: ${h.binary} payload bytes announced, ${payload.byteLength} came`,
    )
  }
  if (!isObj(target) || Object.hasOwn(target, 'bytes')) {
    return err('E_BAD_HEADER', `${where} cannot carry a payload`)
  }
  return ok({ ...target, bytes: payload })
}

/**
 * Decodes a frame into a {@link WireMessage} (the server passes {@link REQUEST_LIMITS}). Never throws; checks the envelope only (id, method
 * name, result and event shape, payload length). The gate must still run `requestGuards[method]`
 * on `params` before calling anything, and answer `E_ARGS` with the request's id when it fails.
 */
export function decodeMessage(
  frame: Uint8Array,
  limits: HeaderLimits = FRAME_LIMITS,
): Result<WireMessage> {
  const f = decodeFrame(frame, limits)
  if (!f.ok) return f
  const h = f.value.header
  if (!isObj(h)) return err('E_BAD_HEADER', 'frame header is not an object')
  const keys = Object.keys(h).filter((k) => k !== 'binary')
  const has = (...want: string[]): boolean =>
    keys.length === want.length && want.every((k) => keys.includes(k))
  if (has('id', 'method', 'params')) {
    if (!isId(h.id)) return err('E_BAD_HEADER', 'request id is not a non-negative integer')
    if (!isApiMethod(h.method)) return err('E_ARGS', `unknown method ${String(h.method)}`)
    const params = attach(h.params, h, f.value.payload, `request ${h.id}`)
    if (!params.ok) return params
    const value = params.value as ApiRequest<ApiMethod>
    return ok({ kind: 'request', id: h.id, method: h.method, params: value })
  }
  if (has('id', 'result')) {
    const r = h.result
    if (!isId(h.id) || !isObj(r) || typeof r.ok !== 'boolean') {
      return err('E_BAD_HEADER', 'malformed response')
    }
    if (!r.ok) {
      const e = r.error
      if (!isObj(e) || typeof e.code !== 'string' || typeof e.message !== 'string') {
        return err('E_BAD_HEADER', `malformed error in response ${h.id}`)
      }
      return ok({ kind: 'response', id: h.id, result: r as Result<never> })
    }
    const value = attach(r.value, h, f.value.payload, `response ${h.id}`)
    if (!value.ok) return value
    return ok({ kind: 'response', id: h.id, result: ok(value.value as ApiValue<ApiMethod>) })
  }
  if (has('event')) {
    const e = h.event
    if (!isObj(e) || typeof e.type !== 'string' || !Object.hasOwn(API_EVENTS, e.type)) {
      return err('E_BAD_HEADER', 'malformed event')
    }
    if (f.value.payload.byteLength !== 0) return err('E_BAD_HEADER', 'event with a payload')
    return ok({ kind: 'event', event: e as ApiEvent })
  }
  return err('E_BAD_HEADER', `not a request, response or event: keys ${keys.join(', ')}`)
}

/**
 * The payload as a typed array of `dataType` (little-endian, as on every supported platform):
 * a view when its offset is aligned, else a copy. Throws `AppError` `E_TRUNCATED` when the length
 * is not a whole number of voxels.
 */
export function asTypedArray(bytes: Uint8Array, dataType: PixelType): VoxelArray {
  const size = BYTES_PER_PIXEL[dataType]
  if (bytes.byteLength % size !== 0) {
    throw new AppError(
      'E_TRUNCATED',
      `${bytes.byteLength} bytes is not a whole number of ${dataType}`,
    )
  }
  const b = bytes.byteOffset % size === 0 ? bytes : bytes.slice()
  const n = b.byteLength / size
  switch (dataType) {
    case 'uint8':
      return new Uint8Array(b.buffer, b.byteOffset, n)
    case 'int8':
      return new Int8Array(b.buffer, b.byteOffset, n)
    case 'uint16':
      return new Uint16Array(b.buffer, b.byteOffset, n)
    case 'int16':
      return new Int16Array(b.buffer, b.byteOffset, n)
    case 'uint32':
      return new Uint32Array(b.buffer, b.byteOffset, n)
    case 'int32':
      return new Int32Array(b.buffer, b.byteOffset, n)
    case 'float32':
      return new Float32Array(b.buffer, b.byteOffset, n)
    case 'float64':
      return new Float64Array(b.buffer, b.byteOffset, n)
  }
}

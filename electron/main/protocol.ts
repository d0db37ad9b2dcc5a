/**
 * The `app://bundle/` protocol (security checklist E4, E5): the UI is served from the built
 * renderer folder only, never from `file://`. Paths are confined with the same function the serve
 * mode uses (`resolveStatic`: percent-decoded once; NUL, backslashes, `.`/`..` segments,
 * absolute paths and real paths outside the root, i.e. symlinks out, are all a 404). Every answer
 * carries the Content-Security-Policy as a response header.
 *
 * Plain code over the web-standard `Request`/`Response` that `protocol.handle` passes, so it is
 * tested in Node with the real built `renderer/dist`.
 */
import { readFile } from 'node:fs/promises'
import type { CustomScheme } from 'electron'
import { APP_ORIGIN } from '../../src/shared/ipc-channels.js'
import { contentSecurityPolicy } from '../../src/serve/csp.js'
import { contentTypeOf, resolveStatic } from '../../src/serve/static-files.js'

/** The scheme of the UI. */
export const APP_SCHEME = 'app'
/** The one host of that scheme: the bundle. */
export const APP_HOST = 'bundle'
/** The origin every trusted frame has (the IPC gate compares against it). */
export { APP_ORIGIN }
/** The page the window loads. */
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`

/**
 * What `protocol.registerSchemesAsPrivileged` gets, before `app` is ready: standard (relative URLs,
 * origin), secure (a secure context: workers, WebAssembly streaming) and fetch (itk-wasm fetches
 * its pipelines). Not `bypassCSP`, not service workers, not CORS.
 */
export function privilegedSchemes(): CustomScheme[] {
  return [
    {
      scheme: APP_SCHEME,
      privileges: {
        standard: true,
        secure: true,
        supportFetchAPI: true,
        stream: true,
        bypassCSP: false,
        allowServiceWorkers: false,
        corsEnabled: false,
      },
    },
  ]
}

/**
 * The CSP of every `app://` answer: what the viewer needs and nothing more. It is `volseg serve`'s
 * policy (`src/serve/csp.ts`) without the WebSocket: `'wasm-unsafe-eval'` for the itk-wasm
 * pipelines of the slice-fill worker (WebAssembly compilation only, no `eval`), `blob:` workers and
 * images for vtk.js, inline styles for vtk.js widgets; no remote origin anywhere.
 */
export function appContentSecurityPolicy(): string {
  return contentSecurityPolicy()
}

/** Headers every answer carries. */
function baseHeaders(): Record<string, string> {
  return {
    'Content-Security-Policy': appContentSecurityPolicy(),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cache-Control': 'no-cache',
  }
}

function notFound(status = 404, text = 'not found'): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { ...baseHeaders(), 'Content-Type': 'text/plain; charset=utf-8' },
  })
}

/**
 * The raw path of an `app://bundle/...` URL, taken from the text before any URL normalisation (so
 * a `..` that the URL parser would fold away is still seen and refused), or undefined for any
 * other origin.
 */
export function rawAppPath(url: string): string | undefined {
  const m = /^app:\/\/bundle(\/[^?#]*)?(?:[?#].*)?$/i.exec(url)
  if (!m) return undefined
  return m[1] ?? '/'
}

/**
 * The `protocol.handle('app', …)` handler serving `root` (the built `renderer/dist`): GET/HEAD
 * only, host `bundle` only, confined paths only; 404 otherwise, never a listing or an error text.
 */
export function createAppProtocolHandler(root: string): (request: Request) => Promise<Response> {
  return async (request: Request): Promise<Response> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return notFound(405, 'method not allowed')
    }
    const path = rawAppPath(request.url)
    if (path === undefined) return notFound()
    const file = await resolveStatic(root, path)
    if (file === undefined) return notFound()
    let body: Buffer
    try {
      body = await readFile(file)
    } catch {
      return notFound()
    }
    const headers = {
      ...baseHeaders(),
      'Content-Type': contentTypeOf(file),
      'Content-Length': String(body.byteLength),
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
      status: 200,
      headers,
    })
  }
}

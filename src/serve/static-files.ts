/**
 * Static files of the built renderer (`renderer/dist`), confined to that folder (architecture.md §5, S4):
 * the URL path is percent-decoded once, and NUL, backslashes, `..` segments and real paths
 * outside the root (symlinks out) are all a plain 404. When the renderer is not built, `/` is a
 * short page saying how to build it.
 */
import { createReadStream } from 'node:fs'
import { realpath, stat } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { extname, isAbsolute, join, relative, sep } from 'node:path'

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.zst': 'application/zstd',
}

/** The Content-Type of a built file, by its extension (`application/octet-stream` if unknown). */
export function contentTypeOf(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>VolSeg</title></head>
<body><h1>VolSeg</h1><p>renderer not built: run <code>npm run build:renderer</code>, then reload.</p></body></html>
`

/**
 * The real path of the file `urlPath` names under `root`, or undefined (→ 404) when it is
 * malformed, escapes the root, or is not a file. `/` and folders map to their `index.html`.
 */
export async function resolveStatic(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string
  try {
    decoded = decodeURIComponent(urlPath)
  } catch {
    return undefined
  }
  if (decoded.includes('\0') || decoded.includes('\\') || !decoded.startsWith('/')) {
    return undefined
  }
  const parts = decoded.split('/').filter((p) => p !== '')
  if (parts.some((p) => p === '..' || p === '.')) return undefined
  let realRoot: string
  try {
    realRoot = await realpath(root)
  } catch {
    return undefined
  }
  const inside = (p: string): boolean => {
    const rel = relative(realRoot, p)
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))
  }
  let p = join(realRoot, ...parts)
  try {
    p = await realpath(p)
    if (!inside(p)) return undefined
    if ((await stat(p)).isDirectory()) {
      p = await realpath(join(p, 'index.html'))
      if (!inside(p)) return undefined
    }
    return (await stat(p)).isFile() ? p : undefined
  } catch {
    return undefined
  }
}

/** True when the renderer has been built (`root/index.html` exists). */
export async function rendererBuilt(root: string): Promise<boolean> {
  return (await resolveStatic(root, '/')) !== undefined
}

/** Answers a GET/HEAD for `urlPath` from `root`; headers (CSP etc.) are set by the caller. */
export async function serveStatic(
  root: string,
  urlPath: string,
  res: ServerResponse,
  head: boolean,
): Promise<void> {
  const file = await resolveStatic(root, urlPath)
  if (file === undefined) {
    if (urlPath === '/' || urlPath === '/index.html') {
      if (!(await rendererBuilt(root))) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        res.end(head ? undefined : NOT_BUILT)
        return
      }
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
    res.end(head ? undefined : 'not found\n')
    return
  }
  const size = (await stat(file)).size
  res.writeHead(200, {
    'Content-Type': contentTypeOf(file),
    'Content-Length': size,
    'Cache-Control': 'no-cache',
  })
  if (head) {
    res.end()
    return
  }
  const stream = createReadStream(file)
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}

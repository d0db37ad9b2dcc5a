/**
 * The one Content-Security-Policy of the viewer's pages, `volseg serve`'s and the desktop app's
 * (vtk.js needs WebGL, blob: workers, data: images).
 * `'wasm-unsafe-eval'` lets the slice-fill worker compile the itk-wasm interpolation pipeline
 * (and its zstd decoder), both served from our own `pipelines/` folder; it allows WebAssembly
 * compilation only, not `eval` or `new Function` (CSP Level 3). Without `wsHost` (the desktop
 * app's `app://` pages, which reach the core over IPC) no socket may be opened.
 */
export function contentSecurityPolicy(wsHost?: string): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    wsHost === undefined ? "connect-src 'self'" : `connect-src 'self' ws://${wsHost}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

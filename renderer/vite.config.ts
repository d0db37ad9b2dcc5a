/**
 * Vite build of the review viewer. Run from the repository root as `vite build renderer`: root
 * `renderer/`, output `renderer/dist/`, relative asset URLs (served by `volseg serve`, later by
 * Electron's `app://bundle/`). Everything is bundled: no CDN, no inline script (the CSP is
 * `script-src 'self'`), workers as ES modules.
 */
import { defineConfig } from 'vite'

export default defineConfig({
  base: './',
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: 'es' },
  server: { fs: { allow: ['..'] } },
})

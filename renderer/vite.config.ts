/**
 * Vite build of the review viewer. Run from the repository root as `vite build renderer`: root
 * `renderer/`, output `renderer/dist/`, relative asset URLs (served by `volseg serve`, later by
 * Electron's `app://bundle/`). Everything is bundled: no CDN, no inline script (the CSP is
 * `script-src 'self' 'wasm-unsafe-eval'`), workers as ES modules.
 *
 * The itk-wasm pipeline of fill between slices (`morphological-contour-interpolation.js` and
 * `.wasm.zst`, loaded at run time by the slice-fill worker, never from the package's default
 * CDN) is copied to `dist/pipelines/` unchanged, and served from there by the dev server.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { defineConfig, type Plugin } from 'vite'

/** The package's `dist/pipelines` folder, wherever npm put the package. */
const PIPELINES = join(
  dirname(createRequire(import.meta.url).resolve('@itk-wasm/morphological-contour-interpolation')),
  'pipelines',
)

/** Emits every file of {@link PIPELINES} as `pipelines/<name>` (fixed names: the loader derives
 * the `.wasm.zst` URL from the `.js` one). */
function itkPipelines(): Plugin {
  const files = readdirSync(PIPELINES).filter((f) => /\.(js|wasm|wasm\.zst)$/.test(f))
  return {
    name: 'volseg-itk-pipelines',
    generateBundle() {
      for (const f of files) {
        this.emitFile({
          type: 'asset',
          fileName: `pipelines/${f}`,
          source: readFileSync(join(PIPELINES, f)),
        })
      }
    },
    configureServer(server) {
      server.middlewares.use('/pipelines', (req, res, next) => {
        const f = (req.url ?? '').replace(/^\//, '').split('?')[0]
        if (f === undefined || !files.includes(f)) return next()
        res.setHeader(
          'Content-Type',
          f.endsWith('.js') ? 'text/javascript' : 'application/octet-stream',
        )
        res.end(readFileSync(join(PIPELINES, f)))
      })
    },
  }
}

export default defineConfig({
  base: './',
  publicDir: false,
  plugins: [itkPipelines()],
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

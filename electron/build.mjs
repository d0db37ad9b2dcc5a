// Bundles the desktop shell into dist/electron/ (after `tsc` built dist/ and vite renderer/dist):
//   main.mjs    Electron main (ESM; the service and shared code inlined, `electron` external)
//   preload.cjs the sandboxed preload (one CommonJS file: a sandboxed preload may only require
//               `electron`)
//   host.mjs    the utilityProcess entry; it loads dist/jobs/worker.js at run time
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'electron')
const common = { bundle: true, logLevel: 'warning', sourcemap: true, legalComments: 'none' }
await Promise.all([
  build({
    ...common,
    entryPoints: [join(root, 'electron/main/main.ts')],
    outfile: join(out, 'main.mjs'),
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['electron'],
  }),
  build({
    ...common,
    entryPoints: [join(root, 'electron/preload/preload.ts')],
    outfile: join(out, 'preload.cjs'),
    platform: 'browser',
    format: 'cjs',
    target: 'chrome140',
    external: ['electron'],
  }),
  build({
    ...common,
    entryPoints: [join(root, 'electron/host/host.ts')],
    outfile: join(out, 'host.mjs'),
    platform: 'node',
    format: 'esm',
    target: 'node22',
  }),
])

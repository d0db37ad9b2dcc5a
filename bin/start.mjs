#!/usr/bin/env node
// `npm start [-- FILE]`: the desktop app when Electron can run, else `volseg serve --open`
// (src/cli/start.ts decides and says why in one line).
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
let mod
try {
  mod = await import('../dist/cli/start.js')
} catch (e) {
  process.stderr.write(
    `volseg: not built (${e.message}); run "npm install" or "npm run build" first\n`,
  )
  process.exit(1)
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
process.exitCode = await mod.startCommand(root, process.argv.slice(2))

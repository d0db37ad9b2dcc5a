#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
process.on('uncaughtException', (e) => {
  process.stderr.write(`volseg: internal error: ${e && e.message ? e.message : String(e)}\n`)
  process.exit(1)
})
let mod
try {
  mod = await import('../dist/cli/main.js')
} catch (e) {
  process.stderr.write(
    `volseg: not built (${e.message}); run "npm install" or "npm run build" first\n`,
  )
  process.exit(1)
}
process.exitCode = await mod.main(process.argv.slice(2))

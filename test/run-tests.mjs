// Runs the node:test suites (TypeScript through tsx). Usage: node test/run-tests.mjs [unit|integration|fuzz ...]
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('.', import.meta.url).pathname
const groups =
  process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['unit', 'integration', 'fuzz', 'e2e']
const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.test.ts')) files.push(p)
  }
}
for (const g of groups) walk(join(root, g))
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files],
  {
    stdio: 'inherit',
  },
)
process.exit(r.status ?? 1)

/**
 * `npm start -- FILE` on this machine (no Electron binary; DISPLAY removed so the answer does not
 * depend on the desktop running the tests): the real npm script prints the one-line reason, starts
 * `volseg serve --open`, and the page it opens (the address handed to the browser opener, which
 * here is a script on PATH that records it) shows FILE in Chromium: a file that is not the
 * bundled sample, so only the `open=` request can have opened it.
 *
 * Run: node --import tsx --test test/e2e/electron-start.test.ts (needs `npm run build`).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { REPO, buildRenderer, launch } from './harness.js'

test(
  'npm start -- FILE without Electron: one line why, then the browser viewer showing FILE',
  { timeout: 300_000 },
  async () => {
    await buildRenderer()
    const tmp = mkdtempSync(join(tmpdir(), 'volseg-npm-start-'))
    const bin = join(tmp, 'bin')
    const data = join(tmp, 'scans')
    mkdirSync(bin)
    mkdirSync(data)
    copyFileSync(join(REPO, 'test', 'fixtures', 'ch2.nii.gz'), join(data, 'scan-a.nii.gz'))
    const opened = join(tmp, 'opened.txt')
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`)
    chmodSync(join(bin, 'xdg-open'), 0o755)
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && k !== 'DISPLAY' && k !== 'WAYLAND_DISPLAY') env[k] = v
    }
    env.PATH = `${bin}:${process.env.PATH ?? ''}`
    env.VOLSEG_HOME = join(tmp, 'home')
    const args = ['start', '--', join(data, 'scan-a.nii.gz'), '--port', '0']
    args.push('--out', join(tmp, 'out'), '--recovery', join(tmp, 'rec'))
    const p = spawn('npm', args, {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const session = await launch()
    try {
      for (let k = 0; k < 600 && !existsSync(opened); k++) {
        if (p.exitCode !== null) assert.fail(`npm start exited ${p.exitCode}: ${stderr}`)
        await new Promise((r) => setTimeout(r, 100))
      }
      const reasons = stderr
        .split('\n')
        .filter((l) =>
          l.startsWith('volseg: starting the browser viewer instead of the desktop app: '),
        )
      assert.equal(reasons.length, 1, stderr)
      assert.match(stdout, /VolSeg serving at http:\/\/127\.0\.0\.1:\d+\/#token=/)
      const url = readFileSync(opened, 'utf8')
      assert.match(url, /&open=scan-a\.nii\.gz$/)
      await session.page.goto(url)
      await session.page.waitForSelector('body[data-ready=true]', {
        state: 'attached',
        timeout: 120_000,
      })
      await session.page.waitForSelector('.volume-info:has-text("scan-a.nii.gz")', {
        timeout: 120_000,
      })
      assert.deepEqual(session.blocked, [])
    } finally {
      await session.browser.close()
      // npm → start.mjs → serve: the whole group goes.
      if (p.exitCode === null) {
        const gone = new Promise((r) => p.once('exit', r))
        process.kill(-p.pid!, 'SIGTERM')
        await gone
      }
    }
  },
)

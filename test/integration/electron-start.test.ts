// `npm start -- FILE` on a machine where Electron cannot run (this one: no Electron binary, and
// DISPLAY unset here on purpose): the real bin/start.mjs prints the one-line reason, really starts
// `volseg serve`, which answers with the viewer, and opens the browser at the page with FILE asked
// for (the browser opener is a script on PATH that records the address it was given).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, fixture } from '../helpers.js'

test(
  'npm start -- FILE falls back to serve --open and opens FILE',
  { timeout: 120_000 },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'volseg-start-'))
    const bin = join(tmp, 'bin')
    const opened = join(tmp, 'opened.txt')
    mkdirSync(bin)
    for (const name of ['xdg-open', 'open']) {
      writeFileSync(join(bin, name), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`)
      chmodSync(join(bin, name), 0o755)
    }
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && k !== 'DISPLAY' && k !== 'WAYLAND_DISPLAY') env[k] = v
    }
    env.PATH = `${bin}:${process.env.PATH ?? ''}`
    env.VOLSEG_HOME = join(tmp, 'home')
    const file = fixture('ch2.nii.gz')
    const p = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'start.mjs'),
        file,
        '--port',
        '0',
        '--out',
        join(tmp, 'out'),
        '--recovery',
        join(tmp, 'rec'),
      ],
      { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        p.stdout.on('data', (d: Buffer) => {
          stdout += d.toString()
          const m = /^VolSeg serving at (http:\/\/\S+)$/m.exec(stdout)
          if (m) resolveUrl(m[1]!)
        })
        p.once('exit', (code) => reject(new Error(`start exited ${code}: ${stderr}`)))
      })
      const first = stderr.split('\n')[0] ?? ''
      assert.match(
        first,
        /^volseg: starting the browser viewer instead of the desktop app: (Electron is not installed|the desktop app is not built|no display)/,
      )
      assert.equal(
        stderr.split('\n').filter((l) => l.includes('instead of the desktop app')).length,
        1,
      )
      const page = await fetch(url.replace(/#.*/, ''))
      assert.equal(page.status, 200)
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
      assert.match(await page.text(), /<html/i)
      // The browser was opened at the page with FILE asked for (served from FILE's folder).
      for (let k = 0; k < 100 && !existsSync(opened); k++) {
        await new Promise((r) => setTimeout(r, 50))
      }
      const at = readFileSync(opened, 'utf8')
      assert.ok(at.startsWith(url), `${at} starts with ${url}`)
      assert.match(at, /#token=[0-9a-f]{64}&open=ch2\.nii\.gz$/)
      assert.match(stderr, new RegExp(`data ${fixture('')}`.replace(/\/$/, '')))
    } finally {
      p.kill('SIGTERM')
      await new Promise((r) => p.once('exit', r))
    }
  },
)

/**
 * Issue 13 item 6, end to end: 50 reloads of the viewer in Chromium against the real
 * `volseg serve`. Each reload resumes the tab's session (the same volume, no second copy), the
 * server keeps serving with bounded memory (its RSS before and after is printed), and afterwards
 * another client can still open as many volumes as the server allows: nobody is locked out.
 *
 * Run: node --import tsx --test test/e2e/reload.test.ts (needs `npm run build` for dist/).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { OpenedVolume, SourceRef } from '../../src/shared/api.js'
import { connectNodeClient } from '../../src/serve/ws-node-client.js'
import {
  ARTIFACTS,
  buildRenderer,
  ensureArtifacts,
  launch,
  makeDataDir,
  startServer,
  type Server,
  type Session,
} from './harness.js'

const RELOADS = 50

let server: Server
let session: Session

/** Resident memory of process `pid`, MiB (Linux `/proc`). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

before(async () => {
  await buildRenderer()
  const dirs = await makeDataDir()
  server = await startServer(dirs.data, dirs.out)
  session = await launch()
})

after(async () => {
  await session?.browser.close()
  await server?.stop()
})

test(`${RELOADS} reloads: each resumes the same volume; memory stays bounded; nobody is locked out`, async () => {
  const { page } = session
  const ready = (): Promise<unknown> =>
    page.waitForSelector('body[data-ready=true]', { state: 'attached', timeout: 120_000 })
  await page.goto(server.url)
  await ready()
  await page.waitForSelector('.volume-info:has-text("ch2.nii.gz")', { timeout: 120_000 })
  const pid = server.process.pid!
  const before = rssMiB(pid)
  for (let k = 0; k < RELOADS; k++) {
    await page.reload()
    await ready()
    const info = (await page.textContent('.volume-info')) ?? ''
    if (!/ch2\.nii\.gz/.test(info)) {
      const notices = (await page.textContent('.notices')) ?? ''
      assert.fail(`reload ${k + 1}: no volume shown (${info}); notices: ${notices}`)
    }
  }
  await ensureArtifacts()
  await page.screenshot({ path: join(ARTIFACTS, 'reload-50.png') })
  const notices = (await page.textContent('.notices')) ?? ''
  assert.match(notices, /Reconnected: ch2\.nii\.gz is open as before/)
  const afterReloads = rssMiB(pid)
  console.log(
    `server RSS: ${before.toFixed(0)} MiB before, ${afterReloads.toFixed(0)} MiB after ${RELOADS} reloads`,
  )
  // One ch2 (7 MB of voxels) is held throughout; 50 leaked copies would be 350 MB more.
  assert.ok(
    afterReloads < before + 150,
    `RSS grew from ${before.toFixed(0)} to ${afterReloads.toFixed(0)} MiB`,
  )
  // The server still serves, and the page's one volume leaves room for 7 more opens.
  const c = await connectNodeClient(server.url)
  try {
    const opened: OpenedVolume[] = []
    for (let k = 0; k < 7; k++) {
      const r = await c.openSource({ source: 'ch2.nii.gz' as SourceRef })
      assert.ok(r.ok, `open ${k + 1} of 7 after the reloads: ${JSON.stringify(r)}`)
      opened.push(r.value as OpenedVolume)
    }
    const eighth = await c.openSource({ source: 'ch2.nii.gz' as SourceRef })
    assert.ok(!eighth.ok && eighth.error.code === 'E_BUSY', JSON.stringify(eighth))
    const held = await c.listHeld({})
    assert.ok(held.ok)
    assert.equal(held.value.volumes.length, 7)
  } finally {
    c.close()
  }
  assert.deepEqual(session.errors, [], 'no page errors')
})

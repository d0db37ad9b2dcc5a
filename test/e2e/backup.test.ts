/**
 * End to end (issue 14, "never lose an edit"), headless Chromium against the real `volseg serve`:
 * paint on a new labelling of ch2 with the backup interval set to 1 s; opening another file asks
 * first; the server is SIGKILLed; leaving the page asks first (beforeunload); a restarted server
 * on the same folders offers the backup when ch2 is opened again, with its time and "VolSeg did
 * not close cleanly"; Restore brings back exactly the painted voxels as unsaved edits, and saving
 * them (re-read in Node) holds them and drops the backup. Screenshots: artifacts/backup-*.png.
 *
 * Run: node --import tsx --test test/e2e/backup.test.ts (needs `npm run build`).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Dialog, Page } from 'playwright-core'
import { openVolume } from '../../src/io/open-volume.js'
import {
  ARTIFACTS,
  REPO,
  buildRenderer,
  dataTransfer,
  ensureArtifacts,
  launch,
  makeDataDir,
  openAndWait,
  startServer,
  type Server,
  type Session,
  openViewer,
} from './harness.js'

let server: Server
let session: Session
let page: Page
let dirs: { data: string; out: string }
let recovery: string

const shot = async (name: string): Promise<void> => {
  await page.waitForTimeout(300)
  await page.screenshot({ path: join(ARTIFACTS, `backup-${name}.png`) })
}

interface Bench {
  readonly store: {
    readonly state: {
      readonly labels?: { voxels: Uint8Array | Uint16Array }
      readonly editVersion: number
      readonly savedVersion: number
      readonly volume?: { info: { name: string } }
    }
  }
}
const bench = (): Bench => (globalThis as unknown as { volsegBench: Bench }).volsegBench

async function scanCounts(): Promise<Record<number, number>> {
  return page.evaluate(() => {
    const lab = bench().store.state.labels!.voxels
    const out: Record<number, number> = {}
    for (let n = 0; n < lab.length; n++) if (lab[n]) out[lab[n]!] = (out[lab[n]!] ?? 0) + 1
    return out
  })
}

async function openBenchViewer(url: string): Promise<void> {
  await openViewer(page, url, '?bench')
  await page.evaluate('globalThis.bench = () => globalThis.volsegBench')
  await page.waitForSelector('.volume-info:has-text("ch2.nii.gz")', { timeout: 120_000 })
}

before(async () => {
  if (!existsSync(join(REPO, 'dist', 'cli', 'serve.js'))) {
    throw new Error('dist/cli/serve.js missing: run "npm run build" first (volseg serve)')
  }
  await buildRenderer()
  await ensureArtifacts()
  dirs = await makeDataDir()
  recovery = join(dirname(dirs.data), 'state', 'recovery')
  server = await startServer(dirs.data, dirs.out, recovery)
  session = await launch()
  page = session.page
  await openBenchViewer(server.url)
})

after(async () => {
  await session?.browser.close()
  await server?.stop()
})

let painted: Record<number, number> = {}

test('edits are backed up within the interval; opening another file with unsaved edits asks', async () => {
  assert.equal(await page.isVisible('.backup-offer'), false, 'no offer on a first start')
  await page.click('button.new-labelling')
  await page.waitForSelector('.edit-label-row[data-value="1"]')
  await page.fill('input.backup-interval', '1')
  await page.press('input.backup-interval', 'Enter')
  await page.keyboard.press('b')
  await page.fill('input.brush-radius', '8')
  await page.press('input.brush-radius', 'Enter')
  const box = (await page.locator('[data-view=axial]').boundingBox())!
  const cx = box.x + box.width / 2
  const cy = box.y + box.height / 2
  await page.mouse.move(cx - 30, cy)
  await page.mouse.down()
  for (let x = 0; x <= 60; x += 6) await page.mouse.move(cx - 30 + x, cy)
  await page.mouse.up()
  painted = await scanCounts()
  assert.ok((painted[1] ?? 0) > 500, `painted ${JSON.stringify(painted)}`)
  // One interval (1 s) plus the write: the status line says it is backed up.
  await page.waitForSelector('.backup-status:has-text("backed up")', { timeout: 30_000 })
  const files = await readdir(recovery)
  assert.equal(files.filter((f) => f.endsWith('.json')).length, 1, files.join(', '))
  assert.equal(files.filter((f) => f.endsWith('.nii.gz')).length, 1, files.join(', '))
  assert.equal(files.filter((f) => /^run-\d+-[0-9a-f]{8}\.lock$/.test(f)).length, 1)
  assert.deepEqual(await readdir(dirs.out), [], 'nothing written to --out')
  await page.locator('.backup-status').scrollIntoViewIfNeeded()
  await shot('01-backed-up')

  // Opening another image with unsaved edits asks first; dismissed, nothing changes.
  await page.keyboard.press('Escape')
  const asked: string[] = []
  page.once('dialog', (d) => {
    asked.push(`${d.type()}: ${d.message()}`)
    void d.dismiss()
  })
  await page.click('.file-list button[data-name="flipped.nii.gz"]')
  await page.waitForTimeout(500)
  assert.equal(asked.length, 1, 'asked once')
  assert.match(asked[0]!, /^confirm: ch2\.nii\.gz has unsaved edits\. Open another image/)
  assert.equal(await page.evaluate(() => bench().store.state.volume?.info.name), 'ch2.nii.gz')
  assert.deepEqual(await scanCounts(), painted, 'the edits are still on screen')
})

test('after a SIGKILL, leaving the page asks; the restarted server offers the backup; Restore brings the exact voxels back', async () => {
  const killed = new Promise<void>((done) => server.process.once('exit', () => done()))
  server.process.kill('SIGKILL')
  await killed
  await page.waitForSelector('.notices :text("Lost the connection")', { timeout: 30_000 })
  const markers = (await readdir(recovery)).filter((f) => f.startsWith('run-'))
  assert.equal(markers.length, 1, 'the killed run left its marker')
  server = await startServer(dirs.data, dirs.out, recovery)

  // The page still has unsaved edits: navigating away asks (beforeunload), then goes.
  const dialogs: string[] = []
  const onDialog = (d: Dialog): void => {
    dialogs.push(d.type())
    void d.accept()
  }
  page.on('dialog', onDialog)
  await openBenchViewer(server.url)
  page.off('dialog', onDialog)
  assert.deepEqual(dialogs, ['beforeunload'])

  // ch2 (the sample) opened again: the offer, with the time and why.
  await page.waitForSelector('.backup-offer', { timeout: 30_000 })
  const text = (await page.textContent('.backup-offer')) ?? ''
  assert.match(text, /Unsaved edits of ch2\.nii\.gz from .+ \(VolSeg did not close cleanly\)/)
  assert.match(text, new RegExp(`1 label, ${painted[1]} voxels`))
  const when = Date.parse((await page.getAttribute('.backup-offer time', 'datetime')) ?? '')
  assert.ok(Date.now() - when < 10 * 60_000 && Date.now() >= when, `backup time ${when}`)
  await shot('02-offer')

  await page.click('button.restore-backup')
  await page.waitForSelector('.notices :text("Restored the unsaved edits from")', {
    timeout: 60_000,
  })
  assert.equal(await page.isVisible('.backup-offer'), false)
  assert.deepEqual(await scanCounts(), painted, 'the restored voxels are the painted ones')
  const dirty = await page.evaluate(
    () => bench().store.state.editVersion !== bench().store.state.savedVersion,
  )
  assert.ok(dirty, 'restored edits are unsaved')
  await page.waitForSelector('.backup-status:has-text("Unsaved edits")')
  await shot('03-restored')

  // Saved: the file holds them, and the backup is gone.
  await page.click('button.save')
  await page.waitForSelector('.saved:text-matches("^Saved to ")', { timeout: 60_000 })
  const saved = (await readdir(dirs.out)).filter((f) => f.endsWith('.nii.gz'))
  assert.equal(saved.length, 1, saved.join(', '))
  const vol = await openVolume(join(dirs.out, saved[0]!))
  const counts: Record<number, number> = {}
  const vox = vol.volume.voxels as ArrayLike<number>
  for (let i = 0; i < vox.length; i++) if (vox[i]) counts[vox[i]!] = (counts[vox[i]!] ?? 0) + 1
  assert.deepEqual(counts, painted, 'the saved mask holds the restored edits')
  const left = (await readdir(recovery)).filter((f) => !f.startsWith('run-'))
  assert.deepEqual(left, [], 'a save drops the backup')
  await shot('04-saved')
  assert.deepEqual(session.blocked, [], 'no non-loopback request')
  // The killed server's dropped connection is logged by the page; nothing else.
  const errors = session.errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(e))
  assert.deepEqual(errors, [], 'no page errors')
})

test('a reload with unsaved edits: the offer names no crash; Discard deletes the backup', async () => {
  await page.keyboard.press('b')
  const box = (await page.locator('[data-view=axial]').boundingBox())!
  const cx = box.x + box.width / 2
  const cy = box.y + box.height / 2 + 40
  await page.mouse.move(cx - 20, cy)
  await page.mouse.down()
  for (let x = 0; x <= 40; x += 5) await page.mouse.move(cx - 20 + x, cy)
  await page.mouse.up()
  await page.waitForSelector('.backup-status:has-text("backed up")', { timeout: 30_000 })
  const backedUp = (await readdir(recovery)).filter((f) => !f.startsWith('run-'))
  assert.equal(backedUp.length, 2, backedUp.join(', '))
  const dialogs: string[] = []
  const onDialog = (d: Dialog): void => {
    dialogs.push(d.type())
    void d.accept()
  }
  page.on('dialog', onDialog)
  await page.reload()
  await page.waitForSelector('body[data-ready=true]', { state: 'attached', timeout: 120_000 })
  page.off('dialog', onDialog)
  assert.deepEqual(dialogs, ['beforeunload'])
  await page.waitForSelector('.backup-offer', { timeout: 30_000 })
  const text = (await page.textContent('.backup-offer')) ?? ''
  assert.match(text, /^Unsaved edits of ch2\.nii\.gz from .+: 1 label, \d+ voxels\./)
  assert.doesNotMatch(text, /did not close cleanly/, 'this run is alive: no crash to report')
  await shot('05-offer-after-reload')
  await page.click('button.discard-backup')
  await page.waitForSelector('.notices :text("Discarded the backup from")')
  assert.equal(await page.isVisible('.backup-offer'), false)
  const left = (await readdir(recovery)).filter((f) => !f.startsWith('run-'))
  assert.deepEqual(left, [], 'Discard deletes the backup')
})

test('a dropped file: dropped again after another file replaced it, its backup is offered and restored', async () => {
  await page.evaluate('globalThis.bench = () => globalThis.volsegBench') // lost by the reload
  const bytes = new Uint8Array(await readFile(join(dirs.data, 'ch2.nii.gz')))
  const drop = (): Promise<void> =>
    openAndWait(page, 'dropped-ch2.nii.gz', async () => {
      const dt = await dataTransfer(page, 'dropped-ch2.nii.gz', bytes)
      await page.dispatchEvent('body', 'drop', { dataTransfer: dt })
      await dt.dispose()
    })
  await drop()
  await page.click('button.new-labelling')
  await page.waitForSelector('.edit-label-row[data-value="1"]')
  await page.keyboard.press('b')
  const box = (await page.locator('[data-view=axial]').boundingBox())!
  const cx = box.x + box.width / 2
  const cy = box.y + box.height / 2 - 30
  await page.mouse.move(cx - 20, cy)
  await page.mouse.down()
  for (let x = 0; x <= 40; x += 5) await page.mouse.move(cx - 20 + x, cy)
  await page.mouse.up()
  await page.waitForSelector('.backup-status:has-text("backed up")', { timeout: 30_000 })
  const dropped = await scanCounts()
  assert.ok((dropped[1] ?? 0) > 0, JSON.stringify(dropped))
  // Another image replaces it (the viewer asks first; the dropped copy is closed), then the same
  // file is dropped again: found by its name and bytes.
  const dialogs: string[] = []
  const onDialog = (d: Dialog): void => {
    dialogs.push(d.type())
    void d.accept()
  }
  page.on('dialog', onDialog)
  await openAndWait(page, 'ch2.nii.gz', () =>
    page.click('.file-list button[data-name="ch2.nii.gz"]'),
  )
  page.off('dialog', onDialog)
  assert.deepEqual(dialogs, ['confirm'])
  await drop()
  await page.waitForSelector('.backup-offer', { timeout: 30_000 })
  assert.match(
    (await page.textContent('.backup-offer')) ?? '',
    /^Unsaved edits of dropped-ch2\.nii\.gz from .+: 1 label, \d+ voxels\./,
  )
  await shot('06-dropped-offer')
  await page.click('button.restore-backup')
  await page.waitForSelector('.notices :text("Restored the unsaved edits from")', {
    timeout: 60_000,
  })
  assert.deepEqual(await scanCounts(), dropped, 'the restored voxels are the painted ones')
  assert.deepEqual(session.blocked, [], 'no non-loopback request')
})

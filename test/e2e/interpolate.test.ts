/**
 * End to end (issue 14): fill between slices in the built viewer, headless Chromium against the
 * real `volseg serve`. On a new labelling of ch2 the brush paints the active label on two axial
 * slices six apart; key I runs the itk-wasm interpolation in the slice-fill worker (its pipeline
 * served by `volseg serve` from the bundle, no network); the five slices between then hold the
 * label, nothing outside the two drawn slices' range does, and one undo removes exactly the fill.
 * With the label on one slice only, I says so in words. Screenshots:
 * test/e2e/artifacts/interpolate-*.png.
 *
 * Run: node --import tsx --test test/e2e/interpolate.test.ts (needs `npm run build`).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Page, Route } from 'playwright-core'
import type { Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import { nearestVoxelAxis, type VoxelAxis } from '../../src/core/segmentation/slice-fill.js'
import {
  ARTIFACTS,
  REPO,
  buildRenderer,
  ensureArtifacts,
  launch,
  startServer,
  type Server,
  type Session,
  openViewer,
} from './harness.js'

let server: Server
let session: Session
let page: Page
/** Every URL the page and its workers requested. */
const requested: string[] = []

const shot = async (name: string): Promise<void> => {
  await page.waitForTimeout(400)
  await page.screenshot({ path: join(ARTIFACTS, `interpolate-${name}.png`) })
}

interface Bench {
  readonly editor: {
    count(v: number): number
    readonly undoSteps: number
    readonly activeLabel: number
    addLabel(name?: string): number
    setActiveLabel(v: number): void
  }
  readonly sliceFiller: { readonly status: string; readonly running: boolean }
  readonly store: {
    readonly state: {
      readonly volume?: { info: { geometry: VolumeGeometry }; grid: { toIJK(p: Vec3): Vec3 } }
      readonly labels?: { voxels: Uint8Array | Uint16Array }
      readonly crosshairLPS: Vec3
    }
  }
}
const bench = (): Bench => (globalThis as unknown as { volsegBench: Bench }).volsegBench

/** Voxels of `value` on each slice along `axis` (a full scan of the page's label voxels). */
async function perSlice(axis: VoxelAxis, value: number): Promise<number[]> {
  return page.evaluate(
    ([a, v]) => {
      const s = bench().store.state
      const [ni, nj, nk] = s.volume!.info.geometry.sizeIJK
      const lab = s.labels!.voxels
      const out = new Array<number>([ni, nj, nk][a!]!).fill(0)
      let p = 0
      for (let k = 0; k < nk; k++) {
        for (let j = 0; j < nj; j++) {
          for (let i = 0; i < ni; i++, p++) if (lab[p] === v) out[[i, j, k][a!]!]!++
        }
      }
      return out
    },
    [axis, value],
  )
}

/** FNV-1a of every label byte: undo must restore exact bytes. */
async function labelHash(): Promise<number> {
  return page.evaluate(() => {
    const lab = bench().store.state.labels!.voxels
    let h = 2166136261
    for (let n = 0; n < lab.length; n++) h = Math.imul(h ^ lab[n]!, 16777619) >>> 0
    return h
  })
}

/** The crosshair's voxel index along `axis`. */
async function crosshairSlice(axis: VoxelAxis): Promise<number> {
  return page.evaluate((a) => {
    const s = bench().store.state
    return Math.round(s.volume!.grid.toIJK(s.crosshairLPS)[a]!)
  }, axis)
}

/** One brush click at the centre of the axial view. */
async function clickAxialCentre(): Promise<void> {
  const box = (await page.locator('[data-view=axial]').boundingBox())!
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
  await page.mouse.down()
  await page.mouse.up()
}

async function setRadius(mm: number): Promise<void> {
  await page.fill('input.brush-radius', String(mm))
  await page.press('input.brush-radius', 'Enter')
}

before(async () => {
  if (!existsSync(join(REPO, 'dist', 'cli', 'serve.js'))) {
    throw new Error('dist/cli/serve.js missing: run "npm run build" first (volseg serve)')
  }
  await buildRenderer()
  await ensureArtifacts()
  // ch2 only: no derived fixtures needed.
  const root = await mkdtemp(join(tmpdir(), 'volseg-e2e-interp-'))
  await mkdir(join(root, 'data'))
  await mkdir(join(root, 'out'))
  await cp(join(REPO, 'test', 'fixtures', 'ch2.nii.gz'), join(root, 'data', 'ch2.nii.gz'))
  server = await startServer(join(root, 'data'), join(root, 'out'))
  session = await launch()
  page = session.page
  page.context().on('request', (r) => requested.push(r.url()))
  await openViewer(page, server.url, '?bench')
  await page.evaluate('globalThis.bench = () => globalThis.volsegBench')
  const info = (await page.textContent('.volume-info')) ?? ''
  if (!info.includes('ch2.nii.gz')) {
    await page.click('.file-list button[data-name="ch2.nii.gz"]')
    await page.waitForSelector('.volume-info:text-matches("ch2")', { timeout: 120_000 })
  }
  await page.waitForTimeout(500)
})

after(async () => {
  await session?.browser.close()
  await server?.stop()
})

test('I fills the axial slices between two painted ones, around another label; one undo removes exactly the fill', async () => {
  await page.click('button.new-labelling')
  await page.waitForSelector('.edit-label-row[data-value="1"]')
  const geometry = await page.evaluate(() => bench().store.state.volume!.info.geometry)
  const axis = nearestVoxelAxis(geometry.directionLPS, [0, 0, 1])
  await page.keyboard.press('b')
  // Radius 8 mm on the crosshair's axial slice, then 12 mm six slices up.
  await setRadius(8)
  await clickAxialCentre()
  const first = await crosshairSlice(axis)
  for (let n = 0; n < 6; n++) await page.keyboard.press('ArrowUp')
  await page.waitForTimeout(200)
  const last = await crosshairSlice(axis)
  assert.equal(Math.abs(last - first), 6, `six slices apart (${first} → ${last})`)
  await setRadius(12)
  await clickAxialCentre()
  const [lo, hi] = first < last ? [first, last] : [last, first]
  const drawn = await perSlice(axis, 1)
  assert.ok(drawn[first]! > 150 && drawn[last]! > drawn[first]!, `${drawn[first]}, ${drawn[last]}`)
  for (let s = lo + 1; s < hi; s++) assert.equal(drawn[s], 0, `slice ${s} empty before the fill`)
  // Another label in the way: a 3 mm disc of label 2 on the middle slice.
  for (let n = 0; n < 3; n++) await page.keyboard.press(last > first ? 'ArrowDown' : 'ArrowUp')
  await page.waitForTimeout(200)
  const middle = await crosshairSlice(axis)
  assert.equal(middle, (first + last) / 2)
  const other = await page.evaluate(() => bench().editor.addLabel('in the way'))
  await setRadius(3)
  await clickAxialCentre()
  await page.evaluate(() => bench().editor.setActiveLabel(1))
  const otherBefore = await perSlice(axis, other)
  assert.ok(otherBefore[middle]! > 20, `label ${other}: ${otherBefore[middle]} voxels`)
  const hashBefore = await labelHash()
  const stepsBefore = await page.evaluate(() => bench().editor.undoSteps)
  await shot('01-two-slices')
  await page.keyboard.press('Escape') // leave the brush: I works with any tool
  // First with the pipeline files unreachable: an error notice in words, nothing written.
  const refuse = (r: Route): Promise<void> => r.abort('connectionrefused')
  await page.context().route('**/pipelines/**', refuse)
  await page.keyboard.press('i')
  await page.waitForFunction(() => /failed/.test(bench().sliceFiller.status), undefined, {
    timeout: 60_000,
  })
  const failed = (await page.textContent('.fill-between-status'))!
  console.log(`# status with the pipeline unreachable: ${failed}`)
  assert.match(
    failed,
    /^Fill between slices failed: could not load the interpolation filter from http:\/\/127\.0\.0\.1:\d+\/pipelines/,
  )
  await page.waitForSelector('.notices .notice-error:has-text("Fill between slices failed")')
  assert.equal(await labelHash(), hashBefore, 'nothing written')
  assert.equal(await page.evaluate(() => bench().editor.undoSteps), stepsBefore)
  await page.context().unroute('**/pipelines/**', refuse)
  // Then for real. Key I over the axial view (the mouse is still on it), wait for the status.
  await page.keyboard.press('i')
  const during = await page.textContent('.fill-between-status')
  await page
    .waitForFunction(() => /^Filled \d+ voxels/.test(bench().sliceFiller.status), undefined, {
      timeout: 120_000,
    })
    .catch(async (e: unknown) => {
      await shot('failed')
      const st = await page.evaluate(() => bench().sliceFiller.status)
      throw new Error(`${String(e)}; status: ${st}; errors: ${session.errors.join(' | ')}`)
    })
  const status = (await page.textContent('.fill-between-status'))!
  console.log(`# status while running: ${during}`)
  console.log(`# status: ${status}`)
  assert.match(
    status,
    /^Filled \d+ voxels of “label 1” between axial slices \d+ and \d+ \(.*\)\. \d+ voxels of other labels were left as they are\.$/,
  )
  assert.deepEqual(await perSlice(axis, other), otherBefore, 'the other label is untouched')
  const filled = await perSlice(axis, 1)
  console.log(`# per slice ${lo - 1}…${hi + 1}: ${filled.slice(lo - 1, hi + 2).join(' ')}`)
  assert.equal(filled[first], drawn[first], 'first drawn slice kept')
  assert.equal(filled[last], drawn[last], 'last drawn slice kept')
  for (let s = lo + 1; s < hi; s++) {
    assert.ok(filled[s]! >= drawn[lo]! * 0.8, `slice ${s} filled (${filled[s]})`)
    assert.ok(filled[s]! <= drawn[hi]! * 1.05, `slice ${s} within the larger disc (${filled[s]})`)
  }
  const outside = filled.reduce((n, c, s) => (s < lo || s > hi ? n + c : n), 0)
  assert.equal(outside, 0, 'nothing outside the drawn slices')
  const added = filled.reduce((a, b) => a + b, 0) - drawn.reduce((a, b) => a + b, 0)
  assert.equal(status.match(/^Filled (\d+)/)![1], String(added), 'the status counts the voxels')
  assert.equal(
    await page.evaluate(() => bench().editor.count(1)),
    filled.reduce((a, b) => a + b),
  )
  assert.equal(await page.evaluate(() => bench().editor.undoSteps), stepsBefore + 1, 'one step')
  // The middle slice (shown) holds both labels; then the undo.
  await shot('02-filled')
  await page.locator('.edit-panel').scrollIntoViewIfNeeded()
  await page
    .locator('.edit-panel')
    .screenshot({ path: join(ARTIFACTS, 'interpolate-02-edit-panel.png') })
  await page.keyboard.press('Control+z')
  await page.waitForTimeout(200)
  assert.equal(await labelHash(), hashBefore, 'undo: exactly the two drawn slices again')
  await shot('03-undone')
  await page.keyboard.press('Control+y')
  await page.waitForTimeout(200)
  assert.deepEqual(await perSlice(axis, 1), filled, 'redo: the fill again')
  // Offline: the pipeline came from our server, nothing else was tried.
  const pipelines = requested.filter((u) =>
    /\/pipelines\/morphological-contour-interpolation\./.test(u),
  )
  console.log(`# pipeline requests: ${pipelines.join(', ')}`)
  assert.ok(pipelines.length >= 1, 'the pipeline was fetched')
  for (const u of pipelines) assert.equal(new URL(u).hostname, '127.0.0.1')
  assert.deepEqual(session.blocked, [], 'no request left the machine')
  assert.deepEqual(
    requested.filter((u) => /unpkg|jsdelivr|cdn\./.test(u)),
    [],
  )
})

test('I with the label on one slice only says so in words and changes nothing', async () => {
  const v = await page.evaluate(() => {
    const ed = bench().editor
    const v = ed.addLabel('one slice')
    ed.setActiveLabel(v)
    return v
  })
  await page.keyboard.press('b')
  await setRadius(5)
  await clickAxialCentre()
  await page.keyboard.press('Escape')
  const hash = await labelHash()
  const steps = await page.evaluate(() => bench().editor.undoSteps)
  await page.keyboard.press('i')
  await page.waitForFunction(() => /at least two/.test(bench().sliceFiller.status))
  const status = (await page.textContent('.fill-between-status'))!
  assert.match(
    status,
    /needs the label drawn on at least two axial slices: “one slice” is on one axial slice only \(\d+\)/,
  )
  // the notice too (drawn on the next frame)
  await page.waitForSelector('.notices .notice:has-text("at least two axial slices")')
  assert.equal(await labelHash(), hash)
  assert.equal(await page.evaluate(() => bench().editor.undoSteps), steps)
  assert.ok((await page.evaluate((x) => bench().editor.count(x), v)) > 0)
  await shot('04-one-slice')
  // (the refused pipeline request of the first test logs one "Failed to load resource")
  assert.deepEqual(
    session.errors.filter((e) => !/favicon|net::ERR_CONNECTION_REFUSED/.test(e)),
    [],
    'no console or page errors',
  )
})

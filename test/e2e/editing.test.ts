/**
 * End to end (issue 14): editing in the built viewer, headless Chromium against the real
 * `volseg serve`. A new empty labelling on ch2 → a brush stroke by mouse (count = the core's disc
 * on the same grid, computed here in Node) → undo/redo exact; threshold paint touches only
 * in-range voxels; 3-D fill and island removal with undo; then the bundled brain-extract model:
 * erase a region, paint another, counts change by the voxels changed, undo → the exact previous
 * counts and bytes. Screenshots go to test/e2e/artifacts/editing-*.png.
 *
 * Run: node --import tsx --test test/e2e/editing.test.ts (needs `npm run build`).
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { openVolume } from '../../src/io/open-volume.js'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import type { VolumeGeometry, Vec3 } from '../../src/shared/geometry.js'
import { createLabelVolume } from '../../src/core/segmentation/label-volume.js'
import { brushDisc } from '../../src/core/segmentation/brush-disc.js'
import { ARTIFACTS, startViewer, type Viewer } from './harness.js'

let viewer: Viewer | undefined
let page: Page
let outDir: string

const shot = async (name: string): Promise<void> => {
  await page.waitForTimeout(300)
  await page.screenshot({ path: join(ARTIFACTS, `editing-${name}.png`) })
}

/** What the page exposes through `window.volsegBench` (opened with ?bench). */
interface PageEditor {
  count(v: number): number
  undo(): boolean
  redo(): boolean
  setTool(t: string): void
  setOptions(p: Record<string, unknown>): void
  setActiveLabel(v: number): void
  addLabel(name?: string): number
  dab(c: Vec3, n: Vec3): number
  fill(c: Vec3, n: Vec3): number
  removeIslands(minMm3: number, label?: number): number
  newLabelling(): void
  readonly undoSteps: number
  readonly activeLabel: number
}
interface PageState {
  readonly volume?: {
    info: { geometry: VolumeGeometry }
    voxels: ArrayLike<number>
    grid: { toIJK(p: Vec3): Vec3 }
  }
  readonly labels?: { voxels: Uint8Array | Uint16Array }
  readonly crosshairLPS: Vec3
  readonly editVersion: number
  readonly review?: ReadonlyMap<number, { kind: string }>
}
interface PageTriage {
  reset(v: number): void
}
interface Bench {
  readonly editor: PageEditor
  readonly triage: PageTriage
  readonly store: { readonly state: PageState }
}
/** Typed accessor of the handle (page functions use the page's own copy, see before()). */
const bench = (): Bench => (globalThis as unknown as { volsegBench: Bench }).volsegBench

/** Voxels per label counted by a full scan of the page's label voxels (independent of the editor). */
async function scanCounts(): Promise<Record<number, number>> {
  return page.evaluate(() => {
    const lab = bench().store.state.labels!.voxels
    const out: Record<number, number> = {}
    for (let n = 0; n < lab.length; n++) if (lab[n]) out[lab[n]!] = (out[lab[n]!] ?? 0) + 1
    return out
  })
}

/** A cheap fingerprint of every label byte (FNV-1a), to check undo restores exact bytes. */
async function labelHash(): Promise<number> {
  return page.evaluate(() => {
    const lab = bench().store.state.labels!.voxels
    let h = 2166136261
    for (let n = 0; n < lab.length; n++) h = Math.imul(h ^ lab[n]!, 16777619) >>> 0
    return h
  })
}

/**
 * For each slice view: does its canvas now (drawn incrementally after edits) equal a forced full
 * redraw of the same state? Returns the views that match.
 */
async function partialEqualsFull(): Promise<string[]> {
  return page.evaluate(() => {
    interface Canvas {
      readonly width: number
      readonly height: number
      getContext(k: '2d'): { getImageData(...a: number[]): { data: Uint8ClampedArray } }
    }
    const b = bench() as unknown as {
      views: Map<
        string,
        { root: { querySelector(s: string): Canvas }; render(s: unknown, f: boolean): void }
      >
    }
    const same: string[] = []
    for (const [name, v] of b.views) {
      // (no named helper functions in here: tsx would wrap them in __name, unknown to the page)
      const c = v.root.querySelector('canvas')
      const before = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
      v.render(bench().store.state, true)
      const after = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
      if (before.length === after.length && before.every((x, n) => x === after[n])) same.push(name)
    }
    return same.sort()
  })
}

before(async () => {
  const v = await startViewer({ query: '?bench' })
  viewer = v
  ;({ page } = v)
  outDir = v.dirs.out
  // Page functions call bench(): the same accessor, defined in the page too.
  await page.evaluate('globalThis.bench = () => globalThis.volsegBench')
  const info = (await page.textContent('.volume-info')) ?? ''
  if (!info.includes('ch2.nii.gz')) {
    await page.click('.file-list button[data-name="ch2.nii.gz"]')
    await page.waitForSelector('.volume-info:text-matches("ch2")', { timeout: 120_000 })
  }
  await page.waitForTimeout(500)
})

after(async () => {
  await viewer?.close()
})

test('new labelling: a brush stroke paints the core disc, undo and redo are exact', async () => {
  await page.click('button.new-labelling')
  await page.waitForSelector('.edit-label-row[data-value="1"]')
  assert.deepEqual(await scanCounts(), {}, 'a new labelling is all zero')
  const geometry = await page.evaluate(() => bench().store.state.volume!.info.geometry)
  const blank = await labelHash()
  // One click with the brush (B) at the axial view centre, radius 6 mm.
  await page.keyboard.press('b')
  await page.fill('input.brush-radius', '6')
  await page.press('input.brush-radius', 'Enter')
  const box = (await page.locator('[data-view=axial]').boundingBox())!
  const cx = box.x + box.width / 2
  const cy = box.y + box.height / 2
  await page.mouse.move(cx, cy)
  const centre = await page.evaluate(
    ([x, y]) => {
      const b = bench() as unknown as {
        views: Map<string, { pointAt(s: unknown, x: number, y: number): Vec3 }>
      }
      return b.views.get('axial')!.pointAt(bench().store.state, x!, y!)
    },
    [box.width / 2, box.height / 2],
  )
  await page.mouse.down()
  await page.mouse.up()
  // Known answer: the core's disc of 6 mm on the same grid, axial plane (normal LPS +z).
  const expected = brushDisc(createLabelVolume(geometry), {
    centreLPS: centre,
    normalLPS: [0, 0, 1],
    radiusMm: 6,
    action: { kind: 'paint', value: 1 },
  }).changed
  assert.ok(expected > 100, `disc of ${expected} voxels`)
  assert.deepEqual(await scanCounts(), { 1: expected })
  assert.equal(await page.evaluate(() => bench().editor.count(1)), expected)
  // A drag to the right is one more stroke, one more undo step.
  await page.mouse.move(cx - 40, cy + 30)
  await page.mouse.down()
  for (let x = 0; x <= 80; x += 8) await page.mouse.move(cx - 40 + x, cy + 30)
  await page.mouse.up()
  const afterDrag = (await scanCounts())[1]!
  assert.ok(afterDrag > expected * 1.5, `the drag painted more (${afterDrag})`)
  assert.equal(await page.evaluate(() => bench().editor.undoSteps), 2)
  // The views redrew only the dabs' pixels: the same picture as a full redraw, in all three.
  await page.waitForTimeout(100)
  assert.deepEqual(await partialEqualsFull(), ['axial', 'coronal', 'sagittal'])
  await shot('01-brush')
  await page.keyboard.press('Control+z')
  await page.waitForTimeout(100)
  assert.deepEqual(await scanCounts(), { 1: expected }, 'undo of the drag')
  await page.keyboard.press('Control+z')
  await page.waitForTimeout(100)
  assert.equal(await labelHash(), blank, 'two undos: exact blank bytes')
  await page.keyboard.press('Control+Shift+z')
  await page.keyboard.press('Control+y')
  await page.waitForTimeout(100)
  assert.equal((await scanCounts())[1], afterDrag, 'redo twice')
  await shot('02-undo-redo')
  await page.keyboard.press('Escape')
})

test('threshold paint touches only voxels in range; fill and island removal undo exactly', async () => {
  const r = await page.evaluate(() => {
    const b = bench()
    const s = b.store.state
    const ed = b.editor
    const img = s.volume!.voxels
    const lab = s.labels!.voxels
    const before = lab.slice()
    ed.setActiveLabel(ed.addLabel('bright'))
    ed.setTool('brush')
    ed.setOptions({ threshold: true, range: [100, 160], radiusMm: 15, sphere: true })
    const changed = ed.dab(s.crosshairLPS, [0, 0, 1])
    let outOfRange = 0
    let touched = 0
    for (let n = 0; n < lab.length; n++) {
      if (lab[n] === before[n]) continue
      touched++
      if (!(img[n]! >= 100 && img[n]! <= 160)) outOfRange++
    }
    return { changed, touched, outOfRange }
  })
  assert.ok(r.changed > 0, 'threshold paint changed voxels')
  assert.equal(r.touched, r.changed)
  assert.equal(r.outOfRange, 0, 'no out-of-range voxel changed')
  await shot('03-threshold')
  const before = await labelHash()
  const counts = await scanCounts()
  // 3-D fill of the in-range region at the crosshair, then island removal of everything < 50 mL.
  const filled = await page.evaluate(() => {
    const b = bench()
    const ed = b.editor
    const s = b.store.state
    const g = s.volume!.info.geometry
    const [i, j, k] = s.volume!.grid.toIJK(s.crosshairLPS).map((x) => Math.round(x))
    const v = s.volume!.voxels[i! + g.sizeIJK[0] * (j! + g.sizeIJK[1] * k!)]!
    // The range around the seed's own intensity, so the seed is in it.
    ed.setOptions({ threshold: false, fill3d: true, range: [v - 15, v + 15] })
    return ed.fill(s.crosshairLPS, [0, 0, 1])
  })
  assert.ok(filled > 1000, `3-D fill grew ${filled} voxels`)
  await shot('04-fill')
  const removed = await page.evaluate(() => bench().editor.removeIslands(1e9))
  assert.ok(removed >= filled, `island removal cleared ${removed} voxels`)
  assert.deepEqual(await scanCounts(), {}, 'every island is under 1e9 mm³: all removed')
  await shot('05-islands')
  await page.evaluate(() => {
    bench().editor.undo()
    bench().editor.undo()
  })
  assert.equal(await labelHash(), before, 'undo of islands and fill: exact bytes')
  assert.deepEqual(await scanCounts(), counts)
})

test('on the model result: erase and paint change counts by the changed voxels; undo exact', async () => {
  await page.selectOption('select.model-select', 'brain-extract')
  await page.click('button.run')
  await page.waitForFunction(
    () =>
      bench().store.state.labels?.voxels.length &&
      bench().store.state.review?.get(1)?.kind === 'pending',
    undefined,
    { timeout: 300_000 },
  )
  await page.waitForTimeout(1000)
  await shot('06-model')
  const c0 = await scanCounts()
  const h0 = await labelHash()
  assert.ok((c0[1] ?? 0) > 100_000, `brain labelled (${c0[1]} voxels)`)
  const r = await page.evaluate(() => {
    const b = bench()
    const ed = b.editor
    const c = b.store.state.crosshairLPS
    ed.setOptions({ threshold: false, sphere: true, radiusMm: 10 })
    ed.setTool('eraser')
    const erased = ed.dab(c, [0, 0, 1])
    ed.setActiveLabel(ed.addLabel('lesion'))
    ed.setTool('brush')
    const lesion = ed.activeLabel
    const lab = b.store.state.labels!.voxels
    const prior = lab.slice()
    const painted = ed.dab([c[0] + 30, c[1], c[2]], [0, 0, 1])
    let paintedOver = 0
    for (let n = 0; n < lab.length; n++) if (prior[n] === 1 && lab[n] === lesion) paintedOver++
    return { erased, painted, paintedOver, lesion, review: b.store.state.review?.get(1)?.kind }
  })
  assert.ok(r.erased > 1000 && r.painted > 1000, JSON.stringify(r))
  const c1 = await scanCounts()
  assert.ok(r.paintedOver > 0, 'the lesion brush overlapped the brain')
  assert.equal(c1[1], c0[1]! - r.erased - r.paintedOver, 'brain lost the erased and painted-over')
  assert.equal(c1[r.lesion], r.painted)
  assert.equal(await page.evaluate(() => bench().editor.count(1)), c1[1], 'panel count exact')
  assert.equal(r.review, 'edited', 'the edited label is marked edited in the review')
  await shot('07-erase-paint')
  await page.evaluate(() => {
    bench().editor.undo()
    bench().editor.undo()
  })
  assert.deepEqual(await scanCounts(), c0, 'undo: exact previous counts')
  assert.equal(await labelHash(), h0, 'undo: exact bytes')
  await page.evaluate(() => {
    bench().editor.redo()
    bench().editor.redo()
  })
  assert.deepEqual(await scanCounts(), c1, 'redo')
  // 500 ms after the last edit the map is re-published: new counts, 3-D surfaces recomputed.
  await page.waitForFunction(
    (n) =>
      (
        bench().store.state.labels as unknown as {
          header: { labels: { value: number; voxels: number }[] }
        }
      ).header.labels.find((l) => l.value === 1)?.voxels === n,
    c1[1],
    { timeout: 10_000 },
  )
  await page.waitForTimeout(3000)
  await shot('08-redo')
})

test('review: N goes to the next pending label, Y accepts, X asks a reason, progress counts', async () => {
  await page.keyboard.press('Escape') // leave the brush: letters are shortcuts again
  const lesion = await page.evaluate(() => bench().editor.activeLabel)
  assert.notEqual(lesion, 1)
  // Both labels were edited; put the brain back to pending to triage it.
  await page.evaluate(() => bench().triage.reset(1))
  await page.waitForSelector('.review-progress:text-is("1 of 2 labels reviewed")')
  await page.keyboard.press('n')
  const at = await page.evaluate(() => {
    const s = bench().store.state
    const g = s.volume!.info.geometry
    const [i, j, k] = s.volume!.grid.toIJK(s.crosshairLPS).map((x) => Math.round(x))
    return {
      active: bench().editor.activeLabel,
      label: s.labels!.voxels[i! + g.sizeIJK[0] * (j! + g.sizeIJK[1] * k!)],
    }
  })
  assert.deepEqual(at, { active: 1, label: 1 }, 'N: brain active, the crosshair on a brain voxel')
  await page.keyboard.press('y')
  await page.waitForSelector('.edit-label-row[data-value="1"] .review-accepted')
  await page.waitForSelector('.review-progress:text-is("2 of 2 labels reviewed")')
  await page.keyboard.press('n')
  await page.waitForSelector('.notices :text("Every label has been reviewed.")')
  // Reject the lesion: X opens the reason field; an empty reason is refused in words.
  await page.evaluate((v) => bench().editor.setActiveLabel(v), lesion)
  await page.keyboard.press('x')
  const reason = page.locator(`.edit-label-row[data-value="${lesion}"] input.reject-reason`)
  await reason.waitFor()
  await page.waitForSelector('input.reject-reason:focus')
  await page.keyboard.press('Enter')
  await page.waitForSelector('.reject-problem:text("a rejection needs a reason")')
  await shot('09-reject-reason')
  await page.keyboard.type('not a lesion: vessel')
  await page.keyboard.press('Enter')
  await page.waitForSelector(
    `.edit-label-row[data-value="${lesion}"] .review-rejected:text("rejected: not a lesion: vessel")`,
  )
  const states = await page.evaluate(() =>
    [...bench().store.state.review!].map(([v, st]) => [v, st.kind]),
  )
  assert.deepEqual(states, [
    [1, 'accepted'],
    [lesion, 'rejected'],
  ])
  await shot('10-reviewed')
})

test('save writes what is on screen: the edited mask, re-read in Node, has exactly the page counts', async () => {
  const onPage = await scanCounts()
  const before = new Set(await readdir(outDir))
  await page.keyboard.press('Escape') // leave the tool: S is a shortcut again
  await page.click('button.save')
  await page.waitForFunction(
    () =>
      /^Saved to /.test(
        (
          globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string } | null }
          }
        ).document.querySelector('.saved')?.textContent ?? '',
      ),
    undefined,
    { timeout: 60_000 },
  )
  const added = (await readdir(outDir)).filter((f) => !before.has(f) && f.endsWith('.nii.gz'))
  assert.equal(added.length, 1, `one new mask: ${added.join(', ')}`)
  const saved = await openVolume(join(outDir, added[0]!))
  const counts: Record<number, number> = {}
  const vox = saved.volume.voxels as ArrayLike<number>
  for (let i = 0; i < vox.length; i++) {
    const v = vox[i]!
    if (v !== 0) counts[v] = (counts[v] ?? 0) + 1
  }
  assert.deepEqual(counts, onPage, 'the saved file holds the edits, voxel for voxel in counts')
  // The review states and the reason travel beside the mask.
  const review = JSON.parse(
    await readFile(join(outDir, added[0]!.replace(/\.nii\.gz$/, '.review.json')), 'utf8'),
  ) as { review: { labels: { value: number; status: string; reason?: string }[] } }
  const byValue = new Map(review.review.labels.map((l) => [l.value, l]))
  assert.equal(byValue.get(1)?.status, 'accepted')
  const rejected = review.review.labels.find((l) => l.value !== 1)
  assert.equal(rejected?.status, 'rejected')
  assert.equal(rejected?.reason, 'not a lesion: vessel')
  // Saving again without a change is refused: no second copy of the same mask.
  await page.click('button.save')
  await page.waitForTimeout(500)
  assert.match((await page.textContent('body')) ?? '', /Already saved, no changes since/)
  assert.equal((await readdir(outDir)).filter((f) => f.endsWith('.nii.gz')).length, before.size + 1)
  await shot('11-saved')
})

test('the saved mask opens back over its image from "Saved masks", with its review decisions', async () => {
  const saved = await scanCounts()
  // Start over (a new empty labelling), then bring the saved mask back.
  await page.evaluate(() => bench().editor.newLabelling())
  await page.waitForFunction(() => bench().store.state.labels?.voxels.every((x) => x === 0))
  await page.click('.root-tab[data-root="out"]')
  const name = (await readdir(outDir)).find((f) => f.endsWith('.nii.gz'))!
  // The new labelling is unsaved: replacing it asks first (dismissed once, then accepted).
  const asked: string[] = []
  page.once('dialog', (d) => {
    asked.push(d.message())
    void d.dismiss()
  })
  await page.click(`.file-list button.entry[data-name="${name}"]`)
  await page.waitForTimeout(300)
  assert.equal(
    await page.evaluate(() => bench().store.state.labels?.voxels.some((x) => x !== 0)),
    false,
  )
  page.once('dialog', (d) => {
    asked.push(d.message())
    void d.accept()
  })
  await page.click(`.file-list button.entry[data-name="${name}"]`)
  await page.waitForSelector(`.notices :text("Opened the mask ${outDir.split('/').pop()}/${name}")`)
  assert.deepEqual(await scanCounts(), saved, 'the voxels on screen are the saved ones')
  const states = await page.evaluate(() =>
    [...bench().store.state.review!].map(([v, st]) => [v, st.kind]),
  )
  assert.deepEqual(
    states.map(([, k]) => k),
    ['accepted', 'rejected'],
  )
  assert.equal(asked.length, 2)
  assert.match(asked[0]!, new RegExp(`^Replace the unsaved edits with the mask .*/${name}\\?$`))
  await page.waitForSelector('.review-progress:text-is("2 of 2 labels reviewed")')
  await page.waitForSelector('.review-rejected:text("rejected: not a lesion: vessel")')
  // Nothing changed since it was opened: saving says so instead of writing a copy.
  await page.click('button.save')
  await page.waitForSelector('.notices :text("No changes since the mask was opened")')
  await shot('12-reopened')
  await page.click('.root-tab[data-root="data"]')
  await page.waitForSelector('.file-list button.entry[data-name="ch2.nii.gz"]')
})

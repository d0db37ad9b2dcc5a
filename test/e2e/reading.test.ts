/**
 * Reading basics of issue 14 (G), end to end in Chromium against the real `volseg serve`: one
 * wheel notch is one slice of a 7 mm series, wheel and arrow keys go the same way, a slice
 * counter, a read-out that follows the slice, shortcuts after a checkbox click, zoom/pan reset
 * (R and a double-click on the title), a typed window, and CT opening in a CT window.
 *
 * Run: node --import tsx --test test/e2e/reading.test.ts (needs `npm run build` for dist/).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { ARTIFACTS, REPO, type Session, openAndWait, startViewer, type Viewer } from './harness.js'

let viewer: Viewer | undefined
let session: Session
let page: Page

const AXIAL = '.slice-view[data-view="axial"]'

before(async () => {
  const v = await startViewer({
    // ch2 with every 7th axial slice kept: 1 × 1 × 7 mm voxels (nibabel writes it).
    prepare: (dirs) => {
      execFileSync('/usr/bin/python3', [
        '-c',
        `import nibabel as nib, numpy as np, sys
img = nib.load(sys.argv[1]); a = np.asanyarray(img.dataobj)[:, :, ::7]
aff = img.affine.copy(); aff[:3, 2] *= 7
nib.save(nib.Nifti1Image(a, aff), sys.argv[2])`,
        join(REPO, 'test', 'fixtures', 'ch2.nii.gz'),
        join(dirs.data, 'thick.nii.gz'),
      ])
    },
  })
  viewer = v
  ;({ session, page } = v)
})

after(async () => {
  await viewer?.close()
})

async function open(name: string): Promise<void> {
  await openAndWait(page, name, () => page.click(`.file-list button[data-name="${name}"]`))
  await page.waitForTimeout(300)
}

/** The axial title's position (signed towards S, mm) and slice counter. */
async function axialTitle(): Promise<{ mm: number; index: number; count: number }> {
  const text = (await page.textContent(`${AXIAL} .view-title`)) ?? ''
  const m = /([SI]) (\d+\.\d) mm · (\d+) \/ (\d+)/.exec(text)
  assert.ok(m, `axial title "${text}"`)
  return { mm: (m[1] === 'S' ? 1 : -1) * Number(m[2]), index: Number(m[3]), count: Number(m[4]) }
}

async function readoutK(): Promise<number> {
  const text = (await page.textContent(`${AXIAL} .readout`)) ?? ''
  const m = /voxel \((\d+), (\d+), (\d+)\)/.exec(text)
  assert.ok(m, `read-out "${text}"`)
  return Number(m[3])
}

async function scalebar(): Promise<string> {
  const box = await page.locator(`${AXIAL} .scalebar`).boundingBox()
  return `${(await page.textContent(`${AXIAL} .scalebar-label`)) ?? ''} ${box?.width.toFixed(1)}`
}

test('a 7 mm series: one wheel notch or one ↑ is one slice, the same way; counter and read-out follow', async () => {
  await open('thick.nii.gz')
  const view = await page.locator(AXIAL).boundingBox()
  assert.ok(view)
  await page.mouse.move(view.x + view.width / 2, view.y + view.height / 2)
  const t0 = await axialTitle()
  assert.equal(t0.count, 26) // ch2 has 181 axial slices: every 7th is 26
  const k0 = await readoutK()
  await page.mouse.wheel(0, -100) // one notch up
  await page.waitForTimeout(200)
  const t1 = await axialTitle()
  assert.ok(Math.abs(t1.mm - t0.mm - 7) < 0.05, `one notch moved ${t1.mm - t0.mm} mm, not 7`)
  assert.equal(t1.index, t0.index + 1)
  assert.equal(await readoutK(), k0 + 1, 'the read-out follows the slice under a still pointer')
  await page.keyboard.press('ArrowUp')
  await page.waitForTimeout(200)
  const t2 = await axialTitle()
  assert.ok(Math.abs(t2.mm - t1.mm - 7) < 0.05, 'ArrowUp goes the way the wheel went up')
  assert.equal(t2.index, t1.index + 1)
  await page.mouse.wheel(0, 100) // one notch down
  await page.waitForTimeout(200)
  assert.equal((await axialTitle()).index, t1.index)
  await page.screenshot({ path: join(ARTIFACTS, 'reading-01-thick.png') })
})

test('shortcuts work right after a checkbox click', async () => {
  await page.click('input.overlay-outline')
  const before = await page.locator('input.overlay-visible').isChecked()
  await page.keyboard.press('o')
  await page.waitForTimeout(200)
  assert.equal(await page.locator('input.overlay-visible').isChecked(), !before)
  await page.keyboard.press('o')
  await page.click('input.overlay-outline')
})

test('zoom and pan reset: R for all views, a double-click on the title for one', async () => {
  const fit = await scalebar()
  const view = (await page.locator(AXIAL).boundingBox())!
  const zoom = async (): Promise<void> => {
    await page.mouse.move(view.x + view.width / 2, view.y + view.height / 2)
    await page.mouse.down({ button: 'right' })
    await page.mouse.move(view.x + view.width / 2, view.y + view.height / 2 - 120, { steps: 5 })
    await page.mouse.up({ button: 'right' })
    await page.waitForTimeout(200)
    assert.notEqual(await scalebar(), fit, 'right-drag zooms')
  }
  await zoom()
  await page.keyboard.press('r')
  await page.waitForTimeout(200)
  assert.equal(await scalebar(), fit)
  await zoom()
  await page.dblclick(`${AXIAL} .view-title`)
  await page.waitForTimeout(200)
  assert.equal(await scalebar(), fit)
})

test('a typed window width and level apply', async () => {
  await page.fill('input.wl-width', '123')
  await page.fill('input.wl-level', '45')
  await page.press('input.wl-level', 'Enter')
  await page.waitForTimeout(200)
  assert.match((await page.textContent('.wl')) ?? '', /W 123\.0 \/ L 45\.00/)
})

test('a CT in HU without a DICOM Modality opens in a CT window, an MR in the auto window', async () => {
  await open('ct.nii.gz')
  assert.equal(await page.getAttribute('.presets button.active', 'data-preset'), 'CT abdomen')
  await page.screenshot({ path: join(ARTIFACTS, 'reading-02-ct.png') })
  await open('ch2.nii.gz')
  assert.equal(await page.getAttribute('.presets button.active', 'data-preset'), 'auto')
  assert.deepEqual(session.errors, [], 'no page errors')
})

test('3-D view: an orientation cube, and a title that follows the camera when rotated', async () => {
  await open('ch2.nii.gz')
  const title = (): Promise<string> =>
    page.textContent('[data-view="3d"] .view-title').then((t) => t ?? '')
  assert.match(await title(), /anterior view/)
  const box = await page.locator('[data-view="3d"] .vtk-host').boundingBox()
  assert.ok(box)
  // A horizontal drag of a third of the view turns the camera about the vertical axis.
  const y = box.y + box.height / 2
  await page.mouse.move(box.x + box.width / 2, y)
  await page.mouse.down()
  await page.waitForTimeout(100)
  await page.mouse.move(box.x + box.width / 2 + box.width / 3, y, { steps: 20 })
  await page.waitForTimeout(100)
  await page.mouse.up()
  await page.waitForTimeout(300)
  const turned = await title()
  assert.doesNotMatch(turned, /anterior view/, `after rotation: "${turned}"`)
  assert.match(turned, /3D \(LPS mm, (oblique view from [LRAP]+|left view|right view)\)/)
  await page
    .locator('[data-view="3d"]')
    .screenshot({ path: join(ARTIFACTS, 'reading-03-3d-rotated.png') })
  assert.deepEqual(session.errors, [], 'no page errors')
})

/**
 * End to end (architecture.md §8): the built viewer in headless Chromium (SwiftShader WebGL2) against the
 * real `volseg serve` with the real bundled brain-extract model. Golden flow: open ch2 →
 * orientation letters (also for flipped and oblique inputs) → the picture itself: patient-left,
 * anterior and superior markers found in screenshot pixels on the screen sides the convention
 * puts them (for RAS-, PSR- and obliquely stored copies) → run the model → overlay where the
 * brain is → save → re-read in Node against the source; plus cancel, the DICOM series chooser,
 * and zero non-loopback requests. Screenshots go to test/e2e/artifacts/.
 *
 * Display convention checked here: radiological (patient's right on the screen's left in axial
 * and coronal views; sagittal seen from the patient's left, anterior on the left).
 *
 * Run: node --import tsx --test test/e2e/viewer.test.ts (needs `npm run build` for dist/).
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { openVolume } from '../../src/io/open-volume.js'
import { manifestEntry } from '../helpers.js'
import { dataTransfer, ARTIFACTS, REPO, type Session, startViewer, type Viewer } from './harness.js'
import { decodePng, type Rgba } from './png.js'

// The root tsconfig has no DOM lib: the few browser-side shapes used in page functions.
interface Canvas2d {
  readonly width: number
  readonly height: number
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray }
  } | null
}
interface BrowserGlobals {
  readonly document: { querySelector(s: string): { textContent: string | null } | null }
}

let viewer: Viewer | undefined
let session: Session
let page: Page
let dirs: { data: string; out: string }

const shot = (name: string): Promise<Buffer> =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })

/** Edge letters of a view, as shown. */
async function letters(view: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const pos of ['left', 'right', 'top', 'bottom']) {
    out[pos] = (await page.textContent(`[data-view=${view}] .letter-${pos}`))?.trim() ?? ''
  }
  return out
}

/** Share of coloured pixels in the top-left corner box (`f` of each side) of a view's canvas. */
async function cornerColoured(view: string, f = 0.12): Promise<number> {
  return page.$eval(
    `[data-view=${view}] canvas`,
    (c, frac) => {
      const canvas = c as unknown as Canvas2d
      const ctx = canvas.getContext('2d')!
      const w = Math.round(canvas.width * frac)
      const h = Math.round(canvas.height * frac)
      const d = ctx.getImageData(0, 0, w, h).data
      let coloured = 0
      for (let q = 0; q < d.length; q += 4) {
        const hi = Math.max(d[q]!, d[q + 1]!, d[q + 2]!)
        if (hi - Math.min(d[q]!, d[q + 1]!, d[q + 2]!) > 40) coloured++
      }
      return coloured / (d.length / 4)
    },
    f,
  )
}

/** Pixel statistics of a centred box (fraction `f` of the size) of a slice view's canvas. */
async function centreStats(
  view: string,
  f = 0.3,
): Promise<{ meanGrey: number; sdGrey: number; coloured: number }> {
  return page.$eval(
    `[data-view=${view}] canvas`,
    (c, frac) => {
      const canvas = c as unknown as Canvas2d
      const ctx = canvas.getContext('2d')!
      const w = Math.round(canvas.width * frac)
      const h = Math.round(canvas.height * frac)
      const d = ctx.getImageData((canvas.width - w) >> 1, (canvas.height - h) >> 1, w, h).data
      let sum = 0
      let sum2 = 0
      let coloured = 0
      const n = d.length / 4
      for (let q = 0; q < d.length; q += 4) {
        const r = d[q]!
        const g = d[q + 1]!
        const b = d[q + 2]!
        const grey = (r + g + b) / 3
        sum += grey
        sum2 += grey * grey
        if (Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++
      }
      const mean = sum / n
      return {
        meanGrey: mean,
        sdGrey: Math.sqrt(Math.max(0, sum2 / n - mean * mean)),
        coloured: coloured / n,
      }
    },
    f,
  )
}

async function openEntry(name: string, expectInfo: RegExp): Promise<void> {
  await page.click(`.file-list button[data-name="${name}"]`)
  await page.waitForFunction(
    (re) =>
      new RegExp(re).test(
        (globalThis as unknown as BrowserGlobals).document.querySelector('.volume-info')
          ?.textContent ?? '',
      ),
    expectInfo.source,
    { timeout: 120_000 },
  )
  await page.waitForTimeout(300)
}

async function setAlignment(acquisition: boolean): Promise<void> {
  const box = page.locator('input.align')
  if ((await box.isChecked()) !== acquisition) await box.click()
  await page.waitForTimeout(200)
}

before(async () => {
  const v = await startViewer()
  viewer = v
  ;({ session, page, dirs } = v)
})

after(async () => {
  await viewer?.close()
})

test('opens ch2 and renders it with radiological letters', async () => {
  // hello().sampleSource may be another file; open ch2 from the browser if it is not shown
  const info = (await page.textContent('.volume-info')) ?? ''
  if (!info.includes('ch2.nii.gz')) await openEntry('ch2.nii.gz', /ch2\.nii\.gz/)
  await page.waitForTimeout(500)
  await shot('01-ch2')
  const axial = await centreStats('axial')
  assert.ok(
    axial.sdGrey > 10 && axial.meanGrey > 20,
    `axial centre is blank: ${JSON.stringify(axial)}`,
  )
  assert.deepEqual(await letters('axial'), { left: 'R', right: 'L', top: 'A', bottom: 'P' })
  assert.deepEqual(await letters('coronal'), { left: 'R', right: 'L', top: 'S', bottom: 'I' })
  assert.deepEqual(await letters('sagittal'), { left: 'A', right: 'P', top: 'S', bottom: 'I' })
  // ch2 is stored RAS (NIfTI qform/sform): i → R, j → A, k → S
  assert.match((await page.textContent('.volume-info')) ?? '', /i→R j→A k→S/)
})

test('flipped (PSR) input: same patient letters, truly axial picture', async () => {
  await openEntry('flipped.nii.gz', /flipped\.nii\.gz/)
  assert.match((await page.textContent('.volume-info')) ?? '', /i→P j→S k→R/)
  assert.deepEqual(await letters('axial'), { left: 'R', right: 'L', top: 'A', bottom: 'P' })
  assert.deepEqual(await letters('sagittal'), { left: 'A', right: 'P', top: 'S', bottom: 'I' })
  const axial = await centreStats('axial')
  assert.ok(axial.sdGrey > 10, `axial view of the flipped input is blank: ${JSON.stringify(axial)}`)
  await setAlignment(true)
  // its voxel axes are patient axes, so acquisition alignment changes nothing
  assert.deepEqual(await letters('axial'), { left: 'R', right: 'L', top: 'A', bottom: 'P' })
  await setAlignment(false)
  await shot('02-flipped')
})

test('oblique input: letters follow the tilted voxel axes in acquisition mode', async () => {
  await openEntry('oblique.nii.gz', /oblique\.nii\.gz/)
  assert.deepEqual(await letters('axial'), { left: 'R', right: 'L', top: 'A', bottom: 'P' })
  await shot('03-oblique-patient')
  await setAlignment(true)
  // affine = Rz(15°)·Rx(20°)·crop (derive_nifti.py). In LPS: −i = (0.97, 0.26, 0) → "L" (0.26 is
  // under the 0.3 secondary-letter cut); −j = (−0.24, 0.91, −0.34) → "PI"; k = (−0.09, 0.33, 0.94)
  assert.deepEqual(await letters('axial'), { left: 'R', right: 'L', top: 'AS', bottom: 'PI' })
  assert.deepEqual(await letters('coronal'), { left: 'R', right: 'L', top: 'SP', bottom: 'IA' })
  await shot('04-oblique-acquisition')
  await setAlignment(false)
})

/**
 * Orientation markers (test/fixtures/derive_nifti.py MARKERS, painted through each file's own
 * affine): balls of radius 5 mm at 35 mm to the patient's left of the grid centre, 40 mm
 * anterior and 12 mm superior. Under the "CT bone" window (W 2000 / L 500, grey = (v + 500) ·
 * 255 / 2000) their values 1500, 1000 and 500 show as grey 255, 191 and 128; ch2 itself (0..254)
 * stays within 64..96, so a grey level says which marker a pixel belongs to.
 */
const MARKERS = [
  { name: 'left', value: 1500, grey: 255 },
  { name: 'anterior', value: 1000, grey: 191 },
  { name: 'superior', value: 500, grey: 128 },
] as const
type Marker = (typeof MARKERS)[number]['name']
type Side = 'left' | 'right' | 'top' | 'bottom'
type ViewName = 'axial' | 'coronal' | 'sagittal'

/**
 * Where each marker must be on the screen (radiological convention, see the module comment), and
 * the one marker the view's plane through the centre misses.
 */
const EXPECTED: Record<ViewName, { shown: Partial<Record<Marker, Side>>; absent: Marker }> = {
  axial: { shown: { left: 'right', anterior: 'top' }, absent: 'superior' },
  coronal: { shown: { left: 'right', superior: 'top' }, absent: 'anterior' },
  sagittal: { shown: { anterior: 'left', superior: 'top' }, absent: 'left' },
}

/** Hides the DOM drawn over a view (letters, title, scale bar, read-out) in its screenshot. */
const HIDE_OVERLAYS =
  '.letter, .view-title, .view-status, .scalebar, .readout { visibility: hidden !important; }'

/** The view as the screen shows it (composited, CSS included), decoded from a PNG screenshot. */
async function viewPixels(view: ViewName): Promise<Rgba> {
  return decodePng(await page.locator(`[data-view=${view}]`).screenshot({ style: HIDE_OVERLAYS }))
}

/**
 * For each marker, how many pixels of its grey lie on each side of the image centre (the view's
 * centre is the grid centre); a side is one of the four triangles between the diagonals.
 */
function markerSides(img: Rgba): Record<Marker, Record<Side, number>> {
  const out = {} as Record<Marker, Record<Side, number>>
  for (const m of MARKERS) out[m.name] = { left: 0, right: 0, top: 0, bottom: 0 }
  const d = img.data
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const q = 4 * (y * img.width + x)
      const r = d[q]!
      // markers are pure grey; crosshair lines are coloured
      if (Math.abs(r - d[q + 1]!) > 1 || Math.abs(r - d[q + 2]!) > 1) continue
      const m = MARKERS.find((k) => Math.abs(r - k.grey) <= 2)
      if (!m) continue
      const dx = x + 0.5 - img.width / 2
      const dy = y + 0.5 - img.height / 2
      const side: Side =
        Math.abs(dx) >= Math.abs(dy) ? (dx > 0 ? 'right' : 'left') : dy > 0 ? 'bottom' : 'top'
      out[m.name][side]++
    }
  }
  return out
}

/** The canvas's own pixels (getImageData), to check the screenshot decoding against. */
async function canvasPixels(view: ViewName): Promise<Rgba> {
  const { width, height, b64 } = await page.$eval(`[data-view=${view}] canvas`, (c) => {
    const canvas = c as unknown as Canvas2d
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
    let s = ''
    for (let n = 0; n < d.length; n++) s += String.fromCharCode(d[n]!)
    const btoa = (globalThis as unknown as { btoa(s: string): string }).btoa
    return { width: canvas.width, height: canvas.height, b64: btoa(s) }
  })
  return { width, height, data: new Uint8Array(Buffer.from(b64, 'base64')) }
}

const MARKER_FILES = [
  ['markers-ch2.nii.gz', 'ch2 as stored (RAS, sform code 4)'],
  ['markers-flipped.nii.gz', 'the crop stored PSR'],
  ['markers-oblique.nii.gz', 'the crop with an oblique affine'],
] as const

for (const [n, [file, what]] of MARKER_FILES.entries()) {
  test(`${file} (${what}): left, anterior and superior markers on the screen sides the convention says`, async () => {
    const listed = manifestEntry(file).markers as { list: { name: string; value: number }[] }
    assert.deepEqual(
      listed.list.map((m) => [m.name, m.value]),
      MARKERS.map((m) => [m.name, m.value]),
      'derive_nifti.py MARKERS changed: update MARKERS here',
    )
    await openEntry(file, new RegExp(file.replace(/\./g, '\\.')))
    await setAlignment(false)
    await page.click('button.preset[data-preset="CT bone"]')
    // the shown window (4 significant digits): W 2000 / L 500.0
    await page.waitForFunction(
      () =>
        /^W 2000 \/ L 500\.0$/.test(
          (globalThis as unknown as BrowserGlobals).document.querySelector('.wl')?.textContent ??
            '',
        ),
      null,
      { timeout: 10_000 },
    )
    await page.waitForTimeout(500)
    await shot(`04${'abc'[n]}-${file.replace('.nii.gz', '')}`)
    const problems: string[] = []
    for (const view of ['axial', 'coronal', 'sagittal'] as const) {
      const img = await viewPixels(view)
      const sides = markerSides(img)
      // The screenshot is the canvas scaled to its fractional CSS box (pixelated, so the greys
      // survive): the marker pixels must split the same way in the canvas's own pixels. This
      // checks the PNG decoding, and that no CSS transform changes the picture.
      const own = markerSides(await canvasPixels(view))
      for (const m of MARKERS) {
        for (const side of ['left', 'right', 'top', 'bottom'] as const) {
          const [a, b] = [sides[m.name][side], own[m.name][side]]
          if (Math.abs(a - b) > Math.max(20, 0.05 * b)) {
            problems.push(
              `${view}: ${m.name} marker, ${side}: ${a} px in the screenshot, ${b} on the canvas`,
            )
          }
        }
      }
      const { shown, absent } = EXPECTED[view]
      for (const [marker, side] of Object.entries(shown) as [Marker, Side][]) {
        const count = sides[marker]
        const total = count.left + count.right + count.top + count.bottom
        if (total < 50 || count[side] !== total) {
          problems.push(
            `${view}: patient-${marker} marker should be on the screen ${side}; its pixels by side: ${JSON.stringify(count)}`,
          )
        }
      }
      const stray = Object.values(sides[absent]).reduce((a, b) => a + b, 0)
      if (stray !== 0) problems.push(`${view}: ${stray} pixels of the ${absent} marker, off-plane`)
    }
    assert.deepEqual(problems, [], `${file}: the picture is not in radiological orientation`)
  })
}

test('runs a model: overlay appears where the brain is; save re-reads on the source grid', async () => {
  await openEntry('ch2.nii.gz', /ch2\.nii\.gz/)
  const models = await page.$$eval('select.model-select option', (os) =>
    os.map((o) => (o as unknown as { value: string }).value),
  )
  // the bundled model (models/brain-extract) and the VOLSEG_MODELS test packs are both offered
  assert.ok(models.includes('tiny-unet'), `test/tiny-model packs not offered: ${models.join(', ')}`)
  const model = 'brain-extract'
  assert.ok(
    models.includes(model),
    `the bundled brain-extract is not offered: ${models.join(', ')}`,
  )
  await page.selectOption('select.model-select', model)
  const before = await centreStats('axial')
  await page.click('button.run')
  await page.waitForSelector('.progress-box:not([hidden])', { timeout: 30_000 })
  await shot('05-progress')
  await page.waitForSelector('.label-row', { timeout: 300_000 })
  await page.waitForTimeout(1000)
  await shot('06-result')
  const afterRun = await centreStats('axial')
  assert.ok(
    afterRun.coloured > before.coloured + 0.05,
    `no overlay in the brain region: before ${JSON.stringify(before)}, after ${JSON.stringify(afterRun)}`,
  )
  // The bundled model: the brain at the centre of the axial view is labelled, the air in the
  // corner (outside the head) is not.
  assert.ok(afterRun.coloured > 0.9, `brain centre ${afterRun.coloured} coloured`)
  const corner = await cornerColoured('axial')
  assert.ok(corner < 0.01, `air in the corner is ${corner} coloured`)
  assert.match(
    (await page.textContent('.run-info')) ?? '',
    /Ran .+ on (cpu|cuda|webgpu|dml|coreml)/,
  )
  // outline mode and uncertainty render without errors
  await page.click('input.overlay-outline')
  if (await page.isEnabled('input.show-uncertainty')) {
    await page.click('input.show-uncertainty')
    // The heatmap explains itself: a colour bar, its range and what the values are.
    await page.waitForSelector('.heat-legend:not([hidden])', { timeout: 5_000 })
    const legend = (await page.textContent('.heat-legend')) ?? ''
    assert.match(legend, /normalised entropy|variance/, `legend "${legend}"`)
    assert.match(legend, /\d/, `legend "${legend}" shows its range`)
    // Hotspots show the figure they are ranked by, in descending order.
    await page.waitForSelector('button.hotspot', { timeout: 60_000 })
    const spots = await page.$$eval('button.hotspot', (bs) => bs.map((b) => b.textContent ?? ''))
    const figures = spots.map((t) => Number(/([\d.]+) uncertain mL/.exec(t)?.[1] ?? NaN))
    assert.ok(
      figures.every((f) => f > 0),
      `hotspot figures: ${spots.join(' | ')}`,
    )
    for (let n = 1; n < figures.length; n++) {
      assert.ok(figures[n]! <= figures[n - 1]!, spots.join(' | '))
    }
  }
  await page.waitForTimeout(500)
  await shot('07-outline-uncertainty')
  await page.click('input.overlay-outline')

  await page.click('button.save')
  await page.waitForFunction(
    () =>
      /Saved to|Not saved/.test(
        (globalThis as unknown as BrowserGlobals).document.querySelector('.saved')?.textContent ??
          '',
      ),
    null,
    {
      timeout: 120_000,
    },
  )
  const text = (await page.textContent('.saved')) ?? ''
  // "Saved to out/<file> — ...": the --out folder by name, then the file in it
  const m =
    /^Saved to out\/(\S+?), review in (\S+) — re-read: geometry (?:exact|≤ \S+ mm), ([\d,]+) voxels equal$/.exec(
      text,
    )
  const rel = m?.[1]
  assert.ok(rel, `no saved path in "${text}"`)
  // The reviewer's record sits beside the mask: every label the saved map holds, with a state.
  const review = JSON.parse(await readFile(join(dirs.out, m[2]!), 'utf8')) as {
    mask: string
    labelVoxels: { value: number }[]
    review: { labels: { value: number; state: string }[] }
  }
  assert.equal(review.mask, rel)
  assert.ok(review.labelVoxels.length > 0)
  for (const l of review.labelVoxels) {
    assert.ok(
      review.review.labels.some((r) => r.value === l.value),
      `label ${l.value} missing from the review`,
    )
  }
  const saved = await openVolume(join(dirs.out, rel))
  assert.equal(Number(m[3]!.replace(/,/g, '')), saved.volume.voxels.length, 'every voxel compared')
  const source = await openVolume(join(dirs.data, 'ch2.nii.gz'))
  const close = (a: readonly number[], b: readonly number[]): boolean =>
    a.every((x, n) => Math.abs(x - b[n]!) < 1e-4)
  assert.deepEqual(saved.volume.sizeIJK, source.volume.sizeIJK)
  assert.ok(close(saved.volume.spacingMm, source.volume.spacingMm), 'spacing differs')
  assert.ok(close(saved.volume.originLPS, source.volume.originLPS), 'origin differs')
  assert.ok(close(saved.volume.directionLPS, source.volume.directionLPS), 'direction differs')
  let labelled = 0
  for (let i = 0; i < saved.volume.voxels.length; i++) if (saved.volume.voxels[i] !== 0) labelled++
  assert.ok(labelled > 0, 'the saved mask is empty')
  // Saving the unchanged mask again writes no copy: it says where the saved one is.
  await page.click('button.save')
  await page.waitForSelector(`.notices :text("Already saved, no changes since: out/${rel}")`)
  assert.deepEqual(
    (await readdir(dirs.out)).filter((n) => n.endsWith('.nii.gz')),
    [rel],
    'a second save wrote a copy',
  )
})

test('cancels a run', async () => {
  await page.click('button.run')
  await page.waitForSelector('.progress-box:not([hidden])', { timeout: 30_000 })
  await page.keyboard.press('Escape')
  await page.waitForSelector('.progress-box[hidden]', { state: 'attached', timeout: 120_000 })
  const notices = (await page.textContent('.notices')) ?? ''
  assert.match(notices, /cancelled/i, `no cancellation notice: ${notices}`)
  await shot('08-cancelled')
})

test('a DICOM folder with two series asks which one', async () => {
  await page.click('.file-list button[data-name="two-series"]')
  await page.waitForSelector('.series-chooser:not([hidden])', { timeout: 120_000 })
  const choices = await page.$$('.series-chooser button.series')
  assert.equal(choices.length, 2)
  await shot('09-series-chooser')
  await choices[0]!.click()
  await page.waitForFunction(
    () => {
      const d = (globalThis as unknown as BrowserGlobals).document
      const info = d.querySelector('.volume-info')?.textContent ?? ''
      return !info.startsWith('ch2.nii.gz') && d.querySelector('.loading[hidden]') !== null
    },
    null,
    { timeout: 120_000 },
  )
  await page.waitForTimeout(500)
  await shot('10-dicom-series')
  assert.ok((await centreStats('axial', 0.2)).sdGrey > 5, 'the chosen series is not shown')
})

test('help overlay lists the shortcuts', async () => {
  await page.keyboard.press('?')
  await page.waitForSelector('.help:not([hidden])')
  assert.match((await page.textContent('.help')) ?? '', /window preset/)
  await shot('11-help')
  await page.keyboard.press('Escape')
})

test('drag and drop: a dropped NIfTI opens (openUpload); a DICOM file is refused in words', async () => {
  const bytes = await readFile(join(REPO, 'test', 'fixtures', 'derived', 'ch2-crop.nii.gz'))
  const dt = await dataTransfer(page, 'ch2-crop.nii.gz', bytes)
  await page.dispatchEvent('body', 'dragenter', { dataTransfer: dt })
  await page.dispatchEvent('body', 'dragover', { dataTransfer: dt })
  await page.waitForSelector('.drop-overlay:not([hidden])', { timeout: 10_000 })
  assert.match(
    (await page.textContent('.drop-overlay')) ?? '',
    /Drop a NIfTI \/ NRRD \/ MHA file to open/,
  )
  await shot('12-drop-overlay')
  await page.dispatchEvent('body', 'drop', { dataTransfer: dt })
  await page.waitForFunction(
    () => {
      const d = (globalThis as unknown as BrowserGlobals).document
      const info = d.querySelector('.volume-info')?.textContent ?? ''
      return info.startsWith('ch2-crop.nii.gz') && d.querySelector('.loading[hidden]') !== null
    },
    null,
    { timeout: 120_000 },
  )
  await page.waitForSelector('.drop-overlay[hidden]', { state: 'attached' })
  await page.waitForTimeout(500)
  await shot('13-dropped')
  assert.match((await page.textContent('.volume-info')) ?? '', /140×160×40 voxels/)
  const axial = await centreStats('axial', 0.2)
  assert.ok(axial.sdGrey > 5, `the dropped image is not drawn: ${JSON.stringify(axial)}`)

  const dcm = await dataTransfer(page, 'scan.dcm', new Uint8Array(256))
  await page.dispatchEvent('body', 'drop', { dataTransfer: dcm })
  await page.waitForFunction(
    () =>
      /scan\.dcm: single DICOM files can't be dropped; put the folder under --data/.test(
        (globalThis as unknown as BrowserGlobals).document.querySelector('.notices')?.textContent ??
          '',
      ),
    null,
    { timeout: 10_000 },
  )
  // Refused by the core (the reader's reason), still in words naming the file.
  const cut = await dataTransfer(page, 'cut.nii.gz', bytes.subarray(0, bytes.length >> 1))
  await page.dispatchEvent('body', 'drop', { dataTransfer: cut })
  await page.waitForFunction(
    () =>
      /cut\.nii\.gz: the gzip stream ends early.*\[E_TRUNCATED\]/.test(
        (globalThis as unknown as BrowserGlobals).document.querySelector('.notices')?.textContent ??
          '',
      ),
    null,
    { timeout: 60_000 },
  )
  await shot('14-drop-refused')
  assert.match((await page.textContent('.volume-info')) ?? '', /^ch2-crop\.nii\.gz/)
})

test('a CT with an MR model: the segmentation panel warns before and after the run; ch2 does not', async () => {
  const panelText = (): Promise<string> =>
    page.evaluate(
      () =>
        (globalThis as unknown as BrowserGlobals).document.querySelector('.segment-warnings')
          ?.textContent ?? '',
    )
  await openEntry('ct.nii.gz', /^ct\.nii\.gz/)
  await page.selectOption('select.model-select', 'threshold')
  await page.waitForTimeout(300)
  const before = await panelText()
  assert.match(
    before,
    /^model threshold expects MR, input looks like CT \(\d+ % of voxels ≤ −500, .*\): the result may be meaningless$/,
  )
  await shot('15-ct-warning-before')
  await page.click('button.run')
  await page.waitForSelector('.label-row', { timeout: 300_000 })
  await page.waitForFunction(
    () =>
      /Ran threshold/.test(
        (globalThis as unknown as BrowserGlobals).document.querySelector('.run-info')
          ?.textContent ?? '',
      ),
    null,
    { timeout: 60_000 },
  )
  await page.waitForTimeout(300)
  await shot('16-ct-warning-after')
  // After the run the panel shows the result's warnings (LabelsHeader.warnings), also as a notice.
  assert.equal(await panelText(), before)
  assert.match((await page.textContent('.notices')) ?? '', /input looks like CT/)
  await openEntry('ch2.nii.gz', /^ch2\.nii\.gz/)
  await page.waitForTimeout(300)
  assert.equal(await panelText(), '')
})

test('no request left the machine, no page errors', () => {
  assert.deepEqual(session.blocked, [])
  const pageErrors = session.errors.filter((e) => !/WebSocket connection to .*\/ws' failed/.test(e))
  assert.deepEqual(pageErrors, [])
})

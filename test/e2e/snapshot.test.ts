/**
 * The viewer's Snapshot end to end: Chromium against the real `volseg serve`, ch2 (the sample)
 * opened, the fast threshold test pack run, "Snapshot (PNG)" clicked. The core writes one PNG of
 * the four views and its sidecar into --out and the panel names the file; in Node the PNG is
 * decoded: its size is the view grid's at the page's pixel density, its pixels vary, the label's
 * colour (blended over the image) fills part of each slice view, the 3-D view shows the label's
 * surface (not a blank WebGL buffer), and the sidecar names the source's sha256, the model, the
 * review states and the four views. The PNG is copied to test/e2e/artifacts/snapshot-*.png.
 *
 * Run: node --import tsx --test test/e2e/snapshot.test.ts (needs `npm run build`).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { copyFileSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { SnapshotSidecar } from '../../src/shared/export.js'
import type { SnapshotView } from '../../src/shared/api.js'
import {
  ARTIFACTS,
  type Server,
  type Session,
  startViewer,
  type Viewer,
  openViewer,
} from './harness.js'
import { decodePng, type Rgba } from './png.js'

let viewer: Viewer | undefined
let server: Server
let session: Session
let out: string
let data: string

before(async () => {
  const v = await startViewer({ open: false })
  viewer = v
  ;({ server, session } = v)
  ;({ out, data } = v.dirs)
})

after(async () => {
  await viewer?.close()
})

/** The threshold pack's label colour (its card), blended over grey by the overlay. */
const LABEL_RGB = [255, 200, 0] as const

/**
 * Pixels of `v`'s box whose colour is the label's over a grey image: (g + (c − g)·a) per channel
 * leaves R − B = 255·a and G − B = 200·a, so (G − B)/(R − B) = 200/255 whatever the grey.
 */
function labelPixels(img: Rgba, v: SnapshotView): { label: number; distinct: number } {
  const want = (LABEL_RGB[1] - LABEL_RGB[2]) / (LABEL_RGB[0] - LABEL_RGB[2])
  let label = 0
  const colours = new Set<number>()
  for (let y = v.y; y < v.y + v.height; y++) {
    for (let x = v.x; x < v.x + v.width; x++) {
      const q = 4 * (y * img.width + x)
      const [r, g, b] = [img.data[q]!, img.data[q + 1]!, img.data[q + 2]!]
      colours.add((r << 16) | (g << 8) | b)
      if (r - b > 60 && Math.abs((g - b) / (r - b) - want) < 0.03) label++
    }
  }
  return { label, distinct: colours.size }
}

test('Snapshot after a model run saves one PNG of the four views with the label overlay, and its sidecar, into --out', async () => {
  const { page } = session
  await openViewer(page, server.url)
  await page.waitForSelector('.loading[hidden]', { state: 'attached', timeout: 120_000 })
  await page.selectOption('select.model-select', 'threshold')
  await page.click('button.run')
  await page.waitForSelector('.label-row', { timeout: 300_000 })
  // The 3-D surfaces are computed in a worker: wait until they are drawn.
  await page.waitForFunction(
    () => {
      const d = (
        globalThis as unknown as {
          document: { querySelector(s: string): { textContent: string | null } | null }
        }
      ).document
      return (d.querySelector('[data-view="3d"] .view-status')?.textContent ?? 'x') === ''
    },
    null,
    { timeout: 300_000 },
  )
  await page.waitForTimeout(500)
  await page.screenshot({ path: join(ARTIFACTS, 'snapshot-01-page.png') })
  const dpr = await page.evaluate(
    () => (globalThis as unknown as { devicePixelRatio: number }).devicePixelRatio,
  )
  const grid = (await page.locator('main.views').boundingBox())!
  await page.click('button.snapshot')
  await page.waitForSelector('.snapshot-result .snapshot-file', { timeout: 120_000 })
  const said = (await page.textContent('.snapshot-result .snapshot-file')) ?? ''
  const pngName = readdirSync(out).find((f) => f.endsWith('.png'))
  assert.ok(pngName, `files in --out: ${readdirSync(out).join(', ')}`)
  assert.match(pngName, /^ch2-snapshot-\d{8}T\d{6}\.png$/)
  // The panel says where it went: the out folder by name, the file and its sidecar.
  assert.ok(said.includes(`out/${pngName}`), `panel says: ${said}`)
  assert.ok(said.includes(pngName.replace(/\.png$/, '.snapshot.json')), said)
  const bytes = readFileSync(join(out, pngName))
  copyFileSync(join(out, pngName), join(ARTIFACTS, 'snapshot-02-saved.png'))
  const img = decodePng(bytes)
  assert.equal(img.width, Math.round(grid.width * dpr))
  assert.equal(img.height, Math.round(grid.height * dpr))
  const side = JSON.parse(
    readFileSync(join(out, pngName.replace(/\.png$/, '.snapshot.json')), 'utf8'),
  ) as SnapshotSidecar
  assert.equal(side.format, 'volseg-snapshot')
  assert.deepEqual(
    side.views.map((v) => v.view),
    ['axial', 'coronal', 'sagittal', '3d'],
  )
  assert.deepEqual(
    [side.image.file, side.image.width, side.image.height, side.image.bytes],
    [pngName, img.width, img.height, bytes.length],
  )
  assert.equal(side.image.sha256, createHash('sha256').update(bytes).digest('hex'))
  const ch2 = readFileSync(join(data, 'ch2.nii.gz'))
  assert.deepEqual(side.source.files, [
    {
      name: 'ch2.nii.gz',
      sha256: createHash('sha256').update(ch2).digest('hex'),
      bytes: ch2.length,
    },
  ])
  assert.equal(side.labelsShown, true)
  assert.equal(side.model?.id, 'threshold')
  assert.deepEqual(
    side.review?.labels.map((l) => [l.value, l.name, l.status]),
    [[1, 'above-mean', 'pending']],
  )
  assert.match(side.views[0]!.title, /^Axial/)
  // The pixels: each view's box varies and holds the label's colour (slice overlay, 3-D surface).
  for (const v of side.views) {
    const { label, distinct } = labelPixels(img, v)
    const share = label / (v.width * v.height)
    console.log(
      `${v.view}: ${v.width}×${v.height} at ${v.x},${v.y}: ${distinct} colours, label colour ${(100 * share).toFixed(1)} %`,
    )
    assert.ok(distinct > 200, `${v.view}: only ${distinct} colours`)
    assert.ok(share > 0.02, `${v.view}: label colour in ${(100 * share).toFixed(2)} % of the view`)
  }
})

/**
 * The viewer's Export panel end to end: Chromium against the real `volseg serve`, a DICOM series
 * opened (the two-series folder's first), the fast threshold test pack run, Export clicked. The
 * core writes the NIfTI, SEG, STL and statistics into --out (listed in the panel), and the SEG
 * reassembles exactly (pydicom, by plane position) to the exported NIfTI.
 *
 * Run: node --import tsx --test test/e2e/export.test.ts (needs `npm run build` for dist/).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { DERIVED } from '../helpers.js'
import type { ExportProvenance } from '../../src/shared/export.js'
import { openVolume } from '../../src/io/open-volume.js'
import {
  ARTIFACTS,
  REPO,
  openAndWait,
  type Server,
  type Session,
  startViewer,
  type Viewer,
  openViewer,
} from './harness.js'

let viewer: Viewer | undefined
let server: Server
let session: Session
let out: string

before(async () => {
  const v = await startViewer({ open: false })
  viewer = v
  ;({ server, session } = v)
  out = v.dirs.out
})

after(async () => {
  await viewer?.close()
})

test('Export after a model run on a DICOM series writes NIfTI, SEG, STL and stats into --out; the SEG is voxel-exact', async () => {
  const { page } = session
  await openViewer(page, server.url)
  await page.click('.file-list button[data-name="two-series"]')
  await page.waitForSelector('.series-chooser:not([hidden])', { timeout: 120_000 })
  await (await page.$$('.series-chooser button.series'))[0]!.click()
  await page.waitForSelector('.loading[hidden]', { state: 'attached', timeout: 120_000 })
  await page.waitForFunction(
    () =>
      !(
        (
          globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string | null } | null }
          }
        ).document.querySelector('.volume-info')?.textContent ?? ''
      ).startsWith('ch2.nii.gz'),
    null,
    { timeout: 120_000 },
  )
  // The SEG box is offered for a DICOM source.
  assert.equal(await page.isEnabled('input.export-seg'), true)
  await page.selectOption('select.model-select', 'threshold')
  await page.click('button.run')
  await page.waitForSelector('.label-row', { timeout: 300_000 })
  await page.click('button.export')
  await page.waitForSelector('.export-result .export-file', { timeout: 300_000 })
  const listed = await page.$$eval('.export-result .export-file', (es) =>
    es.map((e) => e.textContent ?? ''),
  )
  const files = readdirSync(out)
  const seg = files.find((f) => f.endsWith('.seg.dcm'))
  const nifti = files.find((f) => /-export-.*\.nii\.gz$/.test(f))
  assert.ok(seg && nifti, `files: ${files.join(', ')}`)
  assert.ok(files.some((f) => f.endsWith('.stl')))
  assert.ok(files.some((f) => f.endsWith('.stats.csv')))
  assert.ok(files.some((f) => f.endsWith('.export.json')))
  assert.ok(
    listed.some((t) => t.includes(seg)),
    `panel lists: ${listed.join(' | ')}`,
  )
  // Which DICOM folder holds the chosen series: the oracle sorts by position itself; give it the
  // series' own files (the two-series folder mixes two series).
  const r = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `import glob, json, os, subprocess, sys, tempfile, shutil, pydicom
seg = pydicom.dcmread(sys.argv[1])
uid = seg.ReferencedSeriesSequence[0].SeriesInstanceUID
d = tempfile.mkdtemp()
for f in glob.glob(sys.argv[2] + '/*'):
    if pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID == uid:
        shutil.copy(f, d)
labels = ','.join(str(i + 1) for i in range(len(seg.SegmentSequence)))
print(subprocess.run([sys.executable, sys.argv[3], sys.argv[1], d, sys.argv[4], labels], capture_output=True, text=True, check=True).stdout)`,
      join(out, seg),
      join(DERIVED, 'dicom', 'two-series'),
      join(REPO, 'test', 'oracle', 'seg_reassemble.py'),
      join(out, nifti),
    ],
    { encoding: 'utf8' },
  )
  assert.equal(r.status, 0, r.stderr)
  const o = JSON.parse(r.stdout) as {
    mismatch: number
    badReferences: number
    segmentVoxels: number
  }
  assert.equal(o.mismatch, 0)
  assert.equal(o.badReferences, 0)
  assert.ok(o.segmentVoxels > 0)
  // The model's result exported as it came: the delta says nothing changed.
  const side = JSON.parse(
    readFileSync(join(out, nifti.replace(/\.nii\.gz$/, '.export.json')), 'utf8'),
  ) as ExportProvenance
  assert.deepEqual(
    side.aiDelta?.labels.map((c) => [c.value, c.added, c.removed, c.dice]),
    [[1, 0, 0, 1]],
  )
})

test('Export after an edit in the viewer records the AI-vs-final delta the edit made', async () => {
  const { page } = session
  // ch2 (181 slices: the initial crosshair lies on a voxel plane, where the brush paints; on the
  // DICOM crop's 40 it lies between two, see the report of this change).
  await openAndWait(page, 'ch2.nii.gz', () =>
    page.click('.file-list button[data-name="ch2.nii.gz"]'),
  )
  await page.selectOption('select.model-select', 'threshold')
  await page.click('button.run')
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as {
          document: { querySelector(s: string): { textContent: string | null } | null }
        }
      ).document
        .querySelector('.segment-panel')
        ?.textContent?.includes('Ran threshold') ?? false,
    null,
    { timeout: 300_000 },
  )
  // NIfTI only (SEG is offered for DICOM sources only).
  for (const f of ['stl', 'stats']) await page.uncheck(`input.export-${f}`)
  const exportNifti = async (): Promise<string> => {
    const before = new Set(readdirSync(out))
    await page.click('button.export')
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string | null } | null }
          }
        ).document.querySelector('.export-result')?.textContent !== 'Exporting…',
      null,
      { timeout: 300_000 },
    )
    const made = readdirSync(out).find((f) => !before.has(f) && f.endsWith('.nii.gz'))
    assert.ok(made, `a new NIfTI in ${readdirSync(out).join(', ')}`)
    return made
  }
  // The model's result as it came (no change), then edited.
  const firstNifti = await exportNifti()
  // Erase in the middle of the axial view, paint near its corner (B, E: brush and eraser).
  const box = (await page.locator('[data-view=axial]').boundingBox())!
  const stroke = async (x0: number, y0: number): Promise<void> => {
    await page.mouse.move(box.x + x0, box.y + y0)
    await page.mouse.down()
    for (let d = 0; d <= 60; d += 6) await page.mouse.move(box.x + x0 + d, box.y + y0)
    await page.mouse.up()
  }
  await page.keyboard.press('e')
  await stroke(box.width / 2 - 30, box.height / 2)
  await page.keyboard.press('b')
  await stroke(box.width * 0.12, box.height * 0.12)
  await page.keyboard.press('Escape')
  await page.screenshot({ path: join(ARTIFACTS, 'export-01-edited.png') })
  const nifti = await exportNifti()
  const delta = (await page.textContent('.export-result .export-delta')) ?? ''
  const side = JSON.parse(
    readFileSync(join(out, nifti.replace(/\.nii\.gz$/, '.export.json')), 'utf8'),
  ) as ExportProvenance
  // What the edit changed, counted in Node on the two exported files (model's, then edited).
  const ai = (await openVolume(join(out, firstNifti))).volume.voxels
  const fin = (await openVolume(join(out, nifti))).volume.voxels
  let added = 0
  let removed = 0
  let both = 0
  let a = 0
  let f = 0
  for (let q = 0; q < ai.length; q++) {
    const x = ai[q] === 1
    const y = fin[q] === 1
    if (x) a++
    if (y) f++
    if (x && y) both++
    else if (y) added++
    else if (x) removed++
  }
  assert.ok(added > 0 && removed > 0, `added ${added}, removed ${removed}`)
  const [c] = side.aiDelta?.labels ?? []
  assert.deepEqual(
    [c?.value, c?.added, c?.removed, c?.aiVoxels, c?.finalVoxels],
    [1, added, removed, a, f],
  )
  assert.ok(Math.abs(c!.dice - (2 * both) / (a + f)) < 1e-12)
  assert.equal(side.humanEdited, true)
  assert.match(delta, new RegExp(`label 1 \\+${added} −${removed} voxels, Dice 0\\.\\d{4}`))
})

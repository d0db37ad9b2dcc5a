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
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { DERIVED } from '../helpers.js'
import {
  REPO,
  buildRenderer,
  launch,
  makeDataDir,
  startServer,
  type Server,
  type Session,
} from './harness.js'

let server: Server
let session: Session
let out: string

before(async () => {
  await buildRenderer()
  const dirs = await makeDataDir()
  out = dirs.out
  server = await startServer(dirs.data, dirs.out)
  session = await launch()
})

after(async () => {
  await session?.browser.close()
  await server?.stop()
})

test('Export after a model run on a DICOM series writes NIfTI, SEG, STL and stats into --out; the SEG is voxel-exact', async () => {
  const { page } = session
  await page.goto(server.url)
  await page.waitForSelector('body[data-ready=true]', { state: 'attached', timeout: 120_000 })
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
})

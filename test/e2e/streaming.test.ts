/**
 * A volume bigger than one slab streams into the viewer (issue 14, speed at CT size): the views
 * draw after the slab holding the middle slice (answered by the core while it still decodes the
 * file), the header counts the slices read, and every
 * slab lands in its place — the read-out at voxel (i, j, k) shows the value written there.
 *
 * Run: node --import tsx --test test/e2e/streaming.test.ts (needs `npm run build` for dist/).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { ARTIFACTS, type Session, startViewer, type Viewer } from './harness.js'

let viewer: Viewer | undefined
let session: Session
let page: Page

// 256×256×160 int16 = 20 MiB: three slabs of 8 MiB (k 64–127 first, then 128–159, then 0–63).
const SIZE = [256, 256, 160] as const
/** The value nibabel writes at voxel (i, j, k): a wrong slab offset or stride shows at once. */
const valueAt = (i: number, _j: number, k: number): number => 10 * k + Math.floor(i / 64)

interface PageGlobals {
  readonly document: {
    querySelector(s: string): { textContent: string | null } | null
  }
  readonly MutationObserver: new (cb: () => void) => {
    observe(n: unknown, o: { childList: boolean; subtree: boolean; characterData: boolean }): void
  }
  seen?: string[]
}

before(async () => {
  const v = await startViewer({
    prepare: (dirs) => {
      execFileSync('/usr/bin/python3', [
        '-c',
        `import nibabel as nib, numpy as np, sys
i, j, k = np.meshgrid(*(np.arange(n) for n in (${SIZE.join(', ')})), indexing='ij')
a = (10 * k + i // 64).astype(np.int16)
nib.save(nib.Nifti1Image(a, np.eye(4)), sys.argv[1])`,
        join(dirs.data, 'ramp.nii.gz'),
      ])
    },
  })
  viewer = v
  ;({ session, page } = v)
})

after(async () => {
  await viewer?.close()
})

test('a 20 MiB volume streams in slabs: progress in the header, every voxel in its place', async () => {
  // Record every header text from the click on (the progress may pass quickly).
  await page.evaluate(() => {
    const g = globalThis as unknown as PageGlobals
    const seen: string[] = (g.seen = [])
    const info = g.document.querySelector('.volume-info')!
    new g.MutationObserver(() => seen.push(info.textContent ?? '')).observe(info, {
      childList: true,
      subtree: true,
      characterData: true,
    })
  })
  await page.click('.file-list button[data-name="ramp.nii.gz"]')
  await page.waitForFunction(
    () => {
      const t = (globalThis as unknown as PageGlobals).document.querySelector('.volume-info')
      return /ramp\.nii\.gz/.test(t?.textContent ?? '') && !/reading/.test(t?.textContent ?? '')
    },
    null,
    { timeout: 120_000 },
  )
  const seen = await page.evaluate(() => (globalThis as unknown as PageGlobals).seen ?? [])
  const progress = seen.filter((t) => /reading slices \d+ %/.test(t))
  assert.ok(progress.length >= 1, `the header counted the slices: ${JSON.stringify(seen)}`)
  // The core answers this volume while still reading it (it is over EARLY_OPEN_MIN_BYTES): the
  // middle slab (64 of 160 slices) comes first, asked for with k 0–63; the views draw before
  // the last slab (k 128–159) is in, so the first count is 40 % or 80 %.
  assert.match(progress[0]!, /reading slices (40|80) %/)
  await page.waitForTimeout(300)
  // The coronal view shows every k: hover it top to bottom and read voxel and value.
  const view = await page.locator('.slice-view[data-view="coronal"]').boundingBox()
  assert.ok(view)
  const ks = new Set<number>()
  for (const fy of [0.2, 0.35, 0.5, 0.65, 0.8]) {
    for (const fx of [0.3, 0.5, 0.7]) {
      await page.mouse.move(view.x + view.width * fx, view.y + view.height * fy)
      await page.waitForTimeout(50)
      const text = (await page.textContent('.slice-view[data-view="coronal"] .readout')) ?? ''
      const m = /voxel \((\d+), (\d+), (\d+)\) · value (-?\d+)/.exec(text)
      if (!m) continue // outside the volume (letterbox)
      const [i, j, k, v] = m.slice(1).map(Number) as [number, number, number, number]
      assert.equal(v, valueAt(i, j, k), `value at voxel (${i}, ${j}, ${k}): "${text}"`)
      ks.add(Math.floor(k / 64))
    }
  }
  assert.deepEqual([...ks].sort(), [0, 1, 2], 'voxels of all three slabs were read out')
  await page
    .locator('.slice-view[data-view="coronal"]')
    .screenshot({ path: join(ARTIFACTS, 'streaming-01-coronal.png') })
  assert.deepEqual(session.errors, [], 'no page errors')
})

/**
 * Viewer benchmark: the built review viewer in headless Chromium (SwiftShader, as the e2e tests)
 * against the real `volseg serve`, on a synthetic 512×512×300 int16 CT-like volume
 * (make-volume.py, cached in $TMPDIR/volseg-bench like bench:io) with a 10-label organ-like mask
 * (test/bench/viewer/masks.ts: three large, five medium, two small ellipsoids), and on ch2's grid
 * with a noisy 2-label mask like an untrained model's (tens of thousands of islands per label).
 * Labels go in through the `uploadLabels` API and the viewer's store, via `window.volsegBench`,
 * which the page only has when opened with `?bench`.
 *
 * Printed (medians and p95 where repeated; no assertions, targets are only reported):
 *  - time to first image: file-list click → slices drawn, split at openSource's answer; against
 *    the core's own openVolume() of the same file in this process; measured in a Chromium page
 *    driven without the Network domain (viewer/raw-cdp.ts: Playwright's copies every WebSocket
 *    frame), with the Playwright figure beside it;
 *  - slice scrolling with the label overlay shown: per wheel step, the work of the frame that
 *    redraws the views (p50/p95), and the frame-to-frame interval; against a frame that only
 *    puts ready images of the same canvas sizes (putImageData); plus each view's draw alone;
 *  - 3D surfaces of every label: worker time per label and in all (target ≤ 3 s for the organ
 *    mask), and labels in → surfaces shown; the noisy mask likewise;
 *  - the surface pipeline in Node, step by step (bounding boxes, sub-image, marching cubes,
 *    smoothing), against vtk.js's filters on the same sub-images (what the worker used before;
 *    also checked to give the same meshes) and a naive marching-cubes pass over the whole grid
 *    per label.
 *
 * Usage: npm run bench:viewer [-- --quick] [-- --no-vtk]
 *   --quick   1 open instead of 3, 40 scroll steps instead of 100
 *   --no-vtk  skip the vtk.js comparison in Node (~10–20 s on a small machine)
 */
import { execFileSync } from 'node:child_process'
import { copyFile, link, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { openVolume } from '../../src/io/open-volume.js'
import {
  CHROMIUM_ARGS,
  REPO,
  buildRenderer,
  launch,
  startServer,
  type Server,
  type Session,
} from '../e2e/harness.js'
import { noisyMask, organMask, type Mask } from './viewer/masks.js'
import { peakRssMiB } from './viewer/peak-memory.js'
import { launchRawPage } from './viewer/raw-cdp.js'
import {
  compareWithVtk,
  naiveFullGrid,
  runPipeline,
  type PipelineTiming,
} from './viewer/node-surfaces.js'
import {
  NAME_SHIM,
  canvasSizes,
  drawEachView,
  installProbes,
  openTimed,
  putImageDataTimed,
  readVoxelsTimed,
  scrollTimed,
  showLabels,
  surfacesDone,
  type OpenTiming,
  type ScrollTiming,
  type SurfacesTiming,
  type WorkerEvent,
} from './viewer/page.js'

const CACHE = join(tmpdir(), 'volseg-bench')
const SYNTH_NII = join(CACHE, 'synth-512x512x300-int16.nii.gz')
const SYNTH = 'synth-512x512x300.nii.gz'
const NOISY = 'ch2-noisy.nii.gz'
const SURFACE_TARGET_MS = 3000
const SURFACE_TIMEOUT_MS = 300_000

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

const f1 = (x: number): string => x.toFixed(1)
const f0 = (x: number): string => x.toFixed(0)

/** A Python with nibabel: the system one first (as bench:io), then whatever `python3` is. */
function python(): string {
  for (const p of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(p, ['-c', 'import nibabel'], { stdio: 'ignore' })
      return p
    } catch {
      // next
    }
  }
  throw new Error('no python3 with nibabel to write the synthetic volume (pip install nibabel)')
}

/** The synthetic volume of bench:io, made once and cached. */
function ensureSynthetic(): void {
  mkdirSync(CACHE, { recursive: true })
  if (existsSync(SYNTH_NII)) return
  console.log(`making ${SYNTH_NII} (nibabel) ...`)
  const part = `${SYNTH_NII}.part.nii.gz`
  execFileSync(python(), [join(REPO, 'test', 'bench', 'make-volume.py'), part], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  renameSync(part, SYNTH_NII)
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to)
  } catch {
    await copyFile(from, to)
  }
}

interface SurfaceResult {
  readonly perLabel: readonly {
    value: number
    ms: number
    points: number
    triangles: number
  }[]
  readonly workerMs: number
  readonly shownMs: number
  readonly uploadMs: number
  readonly finished: boolean
}

function surfaceResult(s: SurfacesTiming, uploadMs: number): SurfaceResult {
  const got = (e: WorkerEvent): boolean => e.kind === 'surface'
  const done = s.events.find((e) => e.kind === 'done')
  return {
    perLabel: s.events.filter(got).map((e) => ({
      value: e.label ?? -1,
      ms: e.ms ?? NaN,
      points: e.points ?? 0,
      triangles: e.triangles ?? 0,
    })),
    workerMs: done?.ms ?? NaN,
    shownMs: s.shownMs,
    uploadMs,
    finished: done !== undefined,
  }
}

function printSurfaces(title: string, r: SurfaceResult, mask: Mask, target: boolean): void {
  console.log(`\n== ${title} ==`)
  if (!r.finished) console.log(`  NOT FINISHED within ${SURFACE_TIMEOUT_MS / 1000} s`)
  for (const l of r.perLabel) {
    console.log(
      `  label ${String(l.value).padStart(2)} ${(mask.names[l.value] ?? '').padEnd(13)}` +
        `${f0(l.ms).padStart(6)} ms  ${String(l.points).padStart(8)} points ` +
        `${String(l.triangles).padStart(8)} triangles`,
    )
  }
  const sum = r.perLabel.reduce((a, l) => a + l.ms, 0)
  console.log(
    `  worker total       ${f0(r.workerMs).padStart(6)} ms  (labels ${f0(sum)} ms + bounding boxes ` +
      `and the rest ${f0(r.workerMs - sum)} ms)` +
      (target
        ? `  target ≤ ${SURFACE_TARGET_MS} ms: ${r.workerMs <= SURFACE_TARGET_MS ? 'PASS' : 'OVER TARGET'}`
        : ''),
  )
  console.log(
    `  labels in store → surfaces shown ${f0(r.shownMs)} ms (copy to the worker, main-thread ` +
      `vtk.js actors and render included); uploadLabels ${f0(r.uploadMs)} ms before that`,
  )
}

function printPipeline(title: string, p: PipelineTiming): void {
  console.log(`  ${title}: total ${f0(p.totalMs)} ms (bounding boxes ${f0(p.boxesMs)} ms)`)
  for (const l of p.labels) {
    console.log(
      `    label ${String(l.value).padStart(2)} box ${l.box.padEnd(12)} stride ${l.stride} ` +
        `sub-image ${f0(l.binMs).padStart(4)}  marching cubes ${f0(l.mcMs).padStart(5)}  ` +
        `smoothing ${f0(l.smoothMs).padStart(5)} ms  ${l.triangles} triangles`,
    )
  }
}

/**
 * In the page: `n` brush dabs (8 mm disc on the axial plane, around the crosshair) each timed
 * with the redraw of the three slice views (paint + redraw = the work of one dab); then a 3-D
 * island removal and the timing of its undo. Self-contained (serialised into the page).
 */
function editTimed(n: number): {
  dabMs: number[]
  dabFullMs: number[]
  islandMs: number
  undoIslandMs: number
  islandVoxels: number
} {
  type V3 = [number, number, number]
  const b = (
    globalThis as unknown as {
      volsegBench: {
        store: { state: { crosshairLPS: V3 } }
        views: Map<string, { render(s: unknown, force: boolean): void }>
        editor: {
          setTool(t: string): void
          setOptions(p: Record<string, unknown>): void
          beginStroke(): void
          endStroke(): void
          dab(c: V3, n: V3): number
          removeIslands(mm3: number): number
          undo(): boolean
        }
      }
    }
  ).volsegBench
  const ed = b.editor
  ed.setTool('brush')
  ed.setOptions({ radiusMm: 8, sphere: false, threshold: false })
  const c = b.store.state.crosshairLPS
  const dabMs: number[] = []
  const dabFullMs: number[] = []
  // As the app draws (each view redraws the pixels of the dab's box, if its plane crosses it),
  // then with every view redrawn in full (what a dab cost before partial redraws).
  // (the second row of dabs 20 mm further, so that it paints voxels too)
  for (const [out, force, dy] of [
    [dabMs, false, 0],
    [dabFullMs, true, 20],
  ] as const) {
    ed.beginStroke()
    for (let x = 0; x < n; x++) {
      const t0 = performance.now()
      ed.dab([c[0] + (x % 20) * 2 - 20, c[1] + dy, c[2]], [0, 0, 1])
      for (const v of b.views.values()) v.render(b.store.state, force)
      out.push(performance.now() - t0)
    }
    ed.endStroke()
  }
  ed.setTool('none')
  // Worst case: every component is under the bound, so the whole labelling goes (the largest
  // delta an island removal makes); its undo restores it.
  const t1 = performance.now()
  const islandVoxels = ed.removeIslands(1e12)
  const t2 = performance.now()
  ed.undo()
  const t3 = performance.now()
  ed.undo()
  return { dabMs, dabFullMs, islandMs: t2 - t1, undoIslandMs: t3 - t2, islandVoxels }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'no-vtk': { type: 'boolean', default: false },
    },
  })
  const quick = values.quick === true
  const opens = quick ? 1 : 3
  const steps = quick ? 40 : 100

  const began = performance.now()
  // Progress on stderr: the report itself comes at the end, after minutes.
  const step = (what: string): void => {
    console.error(
      `bench:viewer ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s: ${what}…`,
    )
  }
  ensureSynthetic()
  await buildRenderer()
  const root = await mkdtemp(join(tmpdir(), 'volseg-bench-viewer-'))
  const data = join(root, 'data')
  const out = join(root, 'out')
  await mkdir(data)
  await mkdir(out)
  await linkOrCopy(SYNTH_NII, join(data, SYNTH))
  await copyFile(join(REPO, 'test', 'fixtures', 'ch2.nii.gz'), join(data, NOISY))

  // the core's own read of the same file: the floor for the viewer's time to first image
  const coreMs: number[] = []
  for (let n = 0; n < opens; n++) {
    const t0 = performance.now()
    await openVolume(join(data, SYNTH))
    coreMs.push(performance.now() - t0)
  }

  let server: Server | undefined
  let session: Session | undefined
  try {
    server = await startServer(data, out)
    const serverPid = server.process.pid
    const benchUrl = new URL(server.url)
    benchUrl.search = '?bench'

    // 1. time to first image, in a page without Playwright's network instrumentation (raw-cdp.ts)
    step('time to first image')
    const raw = await launchRawPage(benchUrl.href, CHROMIUM_ARGS)
    const openRuns: OpenTiming[] = []
    const readMs: number[] = []
    let backToBack: OpenTiming | undefined
    try {
      await raw.waitFor(
        `document.body?.dataset.ready === 'true' && document.querySelector('.file-list button[data-name="${SYNTH}"]')`,
        120_000,
      )
      await raw.evaluate(NAME_SHIM)
      for (let n = 0; n < opens; n++) {
        // Each open starts from an idle server, as a user's next click does: the previous
        // reader has finished and exited and the next spare worker has started.
        if (n > 0) await sleep(2500)
        openRuns.push(await raw.evaluate(openTimed, SYNTH))
      }
      // And once at once after the last (a worklist stepping on): the spare is started when the
      // previous reader has decoded its last voxel, not only once it has exited.
      backToBack = await raw.evaluate(openTimed, SYNTH)
      for (let n = 0; n < opens; n++) readMs.push(await raw.evaluate(readVoxelsTimed))
    } finally {
      await raw.close()
    }

    session = await launch()
    const page = session.page
    // Opening the noisy case over unsaved edits asks first (issue 14's guard): go on.
    page.on('dialog', (d) => void d.accept())
    await page.goto(benchUrl.href)
    await page.waitForSelector('body[data-ready=true]', { state: 'attached', timeout: 120_000 })
    await page.waitForSelector(`.file-list button[data-name="${SYNTH}"]`, { timeout: 120_000 })
    await page.evaluate(NAME_SHIM)
    await page.evaluate(installProbes)
    const browserVersion = session.browser.version()
    // The same open under Playwright (its network domain copies every frame): for comparison.
    const instrumented = await page.evaluate(openTimed, SYNTH)
    await page.waitForTimeout(500)
    const sizes = await page.evaluate(canvasSizes)

    // 2. organ labels: surfaces (3D view) then scrolling with the overlay
    step('organ labels: surfaces')
    const organs = organMask()
    const organHandle = await page.evaluateHandle(organMask)
    await page.evaluate((m) => {
      ;(globalThis as unknown as { vbMask: unknown }).vbMask = m
    }, organHandle)
    await organHandle.dispose()
    const shown = await page.evaluate(showLabels)
    const organSurfaces = surfaceResult(
      await page.evaluate(surfacesDone, { since: shown.setAt, timeoutMs: SURFACE_TIMEOUT_MS }),
      shown.uploadMs,
    )
    await page.waitForTimeout(300)
    step('scrolling')
    const scroll: ScrollTiming = await page.evaluate(scrollTimed, steps)
    const bare: ScrollTiming = await page.evaluate(putImageDataTimed, steps)
    const eachView = await page.evaluate(drawEachView, 20)
    step('editing')
    const edits = await page.evaluate(editTimed, 40)

    // 3. noisy labels on ch2's grid
    step('noisy labels on ch2')
    await page.evaluate(openTimed, NOISY)
    const noisy = noisyMask()
    const noisyHandle = await page.evaluateHandle(noisyMask)
    await page.evaluate((m) => {
      ;(globalThis as unknown as { vbMask: unknown }).vbMask = m
    }, noisyHandle)
    await noisyHandle.dispose()
    const shownNoisy = await page.evaluate(showLabels)
    const noisySurfaces = surfaceResult(
      await page.evaluate(surfacesDone, { since: shownNoisy.setAt, timeoutMs: SURFACE_TIMEOUT_MS }),
      shownNoisy.uploadMs,
    )
    const pageErrors = session.errors.filter(
      (e) => !/WebSocket connection to .*\/ws' failed/.test(e),
    )
    // Peaks over the run so far, read while the processes live (VmHWM): the server with its job workers; Chromium's renderers.
    const memory = {
      serverMiB: serverPid ? peakRssMiB(serverPid, () => true) : null,
      rendererMiB: peakRssMiB(process.pid, (c) => c.includes('--type=renderer')),
    }
    await session.browser.close()
    session = undefined
    await server.stop()
    server = undefined

    // 4. Node: the pipeline step by step, vtk.js, naive full grid
    step('surface pipeline in Node')
    const ours = runPipeline(organs.labels, organs.size, 'ours')
    const oursNoisy = runPipeline(noisy.labels, noisy.size, 'ours')
    const vtk = values['no-vtk'] ? undefined : runPipeline(organs.labels, organs.size, 'vtk')
    const same = values['no-vtk']
      ? undefined
      : compareWithVtk(organs.labels, organs.size, [1, 7, 10])
    const organValues = ours.labels.map((l) => l.value)
    const naive = naiveFullGrid(organs.labels, organs.size, organValues)

    // ---- report
    console.log(
      `bench:viewer · ${SYNTH} (512×512×300 int16) · Chromium ${browserVersion} (SwiftShader) · ` +
        `node ${process.version} · ${quick ? 'quick' : 'full'} · slice canvases ${sizes.join(', ')}`,
    )
    console.log(
      '\n== time to first image (file-list click → slices drawn; a page without network instrumentation) ==',
    )
    const first = openRuns.map((r) => r.firstImageMs)
    console.log(
      `  first image        ${f0(median(first)).padStart(6)} ms   (runs: ${first.map(f0).join(', ')})`,
    )
    console.log(
      `    openSource       ${f0(median(openRuns.map((r) => r.openMs))).padStart(6)} ms   ` +
        `readVoxels + transfer + first draw ${f0(median(openRuns.map((r) => r.firstImageMs - r.openMs)))} ms`,
    )
    console.log(
      `    (readVoxels alone, again: ${f0(median(readMs))} ms: the transfer of ` +
        `${f0((512 * 512 * 300 * 2) / 2 ** 20)} MiB over the socket)`,
    )
    console.log(
      `  next frame         ${f0(median(openRuns.map((r) => r.nextFrameMs))).padStart(6)} ms`,
    )
    if (backToBack) {
      console.log(
        `  opened again at once: first image ${f0(backToBack.firstImageMs)} ms, openSource ${f0(backToBack.openMs)} ms`,
      )
    }
    const loaded = openRuns.map((r) => r.fullyLoadedMs)
    console.log(
      `  fully loaded       ${f0(median(loaded)).padStart(6)} ms   (runs: ${loaded.map(f0).join(', ')}; the last slab in)`,
    )
    console.log(
      `  (the same open under Playwright, whose network domain copies every WebSocket frame: ` +
        `first image ${f0(instrumented.firstImageMs)} ms, fully loaded ${f0(instrumented.fullyLoadedMs)} ms)`,
    )
    console.log(
      `  core openVolume()  ${f0(median(coreMs)).padStart(6)} ms   (runs: ${coreMs.map(f0).join(', ')})`,
    )
    console.log(
      `  first slices / core open ${(median(first) / median(coreMs)).toFixed(2)} (target ≤ 1.3); ` +
        `fully loaded / core open ${(median(loaded) / median(coreMs)).toFixed(2)} (target ≤ 1.5)`,
    )

    console.log(`\n== slice scrolling, axial, label overlay shown (${steps} wheel steps) ==`)
    const w = scroll.workMs
    const b = bare.workMs
    console.log(
      `  frame work         p50 ${f1(median(w)).padStart(6)} ms  p95 ${f1(pct(w, 95)).padStart(6)} ms  max ${f1(Math.max(...w))} ms`,
    )
    console.log(
      `  frame interval     p50 ${f1(median(scroll.intervalMs)).padStart(6)} ms  p95 ${f1(pct(scroll.intervalMs, 95)).padStart(6)} ms`,
    )
    console.log(
      `  bare putImageData  p50 ${f1(median(b)).padStart(6)} ms  p95 ${f1(pct(b, 95)).padStart(6)} ms ` +
        `(onto the same canvases, interval p50 ${f1(median(bare.intervalMs))} ms)`,
    )
    console.log(
      `  frame work / bare  p50 ${(median(w) / median(b)).toFixed(2)}  p95 ${(pct(w, 95) / pct(b, 95)).toFixed(2)}`,
    )
    console.log(
      '  each view drawn alone (p50 of 20): ' +
        Object.entries(eachView)
          .map(([v, t]) => `${v} ${f1(median(t))} ms`)
          .join(', '),
    )

    console.log(`\n== editing, organ labels on 512×512×300 ==`)
    console.log(
      `  brush dab (8 mm disc) + redraw of 3 views  p50 ${f1(median(edits.dabMs))} ms  p95 ${f1(pct(edits.dabMs, 95))} ms (target p95 ≤ 8 ms)`,
    )
    console.log(
      `    with the 3 views redrawn in full          p50 ${f1(median(edits.dabFullMs))} ms  p95 ${f1(pct(edits.dabFullMs, 95))} ms`,
    )
    console.log(
      `  3-D island removal (every component, ${edits.islandVoxels} voxels) ${f0(edits.islandMs)} ms, its undo ${f1(edits.undoIslandMs)} ms`,
    )

    printSurfaces(
      '3D surfaces, 10 organ labels, in the browser worker',
      organSurfaces,
      organs,
      true,
    )
    printSurfaces(
      '3D surfaces, noisy 2-label mask on ch2 (181×217×181)',
      noisySurfaces,
      noisy,
      false,
    )

    console.log('\n== surface pipeline in Node (same code as the worker) ==')
    printPipeline('ours, organ mask', ours)
    if (vtk) {
      printPipeline('vtk.js filters (before), organ mask', vtk)
      console.log(
        `  ours / vtk.js ${(ours.totalMs / vtk.totalMs).toFixed(3)} (×${(vtk.totalMs / ours.totalMs).toFixed(1)} faster)` +
          (same
            ? `; labels 1, 7, 10: marching cubes identical ${same.identicalMeshes}, smoothed points ` +
              `max |Δ| ${same.maxSmoothedDiff}`
            : ''),
      )
    }
    console.log(
      `  naive: marching cubes over the whole 512×512×300 grid per label, no smoothing: total ` +
        `${f0(naive.totalMs)} ms (per label ${f0(median(naive.perLabelMs))} ms median); ` +
        `ours (smoothing included) / naive ${(ours.totalMs / naive.totalMs).toFixed(3)}`,
    )
    printPipeline('ours, noisy mask', oursNoisy)
    if (pageErrors.length > 0) console.log(`\npage errors: ${pageErrors.join(' | ')}`)

    console.log(
      `\n== peak memory (VmHWM) ==\n  server + job workers ${memory.serverMiB} MiB · ` +
        `Chromium renderers ${memory.rendererMiB} MiB`,
    )

    const round = (x: number): number => Math.round(x * 10) / 10
    const json = {
      firstImageMs: round(median(first)),
      firstSlicesMs: round(median(first)),
      fullyLoadedMs: round(median(loaded)),
      firstSlicesRatio: Math.round((100 * median(first)) / median(coreMs)) / 100,
      fullyLoadedRatio: Math.round((100 * median(loaded)) / median(coreMs)) / 100,
      peakRendererMiB: memory.rendererMiB,
      peakServerMiB: memory.serverMiB,
      openSourceMs: round(median(openRuns.map((r) => r.openMs))),
      readVoxelsMs: round(median(readMs)),
      backToBackFirstSlicesMs: backToBack ? round(backToBack.firstImageMs) : null,
      instrumentedFirstSlicesMs: round(instrumented.firstImageMs),
      instrumentedFullyLoadedMs: round(instrumented.fullyLoadedMs),
      coreOpenMs: round(median(coreMs)),
      scrollWorkMs: { p50: round(median(w)), p95: round(pct(w, 95)) },
      scrollIntervalMs: {
        p50: round(median(scroll.intervalMs)),
        p95: round(pct(scroll.intervalMs, 95)),
      },
      barePutImageDataMs: { p50: round(median(b)), p95: round(pct(b, 95)) },
      surfacesWorkerMs: round(organSurfaces.workerMs),
      surfacesShownMs: round(organSurfaces.shownMs),
      surfacesPerLabelMs: Object.fromEntries(
        organSurfaces.perLabel.map((l) => [l.value, round(l.ms)]),
      ),
      surfacesTargetMs: SURFACE_TARGET_MS,
      surfacesPass: organSurfaces.workerMs <= SURFACE_TARGET_MS,
      noisySurfacesWorkerMs: round(noisySurfaces.workerMs),
      noisySurfacesShownMs: round(noisySurfaces.shownMs),
      nodeOursMs: round(ours.totalMs),
      nodeVtkMs: vtk ? round(vtk.totalMs) : null,
      nodeNaiveFullGridMs: round(naive.totalMs),
      brushDabMs: { p50: round(median(edits.dabMs)), p95: round(pct(edits.dabMs, 95)) },
      brushDabFullRedrawMs: {
        p50: round(median(edits.dabFullMs)),
        p95: round(pct(edits.dabFullMs, 95)),
      },
      islandMs: round(edits.islandMs),
      undoIslandMs: round(edits.undoIslandMs),
    }
    console.log(`BENCH_VIEWER ${JSON.stringify(json)}`)
  } finally {
    await session?.browser.close()
    await server?.stop()
    await rm(root, { recursive: true, force: true })
  }
}

main().catch((e: unknown) => {
  console.error('bench-viewer failed:', e)
  process.exit(1)
})

// Crash test of the export (issue 17): a child process exporting every format (NIfTI, SEG,
// STL, OBJ, statistics, sidecar) over an earlier export in the same folder is killed with
// SIGKILL at a random moment, RUNS times (default 100, `VOLSEG_CRASH_RUNS`). After each kill no
// destination may hold a partial file: each export file is either the earlier export's (byte for
// byte for the deterministic formats) or a complete new one (the SEG re-reads with every voxel
// equal, the sidecar parses); leftovers are only hidden VolSeg temp files (swept by the next
// start). Prints the counts. Runs the compiled job (`npm run build` first): ~2-3 min.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, test } from 'node:test'
import type { ExportJobSpec } from '../../src/shared/export.js'
import { reassembleSeg } from '../../src/io/export/export-seg.js'
import { openVolume } from '../../src/io/open-volume.js'
import { ROOT, derived } from '../helpers.js'

const RUNS = Number(process.env.VOLSEG_CRASH_RUNS ?? 100)
const tmp = mkdtempSync(join(tmpdir(), 'volseg-export-crash-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const JOB = pathToFileURL(join(ROOT, 'dist', 'jobs', 'export-job.js')).href
const TEMP = /^\.volseg-\d{10}-[0-9a-f]{8}\.tmp$/
// Files whose bytes do not depend on the run (the SEG has new UIDs and dates, the sidecar a time).
const VARIABLE = new Set(['final.seg.dcm', 'final.export.json'])

function child(spec: ExportJobSpec): ReturnType<typeof spawn> {
  const code = `const m = await import(${JSON.stringify(JOB)}); await m.runExportJob(${JSON.stringify(spec)})`
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'ignore' })
}

test(`SIGKILL during an export over an earlier one, ${RUNS} times: no partial file, earlier files intact`, async (t) => {
  const masks = join(tmp, 'masks')
  mkdirSync(masks)
  const made = spawnSync(
    '/usr/bin/python3',
    [join(ROOT, 'test', 'oracle', 'make_export_masks.py'), derived('ch2-crop.nii.gz'), masks],
    {
      encoding: 'utf8',
    },
  )
  assert.equal(made.status, 0, made.stderr)
  const out = join(tmp, 'out')
  mkdirSync(out)
  const spec: ExportJobSpec = {
    mask: join(masks, 'final.nii.gz'),
    reference: [derived('dicom', 'ch2-crop')],
    formats: ['nifti', 'seg', 'stl', 'obj', 'stats'],
    outDir: out,
    labels: [2, 3],
    overwrite: true,
  }
  // The earlier export, and how long a whole run takes.
  const t0 = Date.now()
  await new Promise<void>((resolve, reject) => {
    child(spec).on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`export exited ${c}`))))
  })
  const runMs = Date.now() - t0
  const baseline = new Map(readdirSync(out).map((n) => [n, readFileSync(join(out, n))]))
  assert.equal(baseline.size, 9)
  const grid = (await openVolume(derived('dicom', 'ch2-crop'))).volume
  const mask = Uint8Array.from((await openVolume(join(masks, 'final.nii.gz'))).volume.voxels)
  const counts = { killed: 0, finished: 0, tempLeft: 0, replaced: 0, intact: 0 }
  for (let run = 0; run < RUNS; run++) {
    const p = child(spec)
    const delay = Math.random() * runMs * 1.15
    const timer = setTimeout(() => p.kill('SIGKILL'), delay)
    const code = await new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)))
    clearTimeout(timer)
    if (code === 0) counts.finished++
    else counts.killed++
    for (const n of readdirSync(out)) {
      const path = join(out, n)
      if (TEMP.test(n)) {
        counts.tempLeft++
        rmSync(path)
        continue
      }
      const before = baseline.get(n)
      assert.ok(before, `unexpected file ${n} after run ${run}`)
      const now = readFileSync(path)
      if (!VARIABLE.has(n)) {
        assert.ok(
          now.equals(before),
          `${n} changed or partial after run ${run} (killed at ${delay.toFixed(0)} ms)`,
        )
        continue
      }
      if (now.equals(before)) counts.intact++
      else counts.replaced++
      if (n.endsWith('.json')) JSON.parse(now.toString('utf8'))
      else {
        const { labels } = reassembleSeg(new Uint8Array(now), grid, (s) => [2, 3][s - 1] ?? 0)
        let differ = 0
        for (let q = 0; q < labels.length; q++) {
          const v = mask[q]!
          if (labels[q] !== (v === 2 || v === 3 ? v : 0)) differ++
        }
        assert.equal(differ, 0, `SEG after run ${run}`)
      }
    }
    assert.equal(
      readdirSync(out).filter((n) => !TEMP.test(n)).length,
      9,
      `a file is missing after run ${run}`,
    )
  }
  const line = `${RUNS} runs (a whole run ${runMs} ms): ${counts.killed} killed, ${counts.finished} finished; temp files left by kills ${counts.tempLeft}; SEG/sidecar replaced ${counts.replaced}×, kept ${counts.intact}×; every other file byte-identical after every run`
  t.diagnostic(line)
  process.stdout.write(`${line}\n`)
})

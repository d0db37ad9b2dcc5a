/**
 * Open-time benchmark: our `openVolume` against the bare itk-wasm read of the same input, in the
 * same process. Target: ours / bare ≤ 1.2 (printed, not asserted). Exits non-zero only when
 * something fails to open or the synthetic data cannot be made.
 *
 * Cases: the bundled ch2.nii.gz, a synthetic 512×512×300 int16 `.nii.gz` (made once by
 * make-volume.py with nibabel), and that volume as a 300-file DICOM series (plastimatch). The
 * synthetic data is cached in `os.tmpdir()/volseg-bench/`, never in the repo.
 *
 * Usage: npm run bench:io [-- --breakdown]   (--breakdown times the stages of every case)
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { gunzip } from 'node:zlib'
import { promisify } from 'node:util'
import type { TypedArray } from 'itk-wasm'
import { readImageNode } from '@itk-wasm/image-io'
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom'
import { openVolume } from '../../src/io/open-volume.js'
import { scanDicom } from '../../src/io/dicom/scan-dicom.js'
import { muteWasmStdio } from '../../src/io/itk/quiet.js'
import { groupSeries } from '../../src/core/dicom/group-series.js'
import { checkStack } from '../../src/core/dicom/stack-geometry.js'
import { countNonFinite, intensityRange } from '../../src/core/volume/intensity.js'
import type { VoxelArray } from '../../src/shared/volume.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '..', '..')
const CACHE = join(tmpdir(), 'volseg-bench')
const SYNTH_NII = join(CACHE, 'synth-512x512x300-int16.nii.gz')
const SYNTH_DICOM = join(CACHE, 'synth-512x512x300-dicom')
const SYNTH_SLICES = 300
const TARGET = 1.2
const gunzipAsync = promisify(gunzip)

/** What a reader returned, reduced to what the sanity check compares. */
interface Voxels {
  readonly count: number
  readonly data: VoxelArray | TypedArray
}

interface Stage {
  readonly label: string
  readonly run: () => Promise<unknown>
}

interface Case {
  readonly name: string
  readonly runs: number
  readonly ours: () => Promise<Voxels>
  readonly bare: () => Promise<Voxels>
  /** Our pipeline's stages, timed on their own when the ratio misses the target. */
  readonly stages: () => Promise<readonly Stage[]>
}

interface CaseResult {
  readonly name: string
  readonly runs: number
  readonly oursMs: number
  readonly bareMs: number
  readonly ratio: number
  readonly oursAllMs: readonly number[]
  readonly bareAllMs: readonly number[]
  readonly sane: boolean
  readonly stagesMs?: Record<string, number>
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now()
  const value = await fn()
  return { ms: performance.now() - t0, value }
}

function sum(data: ArrayLike<number | bigint>): number {
  let s = 0
  for (let i = 0; i < data.length; i++) s += Number(data[i])
  return s
}

function run(cmd: string, args: readonly string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] })
}

/** Makes the synthetic NIfTI and DICOM series once; later runs reuse them. */
function ensureSynthetic(): void {
  mkdirSync(CACHE, { recursive: true })
  if (!existsSync(SYNTH_NII)) {
    console.log(`making ${SYNTH_NII} (nibabel) ...`)
    const part = `${SYNTH_NII}.part.nii.gz`
    run('/usr/bin/python3', [join(HERE, 'make-volume.py'), part])
    renameSync(part, SYNTH_NII)
    rmSync(SYNTH_DICOM, { recursive: true, force: true }) // made from the old volume
  }
  const have = existsSync(SYNTH_DICOM) ? readdirSync(SYNTH_DICOM).length : 0
  if (have !== SYNTH_SLICES) {
    console.log(`making ${SYNTH_DICOM} (plastimatch, ${SYNTH_SLICES} files) ...`)
    const part = `${SYNTH_DICOM}.part`
    rmSync(part, { recursive: true, force: true })
    rmSync(SYNTH_DICOM, { recursive: true, force: true })
    run('plastimatch', ['convert', '--input', SYNTH_NII, '--output-dicom', part])
    const made = readdirSync(part).length
    if (made !== SYNTH_SLICES) throw new Error(`plastimatch wrote ${made} files, expected 300`)
    renameSync(part, SYNTH_DICOM)
  }
}

async function oursOpen(input: string): Promise<Voxels> {
  const { volume } = await openVolume(input)
  return { count: volume.voxels.length, data: volume.voxels }
}

async function bareImage(path: string): Promise<Voxels> {
  const image = await readImageNode(path)
  if (image.data === null) throw new Error(`itk-wasm returned no pixel data for ${path}`)
  return { count: image.data.length, data: image.data }
}

async function bareDicom(files: readonly string[]): Promise<Voxels> {
  const { outputImage } = await readImageDicomFileSeriesNode({
    inputImages: [...files],
    singleSortedSeries: false,
  })
  if (outputImage.data === null) throw new Error('itk-wasm returned no pixel data for the series')
  return { count: outputImage.data.length, data: outputImage.data }
}

function niftiStages(path: string): Stage[] {
  return [
    { label: 'readFile', run: () => readFile(path) },
    { label: 'readFile + gunzip', run: async () => gunzipAsync(await readFile(path)) },
    {
      label: 'intensityRange + countNonFinite (on ours)',
      run: async () => {
        const { volume } = await openVolume(path)
        const t0 = performance.now()
        intensityRange(volume.voxels)
        countNonFinite(volume.voxels)
        return performance.now() - t0
      },
    },
  ]
}

async function dicomStages(dir: string): Promise<Stage[]> {
  const scan = await scanDicom([dir])
  const stack = checkStack(groupSeries(scan.headers).series[0]!)
  const sorted = stack.slices.map((s) => s.file)
  return [
    { label: 'scanDicom (daikon headers)', run: () => scanDicom([dir]) },
    {
      label: 'groupSeries + checkStack',
      run: async () => checkStack(groupSeries(scan.headers).series[0]!),
    },
    {
      label: 'itk decode, singleSortedSeries: true (ours)',
      run: () =>
        muteWasmStdio(() =>
          readImageDicomFileSeriesNode({ inputImages: sorted, singleSortedSeries: true }),
        ),
    },
  ]
}

/** Stage medians; a stage whose `run` returns a number reports that (an inner timing). */
async function timeStages(stages: readonly Stage[], runs: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const st of stages) {
    const ms: number[] = []
    for (let r = 0; r < runs; r++) {
      const t = await timed(st.run)
      ms.push(typeof t.value === 'number' ? t.value : t.ms)
    }
    out[st.label] = median(ms)
  }
  return out
}

async function measure(c: Case, breakdown: boolean): Promise<CaseResult> {
  // Warm-up: loads and compiles the wasm modules (and fills the page cache).
  await c.ours()
  await c.bare()
  const oursMs: number[] = []
  const bareMs: number[] = []
  let lastOurs: Voxels | undefined
  let lastBare: Voxels | undefined
  for (let r = 0; r < c.runs; r++) {
    lastOurs = undefined
    const o = await timed(c.ours)
    oursMs.push(o.ms)
    lastOurs = o.value
    lastBare = undefined
    const b = await timed(c.bare)
    bareMs.push(b.ms)
    lastBare = b.value
  }
  let sane = true
  if (lastOurs && lastBare) {
    const so = sum(lastOurs.data)
    const sb = sum(lastBare.data)
    if (lastOurs.count !== lastBare.count || Math.abs(so - sb) > 1e-9 * Math.max(1, Math.abs(sb))) {
      sane = false
      console.warn(
        `WARNING ${c.name}: ours has ${lastOurs.count} voxels summing to ${so}, ` +
          `bare has ${lastBare.count} summing to ${sb}`,
      )
    }
  }
  const ratio = median(oursMs) / median(bareMs)
  lastOurs = lastBare = undefined
  const stagesMs =
    breakdown || ratio > TARGET ? await timeStages(await c.stages(), c.runs) : undefined
  return {
    name: c.name,
    runs: c.runs,
    oursMs: median(oursMs),
    bareMs: median(bareMs),
    ratio,
    oursAllMs: oursMs,
    bareAllMs: bareMs,
    sane,
    ...(stagesMs ? { stagesMs } : {}),
  }
}

function printTable(results: readonly CaseResult[]): void {
  const rows = [
    ['case', 'N', 'ours ms', 'bare ms', 'ours/bare', 'target', 'sums'],
    ...results.map((r) => [
      r.name,
      String(r.runs),
      r.oursMs.toFixed(0),
      r.bareMs.toFixed(0),
      r.ratio.toFixed(2),
      r.ratio <= TARGET ? 'ok' : `> ${TARGET}`,
      r.sane ? 'equal' : 'DIFFER',
    ]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  for (const row of rows) {
    console.log(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd : cell.padStart).call(cell, widths[i]!))
        .join('  '),
    )
  }
  for (const r of results) {
    if (!r.stagesMs) continue
    console.log(`\n${r.name}: stages (median of ${r.runs}; ours total ${r.oursMs.toFixed(0)} ms)`)
    for (const [label, ms] of Object.entries(r.stagesMs)) {
      console.log(`  ${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms`)
    }
  }
}

async function main(): Promise<void> {
  const breakdown = process.argv.includes('--breakdown')
  ensureSynthetic()
  const ch2 = join(ROOT, 'test', 'fixtures', 'ch2.nii.gz')
  const dicomFiles = readdirSync(SYNTH_DICOM)
    .sort()
    .map((f) => resolve(SYNTH_DICOM, f))
  const cases: Case[] = [
    {
      name: 'ch2.nii.gz 181×217×181 u8',
      runs: 5,
      ours: () => oursOpen(ch2),
      bare: () => bareImage(ch2),
      stages: async () => niftiStages(ch2),
    },
    {
      name: 'synth .nii.gz 512×512×300 i16',
      runs: 3,
      ours: () => oursOpen(SYNTH_NII),
      bare: () => bareImage(SYNTH_NII),
      stages: async () => niftiStages(SYNTH_NII),
    },
    {
      name: 'synth DICOM 300 files i16',
      runs: 3,
      ours: () => oursOpen(SYNTH_DICOM),
      bare: () => bareDicom(dicomFiles),
      stages: () => dicomStages(SYNTH_DICOM),
    },
  ]
  const results: CaseResult[] = []
  for (const c of cases) {
    console.log(`measuring ${c.name} ...`)
    results.push(await measure(c, breakdown))
  }
  const maxRssMiB = process.resourceUsage().maxRSS / 1024
  console.log('')
  printTable(results)
  console.log(`\npeak RSS ${maxRssMiB.toFixed(0)} MiB (node ${process.version})`)
  const round = (x: number): number => Math.round(x * 100) / 100
  const json = {
    target: TARGET,
    maxRssMiB: Math.round(maxRssMiB),
    cases: results.map((r) => ({
      name: r.name,
      runs: r.runs,
      oursMs: round(r.oursMs),
      bareMs: round(r.bareMs),
      ratio: round(r.ratio),
      oursAllMs: r.oursAllMs.map(round),
      bareAllMs: r.bareAllMs.map(round),
      sumsEqual: r.sane,
      ...(r.stagesMs
        ? {
            stagesMs: Object.fromEntries(Object.entries(r.stagesMs).map(([k, v]) => [k, round(v)])),
          }
        : {}),
    })),
  }
  console.log(`BENCH_IO ${JSON.stringify(json)}`)
}

main().catch((e: unknown) => {
  console.error('bench-io failed:', e)
  process.exit(1)
})

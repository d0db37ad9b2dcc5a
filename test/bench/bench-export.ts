/**
 * Export benchmark: a 10-label mask on a 512×512×300 DICOM series (the synthetic volume of
 * bench-io, made once with nibabel + plastimatch and cached in `os.tmpdir()/volseg-bench/`),
 * exported by the io functions `volseg export` uses, in one process: each format's time, the
 * SEG ÷ NIfTI write time (target ≤ 3, printed, not asserted) and the peak RSS.
 *
 * `--reference DIR` benches another DICOM series instead (e.g. test/fixtures/derived/dicom/ch2
 * for a quick run). Usage: npm run bench:export [-- --reference DIR]
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { openVolume } from '../../src/io/open-volume.js'
import { exportNifti } from '../../src/io/export/export-nifti.js'
import { readDicomSeries, writeSeg } from '../../src/io/export/export-seg.js'
import { computeLabelStats, exportStats } from '../../src/io/export/export-stats.js'
import { exportMesh } from '../../src/io/export/export-mesh.js'
import { labelBoxes } from '../../src/core/segmentation/surfaces.js'
import type { ExportLabel } from '../../src/shared/export.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const CACHE = join(tmpdir(), 'volseg-bench')
const SYNTH_NII = join(CACHE, 'synth-512x512x300-int16.nii.gz')
const SYNTH_DICOM = join(CACHE, 'synth-512x512x300-dicom')
const LABELS = 10
const TARGET = 3

function ensureSynthetic(): void {
  mkdirSync(CACHE, { recursive: true })
  const run = (cmd: string, args: string[]): void => {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  }
  if (!existsSync(SYNTH_NII)) {
    console.log(`making ${SYNTH_NII} (nibabel) ...`)
    run('/usr/bin/python3', [join(HERE, 'make-volume.py'), `${SYNTH_NII}.part.nii.gz`])
    renameSync(`${SYNTH_NII}.part.nii.gz`, SYNTH_NII)
  }
  if (!existsSync(SYNTH_DICOM) || readdirSync(SYNTH_DICOM).length !== 300) {
    console.log(`making ${SYNTH_DICOM} (plastimatch) ...`)
    rmSync(`${SYNTH_DICOM}.part`, { recursive: true, force: true })
    run('plastimatch', ['convert', '--input', SYNTH_NII, '--output-dicom', `${SYNTH_DICOM}.part`])
    rmSync(SYNTH_DICOM, { recursive: true, force: true })
    renameSync(`${SYNTH_DICOM}.part`, SYNTH_DICOM)
  }
}

async function timed<T>(what: string, rows: string[][], f: () => Promise<T>): Promise<T> {
  const t0 = performance.now()
  const r = await f()
  const ms = performance.now() - t0
  rows.push([what, `${(ms / 1000).toFixed(2)} s`])
  times.set(what, ms)
  return r
}
const times = new Map<string, number>()

async function main(): Promise<void> {
  const at = process.argv.indexOf('--reference')
  const reference = at > 0 ? process.argv[at + 1]! : (ensureSynthetic(), SYNTH_DICOM)
  const rows: string[][] = []
  const src = await timed('read reference', rows, () => openVolume(reference))
  const g = src.volume
  const [ni, nj, nk] = g.sizeIJK
  // 10 labels: ellipsoids on a ring around the centre, each a few % of the volume.
  const labels = new Uint8Array(ni * nj * nk)
  for (let v = 1; v <= LABELS; v++) {
    const a = (2 * Math.PI * v) / LABELS
    const c = [ni * (0.5 + 0.28 * Math.cos(a)), nj * (0.5 + 0.28 * Math.sin(a)), nk * 0.5]
    const r = [ni * 0.1, nj * 0.08, nk * 0.3]
    for (let k = Math.floor(c[2]! - r[2]!); k <= c[2]! + r[2]!; k++) {
      for (let j = Math.floor(c[1]! - r[1]!); j <= c[1]! + r[1]!; j++) {
        for (let i = Math.floor(c[0]! - r[0]!); i <= c[0]! + r[0]!; i++) {
          const d = [(i - c[0]!) / r[0]!, (j - c[1]!) / r[1]!, (k - c[2]!) / r[2]!]
          if (d[0]! ** 2 + d[1]! ** 2 + d[2]! ** 2 <= 1) labels[i + ni * (j + nj * k)] = v
        }
      }
    }
  }
  const table: ExportLabel[] = Array.from({ length: LABELS }, (_, n) => ({
    value: n + 1,
    name: `label ${n + 1}`,
    colourRGB: [200, 20 * n, 100],
    status: 'unreviewed',
  }))
  const dir = mkdtempSync(join(tmpdir(), 'volseg-bench-export-'))
  const sink = { dir, protect: src.files, overwrite: false }
  try {
    await timed('nifti (write + re-read)', rows, () =>
      exportNifti(sink, 'bench.nii.gz', labels, g, 'bench'),
    )
    const series = await timed('seg: read DICOM headers', rows, () => readDicomSeries(src.files))
    const seg = await timed('seg (write + re-read)', rows, () =>
      writeSeg({
        sink,
        name: 'bench.seg.dcm',
        source: series,
        geometry: g,
        labels,
        segments: table.map((l) => ({
          value: l.value,
          label: l.name,
          colourRGB: l.colourRGB,
          algorithmType: 'SEMIAUTOMATIC' as const,
          algorithmName: 'bench',
        })),
        seriesDescription: 'bench',
        softwareVersion: 'bench',
      }),
    )
    await timed('stats (compute + write)', rows, async () =>
      exportStats(sink, 'bench', computeLabelStats(labels, g.voxels, g, table), {}),
    )
    const boxes = labelBoxes(labels, g.sizeIJK)
    let vertices = 0
    for (const format of ['stl', 'obj'] as const) {
      await timed(`${format} (${LABELS} meshes, write + re-read)`, rows, async () => {
        for (const l of table) {
          const m = await exportMesh({
            sink,
            name: `bench-${l.value}.${format}`,
            format,
            labels,
            geometry: g,
            value: l.value,
            labelName: l.name,
            box: boxes.get(l.value)!,
            ras: false,
            smooth: true,
            softwareVersion: 'bench',
          })
          vertices += m.vertices
        }
      })
    }
    const ratio = times.get('seg (write + re-read)')! / times.get('nifti (write + re-read)')!
    console.log(
      `export bench: ${ni}×${nj}×${nk}, ${LABELS} labels, SEG ${seg.frames} frames, meshes ${vertices / 2} vertices`,
    )
    for (const [what, t] of rows) console.log(`  ${what!.padEnd(36)} ${t}`)
    console.log(
      `  SEG ÷ NIfTI write time: ${ratio.toFixed(2)} (target ≤ ${TARGET}: ${ratio <= TARGET ? 'met' : 'NOT met'})`,
    )
    console.log(`  peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()

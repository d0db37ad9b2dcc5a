// `volseg export --format stl,obj,stats` on ch2-crop (NIfTI reference) with three labels: meshes
// read back by mesh-io with the vertex count and bounds the report gives, and independently by
// numpy-stl (Debian python3-stl); raw marching-cubes bounds checked by hand against the mask
// (voxel-centre box ± half a voxel); RAS = LPS with x and y negated; statistics against numpy and
// nibabel on the same mask and image (test/oracle/export_stats.py). Real CLI, no mocks.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { ExportedMesh, ExportLabelStats, ExportReport } from '../../src/shared/export.js'
import { readMeshBack } from '../../src/io/export/export-mesh.js'
import { ROOT, derived, runVolseg } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-export-mesh-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
const ORACLE = join(ROOT, 'test', 'oracle')
const REF = (): string => derived('ch2-crop.nii.gz')
const MASK = join(tmp, 'final.nii.gz')

interface OracleLabel {
  voxels: number
  volumeMl: number
  mean: number
  std: number
  min: number
  median: number
  max: number
  bboxMinLPS: number[]
  bboxMaxLPS: number[]
  centroidLPS: number[]
  rawMeshMin: number[]
  rawMeshMax: number[]
  voxelFaceAreaMm2: number
}
interface OracleStl {
  vertices: number
  triangles: number
  min: number[]
  max: number[]
  areaMm2: number
  header: string
}
interface Oracle {
  labels: Record<string, OracleLabel>
  stl: Record<string, OracleStl>
}

function oracle(stls: Record<number, string> = {}): Oracle {
  const r = spawnSync(
    '/usr/bin/python3',
    [
      join(ORACLE, 'export_stats.py'),
      REF(),
      MASK,
      '1,2,3',
      ...Object.entries(stls).map(([v, p]) => `${v}=${p}`),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as Oracle
}

function exportTo(name: string, ...args: string[]): ExportReport {
  const out = join(tmp, name)
  mkdirSync(out, { recursive: true })
  const r = runVolseg(['export', MASK, '--reference', REF(), '-o', out, '--json', ...args], { env })
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as ExportReport
}

const close = (a: readonly number[], b: readonly number[], tol: number, what: string): void => {
  const d = Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))
  assert.ok(d <= tol, `${what}: ${JSON.stringify(a)} vs ${JSON.stringify(b)} (off by ${d})`)
}

before(() => {
  const r = spawnSync('/usr/bin/python3', [join(ORACLE, 'make_export_masks.py'), REF(), tmp], {
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
})

test('raw STL/OBJ per label: mesh-io and numpy-stl read the counts and bounds; bounds are the voxel box ± ½ voxel; stats match numpy', async (t) => {
  const rep = exportTo('raw', '--format', 'stl,obj,stats', '--raw-surface')
  const stl = rep.meshes!.filter((m) => m.format === 'stl')
  const obj = rep.meshes!.filter((m) => m.format === 'obj')
  assert.deepEqual(
    stl.map((m) => m.label),
    [1, 2, 3],
  )
  const o = oracle(Object.fromEntries(stl.map((m) => [m.label, m.path])))
  for (const m of [...stl, ...obj]) {
    const back = await readMeshBack(m.path, m.format)
    assert.equal(back.numberOfPoints, m.vertices, `${m.path} vertices`)
    assert.equal(back.numberOfCells, m.triangles, `${m.path} triangles`)
    assert.equal(m.frame, 'LPS')
    const e = o.labels[String(m.label)]!
    // Raw marching cubes at the 0.5 level: exactly half a voxel outside the voxel centres.
    close(m.boundsMin, e.rawMeshMin, 1e-4, `label ${m.label} ${m.format} min vs mask`)
    close(m.boundsMax, e.rawMeshMax, 1e-4, `label ${m.label} ${m.format} max vs mask`)
  }
  for (const m of stl) {
    const s = o.stl[String(m.label)]!
    assert.equal(s.vertices, m.vertices, 'numpy-stl vertices')
    assert.equal(s.triangles, m.triangles, 'numpy-stl triangles')
    close(s.min, m.boundsMin, 1e-4, 'numpy-stl min')
    close(s.max, m.boundsMax, 1e-4, 'numpy-stl max')
    // numpy-stl lower-cases the header it reports.
    assert.match(s.header, new RegExp(`volseg .* label ${m.label} .*lps mm`, 'i'))
  }
  t.diagnostic(
    stl.map((m) => `label ${m.label}: ${m.vertices} vertices, ${m.triangles} triangles`).join('; '),
  )
  // The OBJ says its frame in a comment.
  assert.match(readFileSync(obj[0]!.path, 'utf8').split('\n')[0]!, /^# VolSeg .*LPS mm/)

  // Statistics: JSON and CSV against numpy/nibabel; surface area against numpy-stl's triangles.
  const stats = rep.stats!
  const json = JSON.parse(readFileSync(join(tmp, 'raw', 'final.stats.json'), 'utf8')) as {
    labels: ExportLabelStats[]
  }
  assert.deepEqual(json.labels, stats)
  const csv = readFileSync(join(tmp, 'raw', 'final.stats.csv'), 'utf8')
    .trim()
    .split('\n')
  assert.equal(csv.length, 4)
  assert.match(csv[0]!, /^value,name,voxels,volume_ml,intensity_mean/)
  for (const s of stats) {
    const e = o.labels[String(s.value)]!
    assert.equal(s.voxels, e.voxels)
    assert.ok(Math.abs(s.volumeMl - e.volumeMl) < 1e-9)
    assert.ok(Math.abs(s.intensityMean - e.mean) < 1e-9, `mean ${s.intensityMean} ${e.mean}`)
    assert.ok(Math.abs(s.intensityStd - e.std) < 1e-9, `std ${s.intensityStd} ${e.std}`)
    assert.equal(s.intensityMin, e.min)
    assert.equal(s.intensityMedian, e.median)
    assert.equal(s.intensityMax, e.max)
    close(s.bboxMinLPS, e.bboxMinLPS, 1e-6, 'bbox min')
    close(s.bboxMaxLPS, e.bboxMaxLPS, 1e-6, 'bbox max')
    close(s.centroidLPS, e.centroidLPS, 1e-6, 'centroid')
    const area = o.stl[String(s.value)]!.areaMm2
    assert.ok(
      Math.abs(s.surfaceAreaMm2 - area) / area < 1e-5,
      `area ${s.surfaceAreaMm2} vs ${area}`,
    )
    // Marching cubes cuts the corners of the blocky voxel surface, never adds to it.
    const ratio = s.surfaceAreaMm2 / e.voxelFaceAreaMm2
    assert.ok(ratio > 0.6 && ratio < 1, `area / voxel-face area = ${ratio}`)
    const row = csv[stats.indexOf(s) + 1]!.split(',')
    assert.equal(Number(row[2]), s.voxels)
    assert.equal(Number(row[4]), s.intensityMean)
  }
})

test('smoothed meshes (the 3-D view surface) in LPS and with --ras: RAS is LPS with x and y negated', async () => {
  const lps = exportTo('lps', '--format', 'stl')
  const ras = exportTo('ras', '--format', 'stl', '--ras')
  const o = oracle()
  for (const m of lps.meshes!) {
    const r = ras.meshes!.find((x) => x.label === m.label) as ExportedMesh
    assert.equal(r.frame, 'RAS')
    assert.equal(r.vertices, m.vertices)
    close(r.boundsMin, [-m.boundsMax[0], -m.boundsMax[1], m.boundsMin[2]], 1e-4, 'RAS min')
    close(r.boundsMax, [-m.boundsMin[0], -m.boundsMin[1], m.boundsMax[2]], 1e-4, 'RAS max')
    // Smoothing moves points less than half a voxel (it overshoots a box's corners by ~0.2 mm).
    const e = o.labels[String(m.label)]!
    for (let a = 0; a < 3; a++) {
      assert.ok(
        m.boundsMin[a]! >= e.rawMeshMin[a]! - 0.5 && m.boundsMax[a]! <= e.rawMeshMax[a]! + 0.5,
        `label ${m.label} axis ${a}: smoothed ${m.boundsMin[a]}..${m.boundsMax[a]}, raw ${e.rawMeshMin[a]}..${e.rawMeshMax[a]}`,
      )
    }
    const back = await readMeshBack(r.path, 'stl')
    assert.equal(back.numberOfPoints, r.vertices)
    assert.equal(m.smoothed, true)
  }
})

// The viewer's Export through the one API: `volseg serve` (real server, WebSocket client), a
// DICOM series opened, an edited label map uploaded, `exportLabels` run in a job worker. The SEG
// it writes into --out reassembles exactly (pydicom, by plane position) to the uploaded labels;
// a second export under the same name is refused and leaves the first intact.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { SourceRef } from '../../src/shared/api.js'
import { openVolume } from '../../src/io/open-volume.js'
import type { NodeClient } from '../../src/serve/ws-node-client.js'
import { ROOT, derived, serveAndConnect } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-export-service-'))
const data = join(tmp, 'data')
const out = join(tmp, 'out')
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
let c: NodeClient
let stop: () => Promise<void>

before(async () => {
  mkdirSync(data)
  mkdirSync(out)
  cpSync(derived('dicom', 'ch2-crop'), join(data, 'crop'), { recursive: true })
  ;({ c, stop } = await serveAndConnect(data, out, env))
})

after(async () => {
  await stop?.()
  rmSync(tmp, { recursive: true, force: true })
})

test('exportLabels writes a SEG (+ NIfTI, stats, sidecar) into --out that pydicom reassembles to the uploaded labels', async () => {
  const opened = await c.openSource({ source: 'crop' as SourceRef })
  assert.ok(opened.ok, JSON.stringify(opened))
  assert.equal(opened.value.kind, 'volume')
  const v = opened.value.kind === 'volume' ? opened.value : undefined
  assert.ok(v)
  const [ni, nj, nk] = v.geometry.sizeIJK
  // Labels on the opened grid: a box in the first 4 slices (1) and a block in the middle (2).
  const labels = new Uint8Array(ni * nj * nk)
  for (let k = 0; k < nk; k++) {
    for (let j = 40; j < 80; j++) {
      for (let i = 30; i < 60; i++) {
        if (k < 4) labels[i + ni * (j + nj * k)] = 1
        else if (k >= 15 && k < 25 && i > 40) labels[i + ni * (j + nj * k)] = 2
      }
    }
  }
  const up = await c.uploadLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: [ni, nj, nk],
    bytes: labels,
  })
  assert.ok(up.ok, JSON.stringify(up))
  const review = {
    labels: [
      {
        value: 1,
        name: 'box',
        colourRGB: [255, 0, 0] as [number, number, number],
        status: 'edited' as const,
      },
      {
        value: 2,
        name: 'block',
        colourRGB: [0, 255, 0] as [number, number, number],
        status: 'accepted' as const,
      },
    ],
    updatedAt: '2026-12-07T08:00:00.000Z',
  }
  const r = await c.exportLabels({
    volumeId: v.volumeId,
    labelsId: up.value.labelsId,
    name: 'crop_export',
    formats: ['nifti', 'seg', 'stats'],
    review,
  })
  assert.ok(r.ok, JSON.stringify(r))
  assert.deepEqual(
    r.value.files.map((f) => [f.format, f.path]),
    [
      ['nifti', 'crop_export.nii.gz'],
      ['seg', 'crop_export.seg.dcm'],
      ['stats', 'crop_export.stats.csv'],
      ['stats', 'crop_export.stats.json'],
      ['sidecar', 'crop_export.export.json'],
    ],
  )
  assert.equal(r.value.seg?.frames, 4 + 10)
  // The NIfTI re-reads as the uploaded labels; pydicom puts the SEG's frames back on that grid.
  const nifti = await openVolume(join(out, 'crop_export.nii.gz'))
  assert.ok(Buffer.from(Uint8Array.from(nifti.volume.voxels)).equals(Buffer.from(labels)))
  const py = spawnSync(
    '/usr/bin/python3',
    [
      join(ROOT, 'test', 'oracle', 'seg_reassemble.py'),
      join(out, 'crop_export.seg.dcm'),
      join(data, 'crop'),
      join(out, 'crop_export.nii.gz'),
      '1,2',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  assert.equal(py.status, 0, py.stderr)
  const o = JSON.parse(py.stdout) as {
    mismatch: number
    badReferences: number
    segmentVoxels: number
    segments: { label: string }[]
  }
  assert.equal(o.mismatch, 0)
  assert.equal(o.badReferences, 0)
  assert.equal(
    o.segmentVoxels,
    labels.reduce((n, x) => n + (x ? 1 : 0), 0),
  )
  assert.deepEqual(
    o.segments.map((s) => s.label),
    ['box', 'block'],
  )
  const sidecar = JSON.parse(readFileSync(join(out, 'crop_export.export.json'), 'utf8')) as {
    labels: { status: string }[]
    source: { dicom: { sopInstanceUIDs: string[] } }
  }
  assert.deepEqual(
    sidecar.labels.map((l) => l.status),
    ['edited', 'accepted'],
  )
  assert.equal(sidecar.source.dicom.sopInstanceUIDs.length, nk)

  // The same name again: refused, nothing replaced.
  const before = readdirSync(out).map((n) => [n, readFileSync(join(out, n)).toString('base64')])
  const again = await c.exportLabels({
    volumeId: v.volumeId,
    labelsId: up.value.labelsId,
    name: 'crop_export',
    formats: ['stats'],
  })
  assert.equal(again.ok, false)
  assert.ok(
    !again.ok &&
      again.error.code === 'E_WRITE' &&
      /exists in the output folder/.test(again.error.message),
    JSON.stringify(again),
  )
  assert.deepEqual(
    readdirSync(out).map((n) => [n, readFileSync(join(out, n)).toString('base64')]),
    before,
  )
})

// The viewer's export records the AI-vs-final delta (issue 17): `volseg serve` (real server,
// WebSocket client, forked workers), ch2 segmented by the threshold test pack, the model's labels
// read back, a known number of voxels erased and painted in Node, the edit uploaded as derived
// from the result, `exportLabels` run. The sidecar's per-label added/removed and Dice equal what
// numpy computes from the model's labels and the exported NIfTI; an unedited result exports with
// no change and Dice 1; labels opened from a file, or uploaded without their origin, export with
// the delta absent and the reason given.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { LabelsId, OpenedVolume, SourceRef } from '../../src/shared/api.js'
import type { ExportProvenance } from '../../src/shared/export.js'
import type { NodeClient } from '../../src/serve/ws-node-client.js'
import { ROOT, fixture, segmentToEnd, serveAndConnect } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-export-delta-'))
const data = join(tmp, 'data')
const out = join(tmp, 'out')
const env = {
  ...process.env,
  VOLSEG_HOME: join(tmp, 'home'),
  VOLSEG_MODELS: join(ROOT, 'test', 'tiny-model', 'packs'),
}
let c: NodeClient
let stop: () => Promise<void>
let volume: OpenedVolume
let resultId: LabelsId
let model: Uint8Array

const review = {
  labels: [
    {
      value: 1,
      name: 'above-mean',
      colourRGB: [255, 200, 0] as [number, number, number],
      status: 'edited' as const,
    },
  ],
  updatedAt: '2026-12-07T08:00:00.000Z',
}

before(async () => {
  mkdirSync(data)
  mkdirSync(out)
  copyFileSync(fixture('ch2.nii.gz'), join(data, 'ch2.nii.gz'))
  ;({ c, stop } = await serveAndConnect(data, out, env))
  const opened = await c.openSource({ source: 'ch2.nii.gz' as SourceRef })
  assert.ok(opened.ok && opened.value.kind === 'volume', JSON.stringify(opened))
  volume = opened.value
  const { jobId, end } = await segmentToEnd(c, volume.volumeId, 'threshold')
  assert.equal(end.type, 'job:done', JSON.stringify(end))
  const labels = await c.readLabels({ jobId })
  assert.ok(labels.ok, JSON.stringify(labels))
  assert.equal(labels.value.dataType, 'uint8')
  resultId = labels.value.labelsId
  model = Uint8Array.from(labels.value.bytes)
})

after(async () => {
  await stop?.()
  rmSync(tmp, { recursive: true, force: true })
})

/** numpy's count of added/removed voxels of label 1 and Dice, model labels vs a NIfTI. */
function numpyDelta(modelRaw: string, nifti: string): Record<string, number> {
  const r = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `import sys, json, numpy as np, nibabel as nib
ni, nj, nk = (int(x) for x in sys.argv[3].split(','))
ai = np.fromfile(sys.argv[1], dtype=np.uint8).reshape((nk, nj, ni)).transpose(2, 1, 0)
fin = np.asanyarray(nib.load(sys.argv[2]).dataobj).astype(np.int64)
a, f = ai == 1, fin == 1
print(json.dumps({"aiVoxels": int(a.sum()), "finalVoxels": int(f.sum()), "added": int((f & ~a).sum()),
  "removed": int((a & ~f).sum()), "dice": float(2 * (a & f).sum() / (a.sum() + f.sum()))}))`,
      modelRaw,
      nifti,
      volume.geometry.sizeIJK.join(','),
    ],
    { encoding: 'utf8' },
  )
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as Record<string, number>
}

const sidecar = (stem: string): ExportProvenance =>
  JSON.parse(readFileSync(join(out, `${stem}.export.json`), 'utf8')) as ExportProvenance

test('an export of labels edited from the model result records voxels added and removed and Dice, as numpy computes them', async () => {
  const [ni, nj] = volume.geometry.sizeIJK
  const at = (i: number, j: number, k: number): number => i + ni * (j + nj * k)
  // Erase label 1 in one box and paint it in another: count exactly what changes.
  const edited = model.slice()
  let erased = 0
  let painted = 0
  for (let k = 80; k < 100; k++) {
    for (let j = 90; j < 120; j++) {
      for (let i = 70; i < 110; i++) {
        if (edited[at(i, j, k)] === 1) {
          edited[at(i, j, k)] = 0
          erased++
        }
      }
    }
  }
  for (let k = 0; k < 6; k++) {
    for (let j = 0; j < 25; j++) {
      for (let i = 0; i < 30; i++) {
        if (edited[at(i, j, k)] === 0) {
          edited[at(i, j, k)] = 1
          painted++
        }
      }
    }
  }
  assert.ok(erased > 1000 && painted > 1000, `erased ${erased}, painted ${painted}`)
  const up = await c.uploadLabels({
    volumeId: volume.volumeId,
    dataType: 'uint8',
    sizeIJK: volume.geometry.sizeIJK,
    bytes: edited,
    derivedFrom: resultId,
  })
  assert.ok(up.ok, JSON.stringify(up))
  const r = await c.exportLabels({
    volumeId: volume.volumeId,
    labelsId: up.value.labelsId,
    name: 'edited',
    formats: ['nifti'],
    review,
  })
  assert.ok(r.ok, JSON.stringify(r))
  const side = sidecar('edited')
  assert.ok(side.aiDelta, JSON.stringify(side.aiDeltaAbsent))
  assert.equal(side.aiDeltaAbsent, undefined)
  const [change] = side.aiDelta.labels
  assert.equal(side.aiDelta.labels.length, 1)
  assert.equal(change!.value, 1)
  assert.equal(change!.added, painted)
  assert.equal(change!.removed, erased)
  // The same figures from numpy, on the model's labels and the exported file.
  writeFileSync(join(tmp, 'model.raw'), model)
  const np = numpyDelta(join(tmp, 'model.raw'), join(out, 'edited.nii.gz'))
  assert.deepEqual(
    {
      aiVoxels: change!.aiVoxels,
      finalVoxels: change!.finalVoxels,
      added: change!.added,
      removed: change!.removed,
    },
    { aiVoxels: np.aiVoxels, finalVoxels: np.finalVoxels, added: np.added, removed: np.removed },
  )
  assert.ok(Math.abs(change!.dice - np.dice!) < 1e-12, `${change!.dice} vs ${np.dice}`)
  assert.ok(change!.dice < 1)
  assert.equal(side.humanEdited, true)
  assert.equal(side.model?.id, 'threshold')
  assert.match(side.aiDelta.aiMask.name, /^output of threshold \(job_/)
  // The API's answer carries the same delta, for the panel.
  assert.deepEqual(r.value.aiDelta, side.aiDelta.labels)
})

test('the unedited model result exports with no change and Dice 1; a mask opened from a file, or labels of unknown origin, say why there is no delta', async () => {
  const same = await c.exportLabels({
    volumeId: volume.volumeId,
    labelsId: resultId,
    name: 'unedited',
    formats: ['nifti'],
  })
  assert.ok(same.ok, JSON.stringify(same))
  const s = sidecar('unedited')
  assert.deepEqual(
    s.aiDelta?.labels.map((x) => [x.value, x.added, x.removed, x.dice]),
    [[1, 0, 0, 1]],
  )
  assert.equal(s.humanEdited, false)
  // Opened from a file: no model run behind it in this session.
  const opened = await c.openLabels({
    volumeId: volume.volumeId,
    root: 'out',
    source: 'unedited.nii.gz' as SourceRef,
  })
  assert.ok(opened.ok, JSON.stringify(opened))
  const fromFile = await c.exportLabels({
    volumeId: volume.volumeId,
    labelsId: opened.value.labels.labelsId,
    name: 'from-file',
    formats: ['nifti'],
  })
  assert.ok(fromFile.ok, JSON.stringify(fromFile))
  const f = sidecar('from-file')
  assert.equal(f.aiDelta, undefined)
  assert.match(f.aiDeltaAbsent?.reason ?? '', /opened from the mask file unedited\.nii\.gz/)
  assert.match(fromFile.value.aiDeltaAbsent ?? '', /opened from the mask file/)
  // Edited from the opened file: still no model output behind it.
  const fromOpened = await c.uploadLabels({
    volumeId: volume.volumeId,
    dataType: 'uint8',
    sizeIJK: volume.geometry.sizeIJK,
    bytes: model,
    derivedFrom: opened.value.labels.labelsId,
  })
  assert.ok(fromOpened.ok, JSON.stringify(fromOpened))
  const e = await c.exportLabels({
    volumeId: volume.volumeId,
    labelsId: fromOpened.value.labelsId,
    name: 'edited-from-file',
    formats: ['nifti'],
  })
  assert.ok(e.ok, JSON.stringify(e))
  assert.match(sidecar('edited-from-file').aiDeltaAbsent?.reason ?? '', /opened from the mask file/)
  // Uploaded without saying what it was edited from.
  const bare = await c.uploadLabels({
    volumeId: volume.volumeId,
    dataType: 'uint8',
    sizeIJK: volume.geometry.sizeIJK,
    bytes: model,
  })
  assert.ok(bare.ok, JSON.stringify(bare))
  const b = await c.exportLabels({
    volumeId: volume.volumeId,
    labelsId: bare.value.labelsId,
    name: 'bare',
    formats: ['nifti'],
  })
  assert.ok(b.ok, JSON.stringify(b))
  assert.match(sidecar('bare').aiDeltaAbsent?.reason ?? '', /without the map they were edited from/)
  assert.equal(sidecar('bare').humanEdited, 'unknown')
})

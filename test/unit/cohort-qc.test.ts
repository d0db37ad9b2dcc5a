// Cohort QC pieces on their own: robust z against numpy, the side rule in LPS, mask statistics on
// a real LPS geometry, the PNG encoder read back by Pillow, HTML escaping, the manifest guard.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { Mat3, Vec3 } from '../../src/shared/geometry.js'
import { parseCohortManifest, casesOfShard, parseShard } from '../../src/shared/cohort.js'
import { percentileOf } from '../../src/shared/percentiles.js'
import { labelSide, onCorrectSide } from '../../src/core/cohort/label-side.js'
import { maskStats } from '../../src/core/cohort/mask-stats.js'
import { qcFlags } from '../../src/core/cohort/qc-flags.js'
import { robustZ } from '../../src/core/cohort/robust-z.js'
import { sliceOverlay } from '../../src/core/cohort/slice-overlay.js'
import { encodePngRgb } from '../../src/io/png/encode-png.js'
import { escapeHtml } from '../../src/jobs/cohort-html.js'
import { python } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-cohort-unit-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

test('percentileOf and robustZ match numpy (median, MAD·1.4826)', () => {
  const xs = [812, 790, 1310, 805, 799, 0, 821, 808.5]
  const want = python<{ p: number[]; z: number[] }>(
    `
import json, sys, numpy as np
x = np.array(json.loads(sys.argv[1]), dtype=float)
med = np.median(x); mad = np.median(np.abs(x - med))
print(json.dumps({"p": [float(np.percentile(x, q)) for q in (0, 10, 50, 73.3, 100)],
                  "z": [float(v) for v in (x - med) / (1.4826 * mad)]}))
`,
    [JSON.stringify(xs)],
  )
  const got = [0, 10, 50, 73.3, 100].map((q) => percentileOf(xs, q))
  got.forEach((g, i) => assert.ok(Math.abs(g - want.p[i]!) < 1e-9, `${g} vs ${want.p[i]}`))
  robustZ(xs).forEach((z, i) => assert.ok(Math.abs(z - want.z[i]!) < 1e-9))
  // The two bad cases are the outliers, the rest are not.
  assert.deepEqual(
    robustZ(xs).map((z) => Math.abs(z) > 3.5),
    [false, false, true, false, false, true, false, false],
  )
  // Identical cohort: a rounding difference is not an infinite z (1 % floor on the scale).
  const z = robustZ([540.872, 540.872, 540.8720001, 540.872])
  assert.ok(
    z.every((v) => Math.abs(v) < 1e-3),
    String(z),
  )
  assert.ok(robustZ([1, 2]).every(Number.isNaN))
})

test('labelSide reads card side and names; onCorrectSide uses LPS +x = patient Left', () => {
  assert.equal(labelSide({ name: 'kidney_left' }), 'left')
  assert.equal(labelSide({ name: 'Right-Hippocampus' }), 'right')
  assert.equal(labelSide({ name: 'left hemisphere' }), 'left')
  assert.equal(labelSide({ name: 'hemisphere_r' }), 'right')
  assert.equal(labelSide({ name: 'brain' }), undefined)
  assert.equal(labelSide({ name: 'cleft' }), undefined) // "left" inside a word is not a side
  assert.equal(labelSide({ name: 'x', side: 'right' }), 'right')
  assert.equal(onCorrectSide('left', 30, 0), true)
  assert.equal(onCorrectSide('left', -30, 0), false)
  assert.equal(onCorrectSide('right', -30, 0), true)
  assert.equal(onCorrectSide('right', 0.5, 0), undefined) // on the midline: cannot tell
})

/** A 20×10×6 grid stored with i towards patient Right (LPS −x), 2 mm along i. */
const G = {
  sizeIJK: [20, 10, 6] as Vec3,
  spacingMm: [2, 1, 1] as Vec3,
  originLPS: [19, 0, 0] as Vec3,
  directionLPS: [-1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3,
}
const N = 20 * 10 * 6
const idx = (i: number, j: number, k: number): number => i + 20 * (j + 10 * k)

function body(): Float32Array {
  const img = new Float32Array(N)
  for (let k = 1; k < 5; k++) {
    for (let j = 1; j < 9; j++) for (let i = 2; i < 18; i++) img[idx(i, j, k)] = 100
  }
  return img
}

test('maskStats: volume, LPS centroid, body; qcFlags catch a left label on the right', () => {
  const img = body()
  // A "left" label at i = 2..5: with direction −x, small i is large LPS x, the patient's Left.
  const good = new Uint8Array(N)
  const flipped = new Uint8Array(N)
  for (let k = 2; k < 4; k++) {
    for (let j = 3; j < 6; j++) {
      for (let i = 2; i < 6; i++) {
        good[idx(i, j, k)] = 1
        flipped[idx(19 - i, j, k)] = 1
      }
    }
  }
  const a = maskStats({ geometry: G, image: img, mask: good, labelValues: [1] })
  const b = maskStats({ geometry: G, image: img, mask: flipped, labelValues: [1] })
  const la = a.labels[0]!
  assert.equal(la.voxels, 24)
  assert.equal(la.volumeMl, (24 * 2) / 1000)
  // i mean 3.5 → x = 19 − 2·3.5 = 12; j mean 4; k mean 2.5.
  assert.deepEqual(la.centroidLPS, [12, 4, 2.5])
  assert.deepEqual(a.bodyCentroidLPS, [0, 4.5, 2.5])
  assert.equal(la.centroidInBody, true)
  const card = [{ value: 1, name: 'left kidney', color: [255, 0, 0] as const }]
  const { flags } = qcFlags(
    [
      { ok: true, labels: a.labels, bodyCentroidLPS: a.bodyCentroidLPS! },
      { ok: true, labels: b.labels, bodyCentroidLPS: b.bodyCentroidLPS! },
    ],
    card,
  )
  assert.deepEqual(flags[0], [])
  assert.deepEqual(
    flags[1]!.map((f) => f.code),
    ['wrong-side'],
  )
  assert.match(flags[1]![0]!.message, /patient's right/)
})

test('qcFlags: empty mask, card volume range, outside body, uncertainty outlier, failed', () => {
  const img = body()
  const empty = maskStats({ geometry: G, image: img, mask: new Uint8Array(N), labelValues: [1] })
  const air = new Uint8Array(N)
  air[idx(0, 0, 0)] = 1 // a voxel in the air, outside the body along every axis
  const outside = maskStats({ geometry: G, image: img, mask: air, labelValues: [1] })
  assert.equal(outside.labels[0]!.centroidInBody, false)
  const card = [
    { value: 1, name: 'organ', color: [0, 255, 0] as const, plausibleVolumeMl: [0.01, 1] as const },
  ]
  const cases = [
    { ok: true, labels: empty.labels, meanUncertainty: 0.1 },
    { ok: true, labels: outside.labels, meanUncertainty: 0.11 },
    { ok: true, labels: [{ value: 1, voxels: 10, volumeMl: 5 }], meanUncertainty: 0.1 },
    { ok: true, labels: [{ value: 1, voxels: 10, volumeMl: 0.5 }], meanUncertainty: 0.9 },
    { ok: false },
  ]
  const { flags } = qcFlags(cases, card)
  const codes = flags.map((f) => f.map((x) => x.code).sort())
  assert.deepEqual(codes[0], ['empty-mask'])
  assert.deepEqual(codes[1], ['outside-body', 'volume-range'])
  assert.ok(codes[2]!.includes('volume-range'), String(codes[2]))
  assert.deepEqual(codes[3], ['uncertain'])
  assert.deepEqual(codes[4], ['failed'])
})

test('sliceOverlay + encodePngRgb: Pillow reads the PNG; radiological display; outline colour', () => {
  const img = body()
  const mask = new Uint8Array(N)
  for (let k = 0; k < 6; k++) {
    for (let j = 3; j < 6; j++) for (let i = 2; i < 6; i++) mask[idx(i, j, k)] = 1
  }
  const rgb = sliceOverlay({ geometry: G, image: img, mask, colors: new Map([[1, [255, 0, 0]]]) })
  assert.equal(rgb.width, 20)
  assert.equal(rgb.height, 10)
  const file = join(tmp, 'slice.png')
  writeFileSync(file, encodePngRgb(rgb))
  const px = python<{ size: number[]; mode: string; px: number[][] }>(
    `
import json, sys
from PIL import Image
im = Image.open(sys.argv[1]); im.load()
print(json.dumps({"size": list(im.size), "mode": im.mode,
  "px": [list(im.getpixel((x, 4))) for x in range(20)]}))
`,
    [file],
  )
  assert.deepEqual(px.size, [20, 10])
  assert.equal(px.mode, 'RGB')
  // Voxels i = 2..5 are the patient's Left: on the screen's right, columns 14..17; their edge red.
  assert.deepEqual(px.px[14], [255, 0, 0])
  assert.deepEqual(px.px[17], [255, 0, 0])
  assert.deepEqual(px.px[5], [255, 255, 255]) // body, no mask
  assert.deepEqual(px.px[0], [0, 0, 0]) // air
})

test('escapeHtml, shard partition, manifest guard naming the file', () => {
  assert.equal(
    escapeHtml(`<img src=x onerror="a('b')">&`),
    '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;',
  )
  const ids = ['a', 'b', 'c', 'd', 'e']
  const parts = [1, 2].map((k) => casesOfShard(ids, k, 2))
  assert.deepEqual(parts, [
    ['a', 'c', 'e'],
    ['b', 'd'],
  ])
  assert.throws(() => parseShard('0/2'), /1 ≤ k ≤ n/)
  assert.throws(() => parseShard('3/2'), /1 ≤ k ≤ n/)
  const base = {
    schema: 'volseg-cohort-manifest/1',
    createdAt: 'x',
    shards: 1,
    model: { ref: 'm', id: 'm', version: '1', sha256: 'a'.repeat(64) },
  }
  const c = { id: 'a', input: ['/x'], inputSha256: 'b'.repeat(64), output: 'masks/a_seg.nii.gz' }
  assert.doesNotThrow(() => parseCohortManifest({ ...base, cases: [c] }, 'm.json'))
  assert.throws(
    () => parseCohortManifest({ ...base, cases: [{ ...c, output: '../../etc/x' }] }, 'm.json'),
    (e: Error & { file?: string }) =>
      /inside the cohort folder/.test(e.message) && e.file === 'm.json',
  )
  assert.throws(
    () => parseCohortManifest({ ...base, cases: [{ ...c, id: '../a' }] }, 'm.json'),
    /safe case id/,
  )
  assert.throws(() => parseCohortManifest({ ...base, cases: [c, c] }, 'm.json'), /repeats/)
})

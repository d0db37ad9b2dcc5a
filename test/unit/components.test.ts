import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { openVolume } from '../../src/io/open-volume.js'
import type { PostprocessRule } from '../../src/shared/model-card.js'
import {
  applyPostprocess,
  labelComponents,
  type LabelMask,
} from '../../src/inference/postprocess/components.js'
import { fixture, python, rejectsWith } from '../helpers.js'

type Size = [number, number, number]

const ch2 = async (): Promise<{ voxels: Uint8Array; size: Size }> => {
  const v = (await openVolume(fixture('ch2.nii.gz'))).volume
  assert.ok(v.voxels instanceof Uint8Array)
  return { voxels: v.voxels, size: [...v.sizeIJK] as Size }
}

/** Label 1 for `lo < v ≤ hi`, 2 for `v > hi`: a two-label mask with many small islands. */
const twoLabels = (v: Uint8Array, lo: number, hi: number): Uint8Array =>
  v.map((x) => (x > hi ? 2 : x > lo ? 1 : 0))

/** First flat index of each component, in id order, from the ids array. */
const firstIndices = (ids: Int32Array, count: number): number[] => {
  const first = new Array<number>(count + 1).fill(-1)
  for (let i = 0; i < ids.length; i++) {
    const c = ids[i]!
    if (first[c] === -1) first[c] = i
  }
  return first.slice(1)
}

/** Order-sensitive fingerprint of a mask: Σ i·value (exact in float64 for these sizes). */
const fingerprint = (m: LabelMask): number => {
  let s = 0
  for (let i = 0; i < m.length; i++) s += i * m[i]!
  return s
}

// Oracle: scipy.ndimage.label with the full 3×3×3 structure, on the mask in our flat order
// (the F-ordered array reshaped so that x is fastest, i.e. transposed to (z, y, x) C order).
const ORACLE = `
import sys, json, numpy as np, nibabel as nib, scipy.ndimage as ndi
vol = np.asanyarray(nib.load(sys.argv[1]).dataobj)
lo, hi = int(sys.argv[2]), int(sys.argv[3])
mask = np.where(vol > hi, 2, np.where(vol > lo, 1, 0)).astype(np.uint8)
flat = mask.ravel(order='F')
S = np.ones((3, 3, 3), bool)
def components(m, label):
    ids, n = ndi.label(m == label, structure=S)
    ids = ids.ravel(order='F')
    found, first = np.unique(ids, return_index=True)
    sizes = np.bincount(ids, minlength=n + 1)
    order = np.argsort(first[1:])  # number components by first voxel, as ours
    return ids, n, (first[1:][order]).tolist(), (sizes[1:][order]).tolist()
def fp(f): return float(np.sum(np.arange(f.size, dtype=np.float64) * f))
out = {}
for label in (1, 2):
    ids, n, first, sizes = components(mask, label)
    out[str(label)] = {'count': int(n), 'first': first, 'sizes': sizes}
# Post-processing as numpy would do it: label 1 keeps its largest component (ties: first voxel),
# label 2 drops components under 30 mm³ at 0.5 × 2 × 1.5 mm voxels (1.5 mm³ each).
res = flat.copy()
ids, n, first, sizes = components(mask, 1)
best = int(np.argmax(sizes))  # first maximum = lowest first voxel
keep_id = ids[first[best]]
rm1 = (ids > 0) & (ids != keep_id)
res[rm1] = 0
ids, n, first, sizes = components(mask, 2)
small = np.zeros(n + 1, bool)
counts = np.bincount(ids, minlength=n + 1)
small[1:] = counts[1:] * 1.5 < 30
rm2 = small[ids] & (ids > 0)
res[rm2] = 0
out['post'] = {'removed1': int(rm1.sum()), 'removed2': int(rm2.sum()), 'fingerprint': fp(res)}
print(json.dumps(out))
`

interface CcOracle {
  count: number
  first: number[]
  sizes: number[]
}
type Oracle = Record<'1' | '2', CcOracle> & {
  post: { removed1: number; removed2: number; fingerprint: number }
}

test('26-connected components of thresholded ch2 match scipy.ndimage.label (3×3×3)', async (t) => {
  const { voxels, size } = await ch2()
  for (const [lo, hi] of [
    [60, 120],
    [80, 150],
  ] as const) {
    const o = python<Oracle>(ORACLE, [fixture('ch2.nii.gz'), String(lo), String(hi)])
    const mask = twoLabels(voxels, lo, hi)
    for (const label of [1, 2] as const) {
      const want = o[label]
      assert.ok(want.count > 100, 'many components')
      const t0 = performance.now()
      const c = labelComponents(mask, size, label)
      const ms = performance.now() - t0
      t.diagnostic(`ch2 ${lo}/${hi} label ${label}: ${c.count} components in ${ms.toFixed(1)} ms`)
      assert.equal(c.count, want.count)
      assert.deepEqual(c.sizes.slice(1), want.sizes)
      assert.deepEqual(firstIndices(c.ids, c.count), want.first)
      assert.equal(c.sizes.length, c.count + 1)
      assert.equal(
        c.sizes.reduce((s, x) => s + x, 0),
        mask.length,
      )
    }
    const m = mask.slice()
    const rules: PostprocessRule[] = [
      { label: 1, largestComponent: true },
      { label: 2, minIslandMm3: 30 },
    ]
    const t0 = performance.now()
    const r = applyPostprocess(m, size, [0.5, 2, 1.5], rules)
    t.diagnostic(`ch2 ${lo}/${hi} applyPostprocess: ${(performance.now() - t0).toFixed(1)} ms`)
    assert.deepEqual(r.removedVoxels, { 1: o.post.removed1, 2: o.post.removed2 })
    assert.ok(o.post.removed1 > 0 && o.post.removed2 > 0)
    assert.equal(fingerprint(m), o.post.fingerprint)
  }
})

test('timing: labelComponents on ch2 (181×217×181), one large and many small components', async (t) => {
  const { voxels, size } = await ch2()
  for (const thr of [40, 80, 120]) {
    const mask = voxels.map((x) => (x > thr ? 1 : 0))
    labelComponents(mask, size, 1) // warm-up
    const times: number[] = []
    let count = 0
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now()
      count = labelComponents(mask, size, 1).count
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    t.diagnostic(`ch2 > ${thr}: ${count} components, median ${times[2]!.toFixed(1)} ms`)
  }
})

// A 26-neighbourhood flood fill with an explicit queue: the slow, obvious reference.
const referenceLabels = (m: LabelMask, [nx, ny, nz]: Size, value: number): Int32Array => {
  const ids = new Int32Array(m.length)
  let next = 0
  for (let seed = 0; seed < m.length; seed++) {
    if (m[seed] !== value || ids[seed] !== 0) continue
    ids[seed] = ++next
    const queue = [seed]
    while (queue.length > 0) {
      const i = queue.pop()!
      const x = i % nx
      const y = Math.floor(i / nx) % ny
      const z = Math.floor(i / (nx * ny))
      for (let dz = -1; dz <= 1; dz++) {
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const [a, b, c] = [x + dx, y + dy, z + dz]
            if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue
            const j = a + nx * (b + ny * c)
            if (m[j] === value && ids[j] === 0) {
              ids[j] = next
              queue.push(j)
            }
          }
        }
      }
    }
  }
  return ids
}

test('property: ids equal a 26-connected flood fill, numbered by first voxel', () => {
  const dims = fc.tuple(
    fc.integer({ min: 1, max: 7 }),
    fc.integer({ min: 1, max: 7 }),
    fc.integer({ min: 1, max: 7 }),
  )
  fc.assert(
    fc.property(
      dims.chain((d) =>
        fc.tuple(
          fc.constant(d),
          fc.uint8Array({
            min: 0,
            max: 2,
            minLength: d[0] * d[1] * d[2],
            maxLength: d[0] * d[1] * d[2],
          }),
        ),
      ),
      ([size, m]) => {
        for (const value of [1, 2]) {
          const c = labelComponents(m, size, value)
          const want = referenceLabels(m, size, value)
          assert.deepEqual(c.ids, want)
          for (let id = 1; id <= c.count; id++) {
            assert.equal(c.sizes[id], want.filter((x) => x === id).length)
          }
        }
      },
    ),
    { numRuns: 400 },
  )
})

test('connectivity: corner, edge and face contact join; a one-voxel gap does not', () => {
  const size: Size = [4, 4, 4]
  const at = (x: number, y: number, z: number): number => x + 4 * (y + 4 * z)
  const blobs = (a: [number, number, number], b: [number, number, number]): number => {
    const m = new Uint8Array(64)
    m[at(...a)] = 1
    m[at(...b)] = 1
    return labelComponents(m, size, 1).count
  }
  assert.equal(blobs([1, 1, 1], [2, 2, 2]), 1) // corner only: one 26-component
  assert.equal(blobs([2, 1, 1], [1, 2, 2]), 1) // corner, other diagonal
  assert.equal(blobs([1, 1, 1], [2, 2, 1]), 1) // edge
  assert.equal(blobs([1, 1, 1], [1, 1, 2]), 1) // face
  assert.equal(blobs([0, 0, 0], [2, 0, 0]), 2) // gap in x
  assert.equal(blobs([0, 0, 0], [1, 1, 2]), 2) // two slices apart
  assert.equal(blobs([3, 0, 0], [0, 1, 0]), 2) // row wrap is not adjacency
  assert.equal(blobs([0, 3, 0], [0, 0, 1]), 2) // slice wrap is not adjacency

  // Two 2×2×2 cubes meeting at one corner, in a Uint16 mask with a label above 255.
  const m = new Uint16Array(64)
  for (const [ox, oy, oz] of [
    [0, 0, 0],
    [2, 2, 2],
  ]) {
    for (let z = 0; z < 2; z++) {
      for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) m[at(ox! + x, oy! + y, oz! + z)] = 300
    }
  }
  const c = labelComponents(m, size, 300)
  assert.equal(c.count, 1)
  assert.deepEqual(c.sizes, [48, 16])
})

test('largestComponent: ties keep the component whose first voxel comes first', () => {
  // Two 3-voxel components of label 1 and one 2-voxel one; the tie is between ids 1 and 2.
  const size: Size = [8, 3, 2]
  const at = (x: number, y: number, z: number): number => x + 8 * (y + 3 * z)
  const m = new Uint8Array(48)
  for (const i of [at(6, 0, 0), at(7, 0, 0), at(7, 1, 0)]) m[i] = 1 // first voxel index 6
  for (const i of [at(0, 2, 0), at(0, 2, 1), at(1, 2, 1)]) m[i] = 1 // first voxel index 16
  for (const i of [at(3, 0, 1), at(3, 1, 1)]) m[i] = 1 // 2 voxels, first index 27
  m[at(2, 0, 0)] = 2 // another label, untouched
  const before = labelComponents(m, size, 1)
  assert.deepEqual(before.sizes.slice(1), [3, 3, 2])
  const r = applyPostprocess(m, size, [1, 1, 1], [{ label: 1, largestComponent: true }])
  assert.deepEqual(r.removedVoxels, { 1: 5 })
  assert.deepEqual(
    [...m.keys()].filter((i) => m[i] === 1),
    [at(6, 0, 0), at(7, 0, 0), at(7, 1, 0)],
  )
  assert.equal(m[at(2, 0, 0)], 2)
})

test('minIslandMm3 uses the voxel volume; both tests apply when a rule sets both', () => {
  const size: Size = [8, 1, 1]
  const make = (): Uint8Array => new Uint8Array([1, 1, 1, 0, 1, 1, 0, 1])
  // 2 × 1.5 × 1 = 3 mm³ per voxel: sizes 3, 2, 1 → 9, 6, 3 mm³.
  const spacing: Size = [2, 1.5, 1]
  const m1 = make()
  applyPostprocess(m1, size, spacing, [{ label: 1, minIslandMm3: 6 }])
  assert.deepEqual(Array.from(m1), [1, 1, 1, 0, 1, 1, 0, 0]) // 6 mm³ is kept (not smaller)
  const m2 = make()
  const r2 = applyPostprocess(m2, size, spacing, [{ label: 1, minIslandMm3: 10 }])
  assert.deepEqual(Array.from(m2), [0, 0, 0, 0, 0, 0, 0, 0])
  assert.deepEqual(r2.removedVoxels, { 1: 6 })
  // Largest and big enough: the largest (9 mm³) fails a 10 mm³ floor, so nothing is left.
  const m3 = make()
  applyPostprocess(m3, size, spacing, [{ label: 1, largestComponent: true, minIslandMm3: 10 }])
  assert.ok(m3.every((x) => x === 0))
  const m4 = make()
  applyPostprocess(m4, size, spacing, [{ label: 1, largestComponent: true, minIslandMm3: 1 }])
  assert.deepEqual(Array.from(m4), [1, 1, 1, 0, 0, 0, 0, 0])
})

test('background value, no-op rules and labels that are absent', () => {
  const size: Size = [5, 1, 1]
  const m = new Uint8Array([3, 0, 3, 3, 9])
  const r = applyPostprocess(
    m,
    size,
    [1, 1, 1],
    [
      { label: 3, largestComponent: true },
      { label: 7, largestComponent: true }, // absent
      { label: 9 }, // no test set
      { label: 9, largestComponent: true }, // the background: nothing to do
    ],
    9,
  )
  assert.deepEqual(Array.from(m), [9, 0, 3, 3, 9])
  assert.deepEqual(r.removedVoxels, { 3: 1, 7: 0, 9: 0 })
  const empty = labelComponents(new Uint8Array(5), size, 1)
  assert.equal(empty.count, 0)
  assert.deepEqual(empty.sizes, [5])
})

test('refuses sizes, spacings and labels that do not fit', async () => {
  const m = new Uint8Array(8)
  const size: Size = [2, 2, 2]
  const run = (f: () => unknown): Promise<unknown> => Promise.resolve().then(f)
  await rejectsWith(
    run(() => labelComponents(m, [2, 2, 3], 1)),
    'E_ARGS',
  )
  await rejectsWith(
    run(() => labelComponents(m, [2, 4, 1.5] as Size, 1)),
    'E_ARGS',
  )
  const rule: PostprocessRule = { label: 1, largestComponent: true }
  await rejectsWith(
    run(() => applyPostprocess(m, size, [1, 0, 1], [rule])),
    'E_ARGS',
  )
  await rejectsWith(
    run(() => applyPostprocess(m, size, [1, 1, 1], [{ label: 256, largestComponent: true }])),
    'E_ARGS',
  )
  await rejectsWith(
    run(() => applyPostprocess(m, size, [1, 1, 1], [{ label: 1, minIslandMm3: -1 }])),
    'E_ARGS',
  )
  await rejectsWith(
    run(() => applyPostprocess(m, size, [1, 1, 1], [rule], -1)),
    'E_ARGS',
  )
})

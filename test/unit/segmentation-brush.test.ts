import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Mat3, Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import { createLabelVolume, voxelVolumeMm3 } from '../../src/core/segmentation/label-volume.js'
import { brushSphere } from '../../src/core/segmentation/brush-sphere.js'
import { brushDisc } from '../../src/core/segmentation/brush-disc.js'
import { revertDelta } from '../../src/core/segmentation/label-delta.js'

const AXIAL: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1]
/** Rotation by 30° about z then 20° about x (orthonormal, oblique). */
const oblique = (): Mat3 => {
  const a = Math.PI / 6,
    b = Math.PI / 9
  const rz = [Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0, 0, 0, 1]
  const rx = [1, 0, 0, 0, Math.cos(b), -Math.sin(b), 0, Math.sin(b), Math.cos(b)]
  const m: number[] = []
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      m.push(rx[r * 3]! * rz[c]! + rx[r * 3 + 1]! * rz[3 + c]! + rx[r * 3 + 2]! * rz[6 + c]!)
    }
  }
  return m as unknown as Mat3
}
const geom = (size: Vec3, spacing: Vec3, dir: Mat3 = AXIAL): VolumeGeometry => ({
  sizeIJK: size,
  spacingMm: spacing,
  originLPS: [0, 0, 0],
  directionLPS: dir,
})
/** LPS point of continuous index c. */
const lps = (g: VolumeGeometry, c: Vec3): Vec3 => {
  const d = g.directionLPS,
    s = g.spacingMm
  return [0, 1, 2].map(
    (r) => d[r * 3]! * c[0] * s[0] + d[r * 3 + 1]! * c[1] * s[1] + d[r * 3 + 2]! * c[2] * s[2],
  ) as unknown as Vec3
}
const count = (a: ArrayLike<number>, v: number): number => {
  let n = 0
  for (let x = 0; x < a.length; x++) if (a[x] === v) n++
  return n
}

test('sphere on [0.7, 0.7, 3] spacing: volume within 2 % of 4/3·π·r³, work bounded by its box', () => {
  const g = geom([80, 80, 20], [0.7, 0.7, 3])
  const vol = createLabelVolume(g)
  const r = 20
  const d = brushSphere(vol, {
    centreLPS: lps(g, [40, 40, 10]),
    radiusMm: r,
    action: { kind: 'paint', value: 3 },
  })
  const mm3 = count(vol.labels, 3) * voxelVolumeMm3(g)
  const exact = (4 / 3) * Math.PI * r ** 3
  assert.ok(Math.abs(mm3 - exact) / exact < 0.02, `${mm3} vs ${exact}`)
  // The delta covers the sphere's box, not the volume.
  assert.ok(d.before.length < vol.labels.length)
  assert.equal(d.changed, count(vol.labels, 3))
})

test('oblique direction paints the same voxel count as axis-aligned (±2 %)', () => {
  const ga = geom([90, 90, 40], [0.8, 0.8, 1.5])
  const go = geom([90, 90, 40], [0.8, 0.8, 1.5], oblique())
  const a = createLabelVolume(ga)
  const o = createLabelVolume(go)
  brushSphere(a, {
    centreLPS: lps(ga, [45, 45, 20]),
    radiusMm: 15,
    action: { kind: 'paint', value: 1 },
  })
  brushSphere(o, {
    centreLPS: lps(go, [45, 45, 20]),
    radiusMm: 15,
    action: { kind: 'paint', value: 1 },
  })
  const ca = count(a.labels, 1),
    co = count(o.labels, 1)
  assert.ok(ca > 1000)
  assert.ok(Math.abs(ca - co) / ca < 0.02, `${ca} vs ${co}`)
})

test('threshold paint touches only in-range voxels; erase-one-label leaves the others', () => {
  const g = geom([30, 30, 30], [1, 1, 1])
  const vol = createLabelVolume(g)
  const intensity = new Int16Array(30 * 30 * 30).map((_, n) => (n % 7) * 100 - 200)
  vol.labels.fill(5)
  const before = vol.labels.slice()
  brushSphere(vol, {
    centreLPS: [15, 15, 15],
    radiusMm: 8,
    action: { kind: 'paint', value: 2 },
    gate: { intensity, range: [0, 200] },
  })
  let painted = 0
  for (let n = 0; n < vol.labels.length; n++) {
    if (vol.labels[n] !== before[n]) {
      painted++
      assert.ok(intensity[n]! >= 0 && intensity[n]! <= 200)
    }
  }
  assert.ok(painted > 100)
  // Erase only label 2 over a bigger sphere: label 5 untouched, 2 gone.
  brushSphere(vol, {
    centreLPS: [15, 15, 15],
    radiusMm: 12,
    action: { kind: 'erase', onlyLabel: 2 },
  })
  assert.equal(count(vol.labels, 2), 0)
  assert.equal(count(vol.labels, 5), count(before, 5) - painted)
  // Erase any: everything inside goes to 0; undo restores the exact bytes.
  const snap = vol.labels.slice()
  const d = brushSphere(vol, { centreLPS: [15, 15, 15], radiusMm: 3, action: { kind: 'erase' } })
  assert.ok(d.changed > 0)
  assert.equal(vol.labels[15 + 30 * (15 + 30 * 15)], 0)
  revertDelta(vol, d)
  assert.deepEqual(vol.labels, snap)
})

test('a disc centred between two slices paints the one the view shows (floor(k + 0.5))', () => {
  // The crosshair starts at the grid centre: between two slices when a size is even (ch2-crop's
  // 40 axial slices). The disc took neither; the view draws k = floor(19.5 + 0.5) = 20.
  const FLIP_K: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, -1]
  for (const [dir, normal] of [
    [AXIAL, [0, 0, 1]],
    [AXIAL, [0, 0, -1]],
    [FLIP_K, [0, 0, 1]],
  ] as [Mat3, Vec3][]) {
    const g = geom([20, 20, 40], [1, 1, 2], dir)
    const vol = createLabelVolume(g)
    const d = brushDisc(vol, {
      centreLPS: lps(g, [10, 10, 19.5]),
      normalLPS: normal,
      radiusMm: 4,
      action: { kind: 'paint', value: 1 },
    })
    const ks = new Set<number>()
    for (let n = 0; n < vol.labels.length; n++) if (vol.labels[n]) ks.add(Math.floor(n / 400))
    assert.deepEqual([...ks], [20], `direction ${dir.join(',')}, normal ${normal.join(',')}`)
    assert.ok(d.changed > 40)
  }
})

test('disc on an axial view paints one slice, a true circle in mm on anisotropic spacing', () => {
  const g = geom([100, 100, 10], [0.5, 1, 3])
  const vol = createLabelVolume(g)
  const r = 15
  brushDisc(vol, {
    centreLPS: lps(g, [50, 50, 5]),
    normalLPS: [0, 0, 1],
    radiusMm: r,
    action: { kind: 'paint', value: 1 },
  })
  const ks = new Set<number>()
  for (let n = 0; n < vol.labels.length; n++) if (vol.labels[n]) ks.add(Math.floor(n / 10000))
  assert.deepEqual([...ks], [5])
  const area = count(vol.labels, 1) * 0.5 * 1
  assert.ok(Math.abs(area - Math.PI * r * r) / (Math.PI * r * r) < 0.02, `${area}`)
  // A sagittal view (normal along i) paints one i-slice.
  const v2 = createLabelVolume(g)
  brushDisc(v2, {
    centreLPS: lps(g, [50, 50, 5]),
    normalLPS: [1, 0, 0],
    radiusMm: 6,
    action: { kind: 'paint', value: 1 },
  })
  const is = new Set<number>()
  for (let n = 0; n < v2.labels.length; n++) if (v2.labels[n]) is.add(n % 100)
  assert.deepEqual([...is], [50])
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { VolumeGeometry } from '../../src/shared/geometry.js'
import { createLabelVolume } from '../../src/core/segmentation/label-volume.js'
import { brushSphere } from '../../src/core/segmentation/brush-sphere.js'
import { floodFill } from '../../src/core/segmentation/flood-fill.js'
import { removeSmallIslands } from '../../src/core/segmentation/islands.js'
import {
  deltaBytes,
  EMPTY_BOX,
  labelChanges,
  makeDelta,
} from '../../src/core/segmentation/label-delta.js'
import { createHistory, pushStep, redo, undo } from '../../src/core/segmentation/history.js'

const g: VolumeGeometry = {
  sizeIJK: [20, 20, 10],
  spacingMm: [1, 1, 2],
  originLPS: [0, 0, 0],
  directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
}
const intensity = new Int16Array(4000).map((_, n) => (n * 37) % 100)

type Op = {
  kind: 'paint' | 'erase' | 'fill' | 'islands'
  x: number
  y: number
  z: number
  r: number
  v: number
}
const op = fc.record({
  kind: fc.constantFrom('paint' as const, 'erase' as const, 'fill' as const, 'islands' as const),
  x: fc.integer({ min: 0, max: 19 }),
  y: fc.integer({ min: 0, max: 19 }),
  z: fc.integer({ min: 0, max: 9 }),
  r: fc.integer({ min: 1, max: 6 }),
  v: fc.integer({ min: 1, max: 4 }),
})
const run = (vol: ReturnType<typeof createLabelVolume>, o: Op) => {
  const c = [o.x, o.y, o.z * 2] as const
  if (o.kind === 'paint') {
    return brushSphere(vol, { centreLPS: c, radiusMm: o.r, action: { kind: 'paint', value: o.v } })
  }
  if (o.kind === 'erase') {
    return brushSphere(vol, {
      centreLPS: c,
      radiusMm: o.r,
      action: { kind: 'erase', onlyLabel: o.v },
    })
  }
  if (o.kind === 'fill') {
    return floodFill(vol, { seedIJK: [o.x, o.y, o.z], intensity, range: [0, o.r * 15], value: o.v })
      .delta
  }
  return removeSmallIslands(vol, o.r * 4).delta
}

test('undo all then redo all restores exact bytes after random operations', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
      const vol = createLabelVolume(g)
      const h = createHistory(1 << 30)
      const states = [vol.labels.slice()]
      for (const o of ops) {
        pushStep(h, run(vol, o))
        if (h.undo.length === states.length) states.push(vol.labels.slice())
        else states[states.length - 1] = vol.labels.slice() // a no-op step is not recorded
      }
      const final = vol.labels.slice()
      for (let s = states.length - 2; s >= 0; s--) {
        assert.ok(undo(h, vol))
        assert.deepEqual(vol.labels, states[s])
      }
      assert.equal(undo(h, vol), false)
      while (redo(h, vol));
      assert.deepEqual(vol.labels, final)
    }),
    { numRuns: 60 },
  )
})

test('byte bound holds over 1,000 operations; dropped steps counted, oldest first', () => {
  const vol = createLabelVolume(g)
  const max = 20_000
  const h = createHistory(max)
  let pushed = 0
  fc.assert(
    fc.property(fc.array(op, { minLength: 1000, maxLength: 1000 }), (ops) => {
      for (const o of ops) {
        const d = run(vol, o)
        if (d.changed > 0) pushed++
        pushStep(h, d)
        assert.ok(h.bytes <= max)
        assert.equal(
          h.bytes,
          h.undo.reduce((s, x) => s + deltaBytes(x), 0),
        )
      }
    }),
    { numRuns: 1 },
  )
  assert.ok(h.dropped > 0)
  assert.equal(h.dropped + h.undo.length, pushed)
})

test('undo then a new step clears redo; a step over the bound is dropped and reported', () => {
  const vol = createLabelVolume(g)
  const h = createHistory(3000)
  pushStep(
    h,
    brushSphere(vol, { centreLPS: [5, 5, 5], radiusMm: 2, action: { kind: 'paint', value: 1 } }),
  )
  undo(h, vol)
  assert.equal(h.redo.length, 1)
  pushStep(
    h,
    brushSphere(vol, { centreLPS: [5, 5, 5], radiusMm: 2, action: { kind: 'paint', value: 2 } }),
  )
  assert.equal(h.redo.length, 0)
  // Whole-volume fill: 2 × 4000 bytes > 3000.
  pushStep(h, floodFill(vol, { seedIJK: [0, 0, 0], intensity, range: [0, 100], value: 3 }).delta)
  assert.equal(h.undo.length, 0)
  assert.equal(h.dropped, 2)
})

test('labelChanges: per-label net voxel change of a delta, touched labels only, 8 and 16 bit', () => {
  const d8 = makeDelta(
    [0, 0, 0, 6, 1, 1],
    new Uint8Array([0, 1, 1, 2, 2, 0]),
    new Uint8Array([1, 1, 3, 3, 0, 0]),
  )
  // 0→1, 1→3, 2→3, 2→0: label 0 −1+1, label 1 +1−1, label 2 −2, label 3 +2
  assert.deepEqual(
    [...labelChanges(d8)].sort((a, b) => a[0] - b[0]),
    [
      [0, 0],
      [1, 0],
      [2, -2],
      [3, 2],
    ],
  )
  const d16 = makeDelta([0, 0, 0, 2, 1, 1], new Uint16Array([300, 0]), new Uint16Array([0, 60000]))
  assert.deepEqual(
    [...labelChanges(d16)].sort((a, b) => a[0] - b[0]),
    [
      [0, 0],
      [300, -1],
      [60000, 1],
    ],
  )
  assert.equal(labelChanges(makeDelta(EMPTY_BOX, new Uint8Array(0), new Uint8Array(0))).size, 0)
})

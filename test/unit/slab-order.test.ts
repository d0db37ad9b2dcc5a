// Issue 14, streaming a volume in slabs: the order in which a viewer asks for its k slices.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { slabOrder, slabSlices } from '../../src/core/volume/slab-order.js'

test('slabs cover every slice exactly once, the one holding the start slice first, then outwards', () => {
  const order = slabOrder(300, 16, 149)
  assert.deepEqual(order[0], { firstK: 144, countK: 16 })
  // alternately above and below the first slab
  assert.deepEqual(order.slice(1, 3), [
    { firstK: 160, countK: 16 },
    { firstK: 128, countK: 16 },
  ])
  assert.deepEqual(order.at(-2), { firstK: 288, countK: 12 }, 'the short top slab is a short one')
  assert.deepEqual(order.at(-1), { firstK: 0, countK: 16 }, 'the bottom slab, as far, last')
  const seen = new Uint8Array(300)
  for (const s of order) for (let k = s.firstK; k < s.firstK + s.countK; k++) seen[k]! += 1
  assert.ok(
    seen.every((x) => x === 1),
    'each slice once',
  )
  // distance from the start never decreases by more than one slab as the order goes on
  const dist = order.map((s) => Math.abs(s.firstK / 16 - 9))
  for (let n = 1; n < dist.length; n++) assert.ok(dist[n]! >= dist[n - 1]! - 1)
})

test('edge cases: start at either end, one slab, slabs bigger than the volume, odd slab sizes', () => {
  assert.deepEqual(
    slabOrder(10, 4, 0).map((s) => s.firstK),
    [0, 4, 8],
  )
  assert.deepEqual(
    slabOrder(10, 4, 9).map((s) => s.firstK),
    [8, 4, 0],
  )
  assert.deepEqual(slabOrder(5, 100, 2), [{ firstK: 0, countK: 5 }])
  assert.deepEqual(slabOrder(1, 1, 0), [{ firstK: 0, countK: 1 }])
  assert.deepEqual(slabOrder(0, 4, 0), [])
  // a start slice outside the grid is clamped, a fractional slab size rounds down (at least 1)
  assert.deepEqual(slabOrder(6, 0.5, 99)[0], { firstK: 5, countK: 1 })
})

test('a small first slab, then bigger ones outwards: every slice once, nearest first', () => {
  const order = slabOrder(300, 16, 149, 64)
  assert.deepEqual(order[0], { firstK: 144, countK: 16 })
  assert.deepEqual(order.slice(1), [
    { firstK: 160, countK: 64 },
    { firstK: 80, countK: 64 },
    { firstK: 224, countK: 64 },
    { firstK: 16, countK: 64 },
    { firstK: 288, countK: 12 },
    { firstK: 0, countK: 16 },
  ])
  // the default rest size is the first's: the aligned slabs of before
  assert.deepEqual(slabOrder(300, 16, 149, 16), slabOrder(300, 16, 149))
  assert.deepEqual(slabOrder(10, 4, 9, 100), [
    { firstK: 8, countK: 2 },
    { firstK: 0, countK: 8 },
  ])
})

test('slabSlices: slices of a slab from its byte budget, at least one', () => {
  // 512×512 int16 slices (512 KiB) in 8 MiB slabs: 16 slices
  assert.equal(slabSlices(512 * 512 * 2, 8 << 20), 16)
  assert.equal(slabSlices(10 << 20, 8 << 20), 1, 'a slice bigger than the budget still goes')
  assert.equal(slabSlices(0, 8 << 20) >= 1, true)
})

// Result bytes from main to the page and back into the contract's shape: main's BytesOut
// (electron/main/voxel-port.ts) over a real MessageChannel into the page's BytesTickets
// (renderer/src/api/bytes-tickets.ts), in either arrival order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MessageChannel } from 'node:worker_threads'
import { BytesOut } from '../../electron/main/voxel-port.js'
import { BytesTickets } from '../../renderer/src/api/bytes-tickets.js'

test('voxels cross the port and the reply regains its bytes', async () => {
  const { port1, port2 } = new MessageChannel()
  const tickets = new BytesTickets()
  port2.on('message', (m: unknown) => tickets.take(m))
  const out = new BytesOut(port1)
  const a = new Uint8Array(1000).map((_, k) => k % 251)
  const b = new Uint8Array([9, 8, 7])
  const ra = out.detach({ ok: true, value: { volumeId: 'vol_a', byteLength: 1000, bytes: a } })
  const rb = out.detach({ ok: true, value: { volumeId: 'vol_b', byteLength: 3, bytes: b } })
  // The later reply is attached first: each waits for its own ticket.
  const [gb, ga] = await Promise.all([tickets.attach(rb), tickets.attach(ra)])
  assert.deepEqual(ga, { ok: true, value: { volumeId: 'vol_a', byteLength: 1000, bytes: a } })
  assert.deepEqual(gb, { ok: true, value: { volumeId: 'vol_b', byteLength: 3, bytes: b } })
  // Replies without bytes and failures pass unchanged; stray port messages are ignored.
  tickets.take({ ticket: 'x', bytes: 1 })
  const plain = { ok: true as const, value: { labels: [] } }
  assert.equal(await tickets.attach(plain), plain)
  const failed = { ok: false as const, error: { code: 'E_ARGS' as const, message: 'no' } }
  assert.equal(await tickets.attach(failed), failed)
  port1.close()
})

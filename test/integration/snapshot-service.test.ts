// The viewer's Snapshot through the one API: `volseg serve` (real server, WebSocket client, forked
// job workers), an image opened, a PNG sent with `saveSnapshot`. The PNG written into --out is the
// one sent (Python's PIL decodes it to the same pixels) with a sidecar naming the source's sha256,
// the model run and the views; payloads that are not a whole PNG, too big, or named to leave --out
// are refused and leave nothing behind.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  MAX_SNAPSHOT_BYTES,
  type OpenedVolume,
  type SaveSnapshotRequest,
  type SnapshotView,
  type SourceRef,
} from '../../src/shared/api.js'
import type { SnapshotSidecar } from '../../src/shared/export.js'
import { encodePngRgb } from '../../src/io/png/encode-png.js'
import type { NodeClient } from '../../src/serve/ws-node-client.js'
import { ROOT, derived, segmentToEnd, serveAndConnect } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-snapshot-'))
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

before(async () => {
  mkdirSync(data)
  mkdirSync(out)
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'crop.nii.gz'))
  ;({ c, stop } = await serveAndConnect(data, out, env))
  const r = await c.openSource({ source: 'crop.nii.gz' as SourceRef })
  assert.ok(r.ok && r.value.kind === 'volume', JSON.stringify(r))
  volume = r.value
})

after(async () => {
  await stop?.()
  rmSync(tmp, { recursive: true, force: true })
})

const W = 96
const H = 64

/** A 96×64 RGB picture: a grey ramp with an orange square (a label's colour) in it. */
function picture(): Buffer {
  const rgb = new Uint8Array(W * H * 3)
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const q = 3 * (y * W + x)
      const inSquare = x >= 20 && x < 40 && y >= 10 && y < 30
      rgb.set(inSquare ? [255, 200, 0] : [x * 2, x * 2, x * 2], q)
    }
  }
  return encodePngRgb({ width: W, height: H, rgb })
}

const VIEWS: SnapshotView[] = [
  { view: 'axial', title: 'Axial  S 1.0 mm · 10 / 20', x: 0, y: 0, width: 48, height: 64 },
  { view: '3d', title: '3D (LPS mm, anterior view)', x: 48, y: 0, width: 48, height: 64 },
]

function request(name: string, bytes: Uint8Array, extra: Partial<SaveSnapshotRequest> = {}) {
  return { volumeId: volume.volumeId, name, views: VIEWS, bytes, ...extra }
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** The out folder's names and contents, to show a refusal changed nothing. */
function outState(): string[][] {
  return readdirSync(out)
    .sort()
    .map((n) => [n, sha256(readFileSync(join(out, n)))])
}

test('saveSnapshot writes the PNG as sent (PIL decodes it) and a sidecar with source, model and views', async () => {
  // A model run, so the sidecar has a model to name (the fast threshold test pack).
  const { end: done } = await segmentToEnd(c, volume.volumeId, 'threshold')
  assert.equal(done.type, 'job:done', JSON.stringify(done))
  const labelsId = done.type === 'job:done' ? done.labels.labelsId : undefined
  const png = picture()
  const review = {
    labels: [
      {
        value: 1,
        name: 'above-mean',
        colourRGB: [255, 200, 0] as [number, number, number],
        status: 'accepted' as const,
      },
    ],
    updatedAt: '2026-12-07T08:00:00.000Z',
  }
  const r = await c.saveSnapshot(request('crop-snapshot', png, { labelsId, review }))
  assert.ok(r.ok, JSON.stringify(r))
  assert.deepEqual(
    [r.value.path, r.value.sidecarPath, r.value.width, r.value.height, r.value.bytes],
    ['crop-snapshot.png', 'crop-snapshot.snapshot.json', W, H, png.length],
  )
  assert.match(r.value.check, /bytes equal; decodes to 96×64 pixels/)
  const written = readFileSync(join(out, 'crop-snapshot.png'))
  assert.ok(written.equals(png))
  // An independent decoder: PIL reads the file back to the pixels drawn.
  const py = spawnSync(
    '/usr/bin/python3',
    [
      '-c',
      `import sys, json
from PIL import Image
im = Image.open(sys.argv[1]); im.load()
print(json.dumps({"size": im.size, "mode": im.mode, "square": im.getpixel((25, 15)), "ramp": im.getpixel((60, 50))}))`,
      join(out, 'crop-snapshot.png'),
    ],
    { encoding: 'utf8' },
  )
  assert.equal(py.status, 0, py.stderr)
  assert.deepEqual(JSON.parse(py.stdout), {
    size: [W, H],
    mode: 'RGB',
    square: [255, 200, 0],
    ramp: [120, 120, 120],
  })
  const side = JSON.parse(
    readFileSync(join(out, 'crop-snapshot.snapshot.json'), 'utf8'),
  ) as SnapshotSidecar
  assert.equal(side.format, 'volseg-snapshot')
  assert.deepEqual(side.image, {
    file: 'crop-snapshot.png',
    width: W,
    height: H,
    bytes: png.length,
    sha256: sha256(png),
  })
  assert.equal(side.source.name, 'crop.nii.gz')
  assert.deepEqual(side.source.files, [
    {
      name: 'crop.nii.gz',
      sha256: sha256(readFileSync(join(data, 'crop.nii.gz'))),
      bytes: readFileSync(join(data, 'crop.nii.gz')).length,
    },
  ])
  assert.deepEqual(side.source.geometry.sizeIJK, volume.geometry.sizeIJK)
  assert.equal(side.labelsShown, true)
  assert.equal(side.model?.id, 'threshold')
  assert.equal(side.model?.provider, 'cpu')
  assert.deepEqual(side.review, review)
  assert.deepEqual(side.views, VIEWS)
  assert.ok(Math.abs(Date.parse(side.savedAt) - Date.now()) < 600_000)

  // The same name again: refused, the first snapshot left as it was.
  const before = outState()
  const again = await c.saveSnapshot(request('crop-snapshot', picture()))
  assert.ok(!again.ok && again.error.code === 'E_WRITE', JSON.stringify(again))
  assert.deepEqual(outState(), before)
})

test('saveSnapshot refuses what is not a whole PNG, too big, or named to leave --out; nothing is written', async () => {
  const png = picture()
  const before = outState()
  const refused = async (
    why: string,
    req: ReturnType<typeof request>,
    code: string,
    message: RegExp,
  ): Promise<void> => {
    const r = await c.saveSnapshot(req)
    assert.ok(!r.ok, `${why}: accepted`)
    assert.equal(r.error.code, code, `${why}: ${JSON.stringify(r.error)}`)
    assert.match(r.error.message, message, why)
    assert.deepEqual(outState(), before, `${why}: --out changed`)
  }
  // Not a PNG at all: a JPEG's first bytes, then text.
  await refused(
    'JPEG bytes',
    request(
      'a',
      new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...Buffer.from('not a png at all, really')]),
    ),
    'E_ARGS',
    /not a PNG \(no PNG signature\)/,
  )
  await refused(
    'text',
    request('a', Buffer.from('hello world, this is text')),
    'E_ARGS',
    /not a PNG/,
  )
  // Too big: one byte over the bound is refused by the gate before any handler runs.
  const big = new Uint8Array(MAX_SNAPSHOT_BYTES + 1)
  big.set(png)
  await refused(
    'over MAX_SNAPSHOT_BYTES',
    request('a', big),
    'E_ARGS',
    /invalid arguments for saveSnapshot/,
  )
  // A header claiming 20000 pixels a side.
  const wide = Buffer.from(png)
  wide.writeUInt32BE(20000, 16)
  await refused('20000 pixels wide', request('a', wide), 'E_TOO_LARGE', /larger than 16384 pixels/)
  // Views that lie outside the picture.
  await refused(
    'view outside',
    request('a', png, { views: [{ ...VIEWS[0]!, x: 90 }] }),
    'E_ARGS',
    /axial view lies outside its 96×64 pixels/,
  )
  // The checks of the worker: a flipped bit in the image data (CRC), a file cut short, a
  // chunk claiming more bytes than there are, image data for fewer rows than IHDR says.
  const flipped = Buffer.from(png)
  flipped[png.length - 20]! ^= 0x10
  await refused('flipped bit', request('a', flipped), 'E_BAD_HEADER', /CRC does not match/)
  await refused(
    'cut short',
    request('a', png.subarray(0, png.length - 12)),
    'E_TRUNCATED',
    /no IEND/,
  )
  const tall = Buffer.from(png)
  tall.writeUInt32BE(H + 1, 20)
  const { crc32 } = await import('../../src/io/png/encode-png.js')
  tall.writeUInt32BE(crc32(tall.subarray(12, 29)), 29)
  await refused('rows missing', request('a', tall), 'E_TRUNCATED', /image data has .* bytes/)
  // Names that would leave --out: refused at the gate.
  for (const name of ['../escape', 'sub/x', '..\\x', '.hidden']) {
    await refused(`name ${name}`, request(name, png), 'E_ARGS', /invalid arguments/)
  }
  // A name taken by a link that leads out of --out: refused, the file behind it untouched.
  const outside = join(tmp, 'outside.png')
  writeFileSync(outside, 'outside')
  symlinkSync(outside, join(out, 'linked.png'))
  const withLink = outState()
  const r = await c.saveSnapshot(request('linked', png))
  assert.ok(!r.ok && r.error.code === 'E_WRITE', JSON.stringify(r))
  assert.equal(readFileSync(outside, 'utf8'), 'outside')
  assert.deepEqual(outState(), withLink)
  rmSync(join(out, 'linked.png'))
  // No temp file was left behind by any of them.
  assert.deepEqual(
    readdirSync(out).filter((n) => n.startsWith('.')),
    [],
  )
})

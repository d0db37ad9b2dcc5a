/**
 * Issue 13 items 6 and 9, through the real server, service and forked workers: what a connection
 * opens belongs to it and is released after a grace period (or resumed by a reloaded page), and
 * one admission control bounds volumes, workers, held bytes and segmentation memory across every
 * connection. Each test starts its own service with small limits.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, test } from 'node:test'
import type {
  ApiEvent,
  JobId,
  ModelId,
  OpenedVolume,
  SourceRef,
  VolumeId,
} from '../../src/shared/api.js'
import type * as Serve from '../../src/cli/serve.js'
import type { AdmissionLimits } from '../../src/service/admission.js'
import type * as Service from '../../src/service/create-service.js'
import type * as Server from '../../src/serve/server.js'
import { connectNodeClient, type NodeClient } from '../../src/serve/ws-node-client.js'
import { ROOT, derived, fixture } from '../helpers.js'

// The built stack: the fork runner forks `./worker.js` next to itself, which only dist/ has.
const load = async <T>(...p: string[]): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', ...p)).href)) as T
const { forkRunner } = await load<typeof Serve>('cli', 'serve.js')
const { createService } = await load<typeof Service>('service', 'create-service.js')
const { startServer } = await load<typeof Server>('serve', 'server.js')
type VolsegService = Service.VolsegService
type RunningServer = Server.RunningServer

const tmp = mkdtempSync(join(tmpdir(), 'volseg-sessions-'))
const data = join(tmp, 'data')
mkdirSync(data)
copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'crop.nii.gz'))
copyFileSync(fixture('ch2.nii.gz'), join(data, 'ch2.nii.gz'))
process.env.VOLSEG_MODELS = join(ROOT, 'test', 'tiny-model', 'packs')
process.env.VOLSEG_HOME = join(tmp, 'home')

const CROP = 'crop.nii.gz' as SourceRef
/** Bytes of crop.nii.gz's voxels (140×160×40 uint8), and of a uint8 label map on its grid. */
const CROP_BYTES = 140 * 160 * 40

interface Rig {
  readonly service: VolsegService
  readonly server: RunningServer
  connect(): Promise<NodeClient>
  stop(): Promise<void>
}

const rigs: Rig[] = []
after(async () => {
  for (const r of rigs) await r.stop()
  rmSync(tmp, { recursive: true, force: true })
})

async function rig(limits: Partial<AdmissionLimits>, sessionGraceMs = 400): Promise<Rig> {
  const out = mkdtempSync(join(tmp, 'out-'))
  const service = await createService({
    dataRoot: data,
    outDir: out,
    runner: forkRunner,
    limits,
    sessionGraceMs,
  })
  const server = await startServer({
    service,
    staticRoot: join(ROOT, 'renderer', 'dist'),
    port: 0,
  })
  const clients: NodeClient[] = []
  const r: Rig = {
    service,
    server,
    async connect() {
      const c = await connectNodeClient(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`)
      clients.push(c)
      return c
    },
    async stop() {
      for (const c of clients) c.close()
      await server.close()
      await service.close()
    },
  }
  rigs.push(r)
  return r
}

async function openCrop(c: NodeClient): Promise<OpenedVolume> {
  const r = await c.openSource({ source: CROP })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.kind, 'volume')
  return r.value as OpenedVolume
}

/** Closes `c` and resolves once the server has seen the close. */
async function hangUp(r: Rig, c: NodeClient): Promise<void> {
  const before = r.service.stats().sessions
  c.close()
  await c.closed
  for (let t = 0; t < 100 && r.service.stats().sessions >= before; t++) await sleep(10)
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms))

/** Pids of this process's forked job workers (`dist/jobs/worker.js`), as `ps` lists them. */
function workerPids(): number[] {
  const outText = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], {
    encoding: 'utf8',
  })
  return outText
    .split('\n')
    .filter((l) => l.includes('worker.js'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
}

test('item 6: pages that went away do not lock the next one out; their volumes are released', async () => {
  const r = await rig({ maxVolumes: 3 }, 4000)
  // Three "reloads" without resuming: each page opened a volume, then went away.
  for (let k = 0; k < 3; k++) {
    const c = await r.connect()
    await openCrop(c)
    await hangUp(r, c)
  }
  assert.equal(r.service.stats().volumes, 3)
  const next = await r.connect()
  // Within the grace period the slots are still taken: a clear refusal, not a crash.
  const early = await next.openSource({ source: CROP })
  assert.ok(!early.ok)
  assert.equal(early.error.code, 'E_BUSY')
  assert.match(early.error.message, /3 volumes are open .*limit is 3.*close one/)
  // After it, everything the gone pages held is released, and the page can open.
  for (let t = 0; t < 100 && r.service.stats().volumes > 0; t++) await sleep(100)
  assert.equal(r.service.stats().volumes, 0)
  assert.equal(r.service.stats().heldBytes, 0)
  assert.equal(r.service.stats().detachedSessions, 0)
  const v = await openCrop(next)
  const held = await next.listHeld({})
  assert.ok(held.ok)
  assert.deepEqual(
    held.value.volumes.map((x) => x.volume.volumeId),
    [v.volumeId],
  )
  assert.ok((await next.closeVolume({ volumeId: v.volumeId })).ok)
  const empty = await next.listHeld({})
  assert.ok(empty.ok)
  assert.equal(empty.value.volumes.length, 0)
})

test('item 6: a reloaded page resumes its session: same volume, same result, nothing duplicated', async () => {
  const r = await rig({}, 300)
  const a = await r.connect()
  const hello = await a.hello({})
  assert.ok(hello.ok)
  const key = hello.value.session!.key
  assert.match(key, /^ses_[0-9a-f]{32}$/)
  const v = await openCrop(a)
  const done = new Promise<ApiEvent>((res) =>
    a.onEvent((e) => {
      if (e.type === 'job:done' || e.type === 'job:failed') res(e)
    }),
  )
  const job = await a.startSegmentation({
    volumeId: v.volumeId,
    modelId: 'threshold' as ModelId,
    provider: 'cpu',
  })
  assert.ok(job.ok, JSON.stringify(job))
  const ended = await done
  assert.equal(ended.type, 'job:done', JSON.stringify(ended))
  await hangUp(r, a)

  // Another connection cannot see it, even with the id.
  const stranger = await r.connect()
  const peek = await stranger.readVoxels({ volumeId: v.volumeId })
  assert.ok(!peek.ok)
  assert.equal(peek.error.code, 'E_ARGS')

  const b = await r.connect()
  const resumed = await b.resumeSession({ key })
  assert.ok(resumed.ok, JSON.stringify(resumed))
  assert.deepEqual(
    resumed.value.volumes.map((x) => x.volume.volumeId),
    [v.volumeId],
  )
  assert.equal(resumed.value.volumes[0]!.labels.length, 1)
  assert.deepEqual(resumed.value.jobs, [
    { jobId: job.value.jobId, volumeId: v.volumeId, state: 'done' },
  ])
  const voxels = await b.readVoxels({ volumeId: v.volumeId })
  assert.ok(voxels.ok)
  assert.equal(voxels.value.byteLength, CROP_BYTES)
  const labels = await b.readLabels({ jobId: job.value.jobId as JobId })
  assert.ok(labels.ok)
  // The grace period of the old connection no longer applies: it is kept past it.
  await sleep(600)
  assert.equal(r.service.stats().volumes, 1)
  assert.ok((await b.readVoxels({ volumeId: v.volumeId })).ok)
  // A key is resumed once; a connected session cannot be taken over.
  const again = await stranger.resumeSession({ key })
  assert.ok(!again.ok)
  const bKey = await b.hello({})
  assert.ok(bKey.ok)
  const steal = await stranger.resumeSession({ key: bKey.value.session!.key })
  assert.ok(!steal.ok)
  assert.match(steal.error.message, /still connected/)
})

test('item 6: a reload that asks before the server saw its old socket close still resumes', async () => {
  const r = await rig({}, 300)
  const a = await r.connect()
  const hello = await a.hello({})
  assert.ok(hello.ok)
  const v = await openCrop(a)
  // The new page asks first; the old socket closes 150 ms later (the order a reload can take).
  const b = await r.connect()
  const asked = b.resumeSession({ key: hello.value.session!.key })
  await sleep(150)
  a.close()
  const resumed = await asked
  assert.ok(resumed.ok, JSON.stringify(resumed))
  assert.deepEqual(
    resumed.value.volumes.map((x) => x.volume.volumeId),
    [v.volumeId],
  )
  assert.equal(r.service.stats().volumes, 1, 'no second copy')
})

test('item 9: concurrent opens from many connections cannot pass the volume cap or the worker cap', async () => {
  const r = await rig({ maxVolumes: 3, maxWorkers: 2 })
  const clients = await Promise.all(Array.from({ length: 10 }, () => r.connect()))
  let maxWorkers = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      maxWorkers = Math.max(maxWorkers, workerPids().length)
      await sleep(20)
    }
  })()
  const results = await Promise.all(clients.map((c) => c.openSource({ source: CROP })))
  sampling = false
  await sampler
  const opened = results.filter((x) => x.ok)
  const refused = results.filter((x) => !x.ok)
  assert.equal(opened.length, 3)
  assert.equal(refused.length, 7)
  for (const x of refused) assert.ok(!x.ok && x.error.code === 'E_BUSY', JSON.stringify(x))
  assert.equal(r.service.stats().volumes, 3)
  assert.ok(maxWorkers >= 1 && maxWorkers <= 2, `at most 2 workers at once, saw ${maxWorkers}`)
})

test('item 9: held bytes are bounded for volumes and uploaded label maps alike', async () => {
  // Room for one volume and one uint8 label map on its grid, not more.
  const r = await rig({ maxHeldBytes: 2 * CROP_BYTES + 1000 })
  const a = await r.connect()
  const b = await r.connect()
  const v = await openCrop(a)
  const upload = (): ReturnType<NodeClient['uploadLabels']> =>
    a.uploadLabels({
      volumeId: v.volumeId as VolumeId,
      dataType: 'uint8',
      sizeIJK: [140, 160, 40],
      bytes: new Uint8Array(CROP_BYTES),
    })
  assert.ok((await upload()).ok)
  const again = await upload()
  assert.ok(!again.ok)
  assert.equal(again.error.code, 'E_TOO_LARGE')
  assert.match(again.error.message, /a label map for crop\.nii\.gz needs/)
  // The same one budget refuses another connection's open.
  const second = await b.openSource({ source: CROP })
  assert.ok(!second.ok)
  assert.equal(second.error.code, 'E_TOO_LARGE')
  assert.match(second.error.message, /already holds .* for open images and label maps/)
  // Closing the volume releases it all: the other page can open now.
  assert.ok((await a.closeVolume({ volumeId: v.volumeId })).ok)
  assert.equal(r.service.stats().heldBytes, 0)
  await openCrop(b)
})

test('item 9: concurrent segmentations queue and share one memory budget', async () => {
  // Measure what one run of tiny-unet on crop plans for.
  const probe = await rig({})
  const p = await probe.connect()
  const pv = await openCrop(p)
  const planned = await segment(p, pv.volumeId)
  assert.equal(planned.end, 'job:done')
  assert.ok(planned.plannedMemoryBytes > 0)

  // Budget for 1.5 runs: one at a time fits; split between two concurrent runs it does not.
  const budget = Math.floor(planned.plannedMemoryBytes * 1.5)
  const one = await rig({ inferenceBudgetBytes: budget, maxSegmentations: 1 })
  const [c1, c2] = [await one.connect(), await one.connect()]
  const [v1, v2] = [await openCrop(c1), await openCrop(c2)]
  const [s1, s2] = await Promise.all([segment(c1, v1.volumeId), segment(c2, v2.volumeId)])
  assert.deepEqual([s1.end, s2.end], ['job:done', 'job:done'])
  // The second waited for the first (queued, with the number of jobs ahead).
  assert.equal([s1, s2].filter((s) => s.queued).length, 1)

  const two = await rig({ inferenceBudgetBytes: budget, maxSegmentations: 2 })
  const c3 = await two.connect()
  const v3 = await openCrop(c3)
  const s3 = await segment(c3, v3.volumeId)
  assert.equal(s3.end, 'job:failed')
  assert.equal(s3.error?.code, 'E_TOO_LARGE')
  assert.match(s3.error?.message ?? '', /more than the .* allowed/)
})

interface SegmentOutcome {
  readonly end: ApiEvent['type']
  readonly queued: boolean
  readonly plannedMemoryBytes: number
  readonly error?: { code: string; message: string }
}

async function segment(c: NodeClient, volumeId: VolumeId): Promise<SegmentOutcome> {
  const events: ApiEvent[] = []
  const ends = new Set<ApiEvent['type']>(['job:done', 'job:failed', 'job:cancelled'])
  let wake = (): void => undefined
  c.onEvent((e) => {
    events.push(e)
    if (ends.has(e.type)) wake()
  })
  const start = await c.startSegmentation({
    volumeId,
    modelId: 'tiny-unet' as ModelId,
    provider: 'cpu',
  })
  assert.ok(start.ok, JSON.stringify(start))
  const jobId = start.value.jobId
  const mine = (): ApiEvent[] => events.filter((e) => e.jobId === jobId)
  while (!mine().some((e) => ends.has(e.type))) {
    await new Promise<void>((res) => (wake = res))
  }
  const last = mine().at(-1)!
  const plan = mine().find((e) => e.type === 'job:plan')
  return {
    end: last.type,
    queued: mine().some((e) => e.type === 'job:queued'),
    plannedMemoryBytes: plan?.type === 'job:plan' ? plan.plannedMemoryBytes : 0,
    ...(last.type === 'job:failed' ? { error: last.error } : {}),
  }
}

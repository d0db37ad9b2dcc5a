// Issue 18, the review worklist: a cohort planned, segmented (threshold test pack) and reported
// by the real CLI, then `volseg serve --cohort` through the real server API (WebSocket, gate,
// service, forked workers): the worklist in the report's order, a case opened by id with its
// mask as labels, reviews saved beside the mask as new files, the report written again with the
// case's state; refusals of an unknown id, of another case's volume, of a folder that is not a
// cohort, and of the cohort methods on a server started without --cohort.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, test } from 'node:test'
import type { LabelsId, ReviewRecord, VolumeId } from '../../src/shared/api.js'
import type { CohortReport } from '../../src/shared/cohort-report.js'
import type { ReviewFile } from '../../src/shared/review-file.js'
import { connectNodeClient, type NodeClient } from '../../src/serve/ws-node-client.js'
import type * as CreateService from '../../src/service/create-service.js'
import type * as Serve from '../../src/cli/serve.js'
import { makeSmallCohort } from '../cohort-fixture.js'
import { ROOT, python, runVolseg } from '../helpers.js'

const BIN = join(ROOT, 'bin', 'volseg.mjs')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-worklist-'))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
let cohort: string
let data: string
let proc: ChildProcess | undefined
let api: NodeClient
let serveLog = ''

const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T
const sha256 = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex')

/** Starts `volseg serve` with `args`; resolves the printed URL, or rejects with its exit. */
function serve(args: readonly string[]): Promise<{ proc: ChildProcess; url: string }> {
  const p = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  })
  return new Promise((resolveUrl, reject) => {
    let stdout = ''
    p.stderr!.on('data', (d: Buffer) => (serveLog += d.toString()))
    p.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /^VolSeg serving at (http:\/\/\S+)$/m.exec(stdout)
      if (m) resolveUrl({ proc: p, url: m[1]! })
    })
    p.once('exit', (code) => reject(new Error(`serve exited ${code}: ${serveLog}`)))
  })
}

before(async () => {
  ;({ data, cohort } = makeSmallCohort(tmp, env, true))
  const s = await serve([
    '--data',
    data,
    '--out',
    join(tmp, 'out'),
    '--recovery',
    join(tmp, 'recovery'),
    '--cohort',
    cohort,
  ])
  proc = s.proc
  api = await connectNodeClient(s.url)
})

after(async () => {
  api?.close()
  if (proc && proc.exitCode === null) {
    const gone = new Promise((r) => proc!.once('exit', r))
    proc.kill('SIGTERM')
    await gone
  }
  rmSync(tmp, { recursive: true, force: true })
})

/** The one label of the threshold pack, with `status` (and `reason`). */
const review = (status: 'accepted' | 'edited' | 'rejected', reason?: string): ReviewRecord => ({
  labels: [
    {
      value: 1,
      name: 'above-mean',
      colourRGB: [230, 25, 75],
      status,
      ...(reason === undefined ? {} : { reason }),
    },
  ],
  updatedAt: new Date().toISOString(),
})

/** Voxels of label 1 in a mask, by nibabel. */
const labelVoxels = (mask: string): number =>
  python<number>(
    'import json, sys, nibabel as nib, numpy as np\nprint(json.dumps(int((np.asarray(nib.load(sys.argv[1]).dataobj) == 1).sum())))',
    [mask],
  )

test('the worklist is the report in its order; cases open by id with their mask', async () => {
  const hello = await api.hello({})
  assert.ok(hello.ok)
  assert.deepEqual(hello.value.cohort, { name: 'cohort', cases: 4 })
  assert.equal(hello.value.sampleSource, null, 'a reviewer starts from the worklist')
  const report = readJson<CohortReport>(join(cohort, 'report.json'))
  const w = await api.cohortWorklist({})
  assert.ok(w.ok, JSON.stringify(w))
  assert.deepEqual(
    w.value.cases.map((c) => c.id),
    report.cases.map((c) => c.id),
  )
  assert.equal(w.value.cases[0]!.id, 'trunc', 'worst first: the failed case')
  assert.equal(w.value.cases[0]!.status, 'failed')
  assert.deepEqual(
    w.value.cases.find((c) => c.id === 'z-qs')!.qc.map((f) => f.code),
    ['geometry'],
  )
  assert.equal(w.value.reviewed, 0)
  assert.equal(w.value.name, 'cohort')
  // No path of the server's disk in what the UI is sent.
  assert.ok(!JSON.stringify(w.value).includes(tmp), 'no absolute path in the worklist')

  const opened = await api.openCohortCase({ caseId: 'z-qs' })
  assert.ok(opened.ok, JSON.stringify(opened))
  assert.equal(opened.value.volume.caseId, 'z-qs')
  assert.deepEqual(opened.value.volume.geometry.sizeIJK, [140, 160, 40])
  assert.equal(opened.value.labels?.path, 'masks/z-qs_seg.nii.gz')
  assert.equal(opened.value.labels?.review, undefined, 'not reviewed yet')
  const fg = opened.value.labels!.labels.labels.find((l) => l.value === 1)!
  assert.equal(fg.name, 'above-mean', "named as the cohort's model names it")
  assert.equal(fg.voxels, labelVoxels(join(cohort, 'masks', 'z-qs_seg.nii.gz')))
  assert.ok(!JSON.stringify(opened.value).includes(tmp), 'no absolute path in the answer')

  // The failed case: its input is truncated, and the reader says so.
  const failed = await api.openCohortCase({ caseId: 'trunc' })
  assert.equal(failed.ok, false)
  assert.equal(!failed.ok && failed.error.code, 'E_TRUNCATED')
})

test('refusals: unknown or malformed id, another case’s volume, a review missing a label', async () => {
  const unknown = await api.openCohortCase({ caseId: 'nope' })
  assert.equal(unknown.ok, false)
  assert.equal(!unknown.ok && unknown.error.code, 'E_NOT_FOUND')
  assert.match(!unknown.ok ? unknown.error.message : '', /no case "nope" in the cohort cohort/)
  // A path instead of an id never reaches the service: the gate's guard refuses it.
  for (const caseId of ['../a', 'masks/a', '.hidden', '']) {
    const r = await api.call('openCohortCase', { caseId })
    assert.equal(r.ok, false, caseId)
    assert.equal(!r.ok && r.error.code, 'E_ARGS', caseId)
  }
  const a = await api.openCohortCase({ caseId: 'a' })
  assert.ok(a.ok && a.value.labels)
  const asB = await api.saveCohortCase({
    caseId: 'b',
    volumeId: a.value.volume.volumeId,
    labelsId: a.value.labels.labels.labelsId,
    review: review('accepted'),
  })
  assert.equal(asB.ok, false)
  assert.match(!asB.ok ? asB.error.message : '', /not that case's image/)
  const noLabel = await api.saveCohortCase({
    caseId: 'a',
    volumeId: a.value.volume.volumeId,
    labelsId: a.value.labels.labels.labelsId,
    review: { labels: [], updatedAt: new Date().toISOString() },
  })
  assert.equal(noLabel.ok, false)
  assert.match(!noLabel.ok ? noLabel.error.message : '', /does not list label value 1/)
  await api.closeVolume({ volumeId: a.value.volume.volumeId })
})

test('saving a review writes a new mask + review beside the model’s, and the report carries it', async () => {
  const model = join(cohort, 'masks', 'z-qs_seg.nii.gz')
  const modelSha = sha256(model)
  const htmlBefore = readFileSync(join(cohort, 'report.html'), 'utf8')
  const generatedAt = readJson<CohortReport>(join(cohort, 'report.json')).generatedAt
  const opened = await api.openCohortCase({ caseId: 'z-qs' })
  assert.ok(opened.ok && opened.value.labels)
  const volumeId: VolumeId = opened.value.volume.volumeId
  // An edit: the label's first 1000 voxels (in file order) erased, handed up as the viewer does.
  const block = await api.readLabels({ labelsId: opened.value.labels.labels.labelsId })
  assert.ok(block.ok)
  const bytes = block.value.bytes.slice()
  let erased = 0
  for (let x = 0; x < bytes.length && erased < 1000; x++) {
    if (bytes[x] === 1) {
      bytes[x] = 0
      erased++
    }
  }
  const up = await api.uploadLabels({
    volumeId,
    dataType: 'uint8',
    sizeIJK: opened.value.volume.geometry.sizeIJK,
    bytes,
  })
  assert.ok(up.ok)
  const r = await api.saveCohortCase({
    caseId: 'z-qs',
    volumeId,
    labelsId: up.value.labelsId as LabelsId,
    review: review('edited'),
  })
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.value.saved.path, 'masks/z-qs_seg-1.nii.gz')
  assert.equal(r.value.saved.reviewPath, 'masks/z-qs_seg-1.review.json')
  assert.deepEqual(r.value.warnings, [])
  assert.equal(sha256(model), modelSha, "the model's mask is untouched")
  const saved = join(cohort, 'masks', 'z-qs_seg-1.nii.gz')
  assert.equal(labelVoxels(saved), labelVoxels(model) - 1000)
  const rf = readJson<ReviewFile>(join(cohort, 'masks', 'z-qs_seg-1.review.json'))
  assert.equal(rf.mask, 'z-qs_seg-1.nii.gz')
  assert.equal(rf.review.labels[0]!.status, 'edited')

  // The report on disk carries the state and is back in worklist order (reviewed last).
  const rep = readJson<CohortReport>(join(cohort, 'report.json'))
  const row = rep.cases.find((c) => c.id === 'z-qs')!
  assert.equal(row.review.status, 'edited')
  assert.equal(row.review.file, 'masks/z-qs_seg-1.review.json')
  assert.equal(rep.cases.at(-1)!.id, 'z-qs')
  assert.deepEqual(
    r.value.worklist.cases.map((c) => c.id),
    rep.cases.map((c) => c.id),
  )
  assert.equal(r.value.worklist.reviewed, 1)
  assert.match(
    readFileSync(join(cohort, 'report.csv'), 'utf8'),
    /\nz-qs,ok,.*,edited,masks\/z-qs_seg-1\.review\.json,/,
  )
  const html = readFileSync(join(cohort, 'report.html'), 'utf8')
  const pngs = (h: string): string[] =>
    [...h.matchAll(/data:image\/png;base64,[A-Za-z0-9+/=]+/g)].map((m) => m[0])
  assert.deepEqual(pngs(html), pngs(htmlBefore), 'the montage is kept as the report made it')
  assert.ok(html.includes('<td data-v="edited">edited</td>'))
  // The QC figures are those the report computed (no image re-read).
  assert.equal(rep.generatedAt, generatedAt)

  // Opened again, the case shows the reviewed mask with its review.
  const again = await api.openCohortCase({ caseId: 'z-qs' })
  assert.ok(again.ok && again.value.labels)
  assert.equal(again.value.labels.path, 'masks/z-qs_seg-1.nii.gz')
  assert.equal(again.value.labels.review?.labels[0]!.status, 'edited')

  // A second case rejected without an edit: its own new file, the reason in the report.
  const b = await api.openCohortCase({ caseId: 'b' })
  assert.ok(b.ok && b.value.labels)
  const rb = await api.saveCohortCase({
    caseId: 'b',
    volumeId: b.value.volume.volumeId,
    labelsId: b.value.labels.labels.labelsId,
    review: review('rejected', 'flipped left-right'),
  })
  assert.ok(rb.ok, JSON.stringify(rb))
  assert.equal(rb.value.saved.path, 'masks/b_seg-1.nii.gz')
  assert.equal(rb.value.worklist.reviewed, 2)
  const rep2 = readJson<CohortReport>(join(cohort, 'report.json'))
  assert.deepEqual(rep2.cases.find((c) => c.id === 'b')!.review.reasons, ['flipped left-right'])
  assert.equal(rep2.cases.find((c) => c.id === 'b')!.review.status, 'rejected')
  assert.equal(rep2.cases.find((c) => c.id === 'z-qs')!.review.status, 'edited')
  // `volseg cohort report` made again reads the same states.
  const again2 = runVolseg(['cohort', 'report', cohort, '--json'], { env })
  assert.equal(again2.code, 0, again2.stderr)
  const full = JSON.parse(again2.stdout) as CohortReport
  assert.deepEqual(
    full.cases.map((c) => [c.id, c.review.status]),
    rep2.cases.map((c) => [c.id, c.review.status]),
  )
})

test('serve --cohort refuses a folder that is not a cohort, naming what is missing', () => {
  const r = runVolseg(['serve', '--port', '0', '--data', data, '--cohort', data], {
    env,
    timeoutMs: 60_000,
  })
  assert.equal(r.code, 1)
  assert.match(r.stderr, /manifest\.json: no cohort manifest here \(run volseg cohort plan\)/)
  const noResults = join(tmp, 'half')
  mkdirSync(noResults)
  const m = readFileSync(join(cohort, 'manifest.json'))
  writeFileSync(join(noResults, 'manifest.json'), m)
  const r2 = runVolseg(['serve', '--port', '0', '--data', data, '--cohort', noResults], {
    env,
    timeoutMs: 60_000,
  })
  assert.equal(r2.code, 1)
  assert.match(r2.stderr, /results: not a cohort folder: it has no results\//)
  const r3 = runVolseg(['serve', '--port', '0', '--cohort', join(tmp, 'none')], { env })
  assert.equal(r3.code, 1)
  assert.match(r3.stderr, /no such cohort folder/)
})

test('a server started without --cohort refuses the cohort methods', async () => {
  const dist = async <T>(...parts: string[]): Promise<T> =>
    (await import(pathToFileURL(join(ROOT, 'dist', ...parts)).href)) as T
  const { createService } = await dist<typeof CreateService>('service', 'create-service.js')
  const { forkRunner } = await dist<typeof Serve>('cli', 'serve.js')
  const service = await createService({
    dataRoot: data,
    outDir: join(tmp, 'out2'),
    runner: forkRunner,
  })
  try {
    const s = service.openSession()
    const hello = await s.hello({})
    assert.ok(hello.ok)
    assert.equal(hello.value.cohort, undefined)
    for (const r of [await s.cohortWorklist({}), await s.openCohortCase({ caseId: 'a' })]) {
      assert.equal(r.ok, false)
      assert.match(!r.ok ? r.error.message : '', /not started with --cohort/)
    }
  } finally {
    await service.close()
  }
})

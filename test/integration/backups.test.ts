// Issue 14, "never lose an edit": the service keeps the viewer's unsaved edits in a recovery
// folder (atomic, never under --data or --out), finds them again for the same source file only
// (a changed file gets no stale offer), restores them as labels with their review, and drops them
// on discard and after a save. An unclean-exit marker tells a crashed run from a clean one.
// Real forked workers, built `dist/`.
import assert from 'node:assert/strict'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
} from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, test } from 'node:test'
import type { OpenedVolume, ReviewRecord, SourceRef, VolumeId } from '../../src/shared/api.js'
import type * as CreateService from '../../src/service/create-service.js'
import type * as Backups from '../../src/service/backups.js'
import type * as Serve from '../../src/cli/serve.js'
import { ROOT, fixture } from '../helpers.js'

const dist = async <T>(...parts: string[]): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', ...parts)).href)) as T

const tmp = mkdtempSync(join(tmpdir(), 'volseg-backups-'))
const data = join(tmp, 'data')
const out = join(tmp, 'out')
const recovery = join(tmp, 'state', 'recovery')
let createService: typeof CreateService.createService
let forkRunner: typeof Serve.forkRunner
let service: CreateService.VolsegService
let api: CreateService.ServiceSession

const review: ReviewRecord = {
  labels: [
    { value: 2, name: 'lesion', colourRGB: [255, 0, 0], status: 'rejected', reason: 'vessel' },
    { value: 1, name: 'brain', colourRGB: [0, 200, 0], status: 'edited' },
  ],
  updatedAt: '2026-12-07T00:00:00.000Z',
}

async function open(name: string): Promise<OpenedVolume> {
  const r = await api.openSource({ source: name as SourceRef })
  assert.ok(r.ok, JSON.stringify(r))
  return r.value as OpenedVolume
}

function painted(v: OpenedVolume): Uint8Array {
  const [i, j, k] = v.geometry.sizeIJK
  const labels = new Uint8Array(i * j * k)
  labels.fill(1, 100_000, 101_000)
  labels.fill(2, 200_000, 200_037)
  return labels
}

before(async () => {
  mkdirSync(data)
  mkdirSync(out)
  copyFileSync(fixture('ch2.nii.gz'), join(data, 'ch2.nii.gz'))
  copyFileSync(fixture('ch2.nii.gz'), join(data, 'other.nii.gz'))
  ;({ createService } = await dist<typeof CreateService>('service', 'create-service.js'))
  ;({ forkRunner } = await dist<typeof Serve>('cli', 'serve.js'))
  service = await createService({
    dataRoot: data,
    outDir: out,
    runner: forkRunner,
    recoveryDir: recovery,
  })
  api = service.openSession()
})

after(async () => {
  await service?.close()
  rmSync(tmp, { recursive: true, force: true })
})

test('a recovery folder inside --data or --out, or holding them, is refused', async () => {
  for (const dir of [join(data, 'rec'), join(out, 'x', 'rec'), out, tmp]) {
    await assert.rejects(
      createService({ dataRoot: data, outDir: out, runner: forkRunner, recoveryDir: dir }),
      (e: Error & { code?: string }) => e.code === 'E_ARGS' && /must be outside/.test(e.message),
      dir,
    )
  }
})

test('the default recovery folder follows XDG_STATE_HOME, else ~/.local/state', async () => {
  const { defaultRecoveryDir } = await dist<typeof Backups>('service', 'backups.js')
  assert.equal(
    defaultRecoveryDir({ XDG_STATE_HOME: '/s' }, 'linux', '/home/u'),
    '/s/volseg/recovery',
  )
  assert.equal(defaultRecoveryDir({}, 'linux', '/home/u'), '/home/u/.local/state/volseg/recovery')
  // A relative XDG_STATE_HOME is invalid by the spec: ignored.
  assert.equal(
    defaultRecoveryDir({ XDG_STATE_HOME: 'rel' }, 'linux', '/home/u'),
    '/home/u/.local/state/volseg/recovery',
  )
})

test('backup → find → restore gives the exact voxels and review; --data and --out untouched', async () => {
  const v = await open('ch2.nii.gz')
  const none = await api.findBackup({ volumeId: v.volumeId })
  assert.deepEqual(none, { ok: true, value: null })
  const labels = painted(v)
  const before = Date.now()
  const b = await api.backupLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: v.geometry.sizeIJK,
    bytes: labels,
    review,
  })
  assert.ok(b.ok, JSON.stringify(b))
  assert.equal(b.value.labelCount, 2)
  assert.equal(b.value.labelVoxels, 1037)
  assert.equal(b.value.crashed, false)
  assert.ok(Date.parse(b.value.savedAt) >= before - 1000)
  // A second backup replaces the first: one mask and one sidecar per source, no temp files.
  labels.fill(1, 300_000, 300_010)
  const b2 = await api.backupLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: v.geometry.sizeIJK,
    bytes: labels,
    review,
  })
  assert.ok(b2.ok, JSON.stringify(b2))
  const files = readdirSync(recovery).filter((f) => !f.startsWith('run-'))
  assert.equal(files.filter((f) => f.endsWith('.nii.gz')).length, 1, files.join(', '))
  assert.equal(files.filter((f) => f.endsWith('.json')).length, 1, files.join(', '))
  assert.equal(files.length, 2, files.join(', '))
  assert.deepEqual(readdirSync(out), [])
  assert.deepEqual(readdirSync(data).sort(), ['ch2.nii.gz', 'other.nii.gz'])

  // Another open of the same file (a new page after a crash) finds it.
  const again = await open('ch2.nii.gz')
  const found = await api.findBackup({ volumeId: again.volumeId })
  assert.ok(found.ok && found.value, JSON.stringify(found))
  assert.equal(found.value.labelVoxels, 1047)
  assert.equal(found.value.savedAt, b2.value.savedAt)
  const r = await api.restoreBackup({ volumeId: again.volumeId })
  assert.ok(r.ok, JSON.stringify(r))
  assert.deepEqual(r.value.review, review)
  assert.deepEqual(r.value.labels.warnings, [])
  assert.deepEqual(
    r.value.labels.labels.map((l) => [l.value, l.name, l.voxels]),
    [
      [0, 'background', labels.length - 1047],
      [1, 'brain', 1010],
      [2, 'lesion', 37],
    ],
  )
  const read = await api.readLabels({ labelsId: r.value.labels.labelsId })
  assert.ok(read.ok)
  assert.ok(Buffer.from(read.value.bytes).equals(Buffer.from(labels)), 'the exact voxels')
  // Another file (same bytes, other name) has no backup.
  const other = await open('other.nii.gz')
  assert.deepEqual(await api.findBackup({ volumeId: other.volumeId }), { ok: true, value: null })

  // Discard deletes it (and is idempotent).
  assert.deepEqual(await api.discardBackup({ volumeId: again.volumeId }), { ok: true, value: null })
  assert.deepEqual(await api.discardBackup({ volumeId: again.volumeId }), { ok: true, value: null })
  assert.deepEqual(await api.findBackup({ volumeId: again.volumeId }), { ok: true, value: null })
  assert.deepEqual(
    readdirSync(recovery).filter((f) => !f.startsWith('run-')),
    [],
  )
  for (const x of [v, again, other]) await api.closeVolume({ volumeId: x.volumeId })
})

test('a dropped file: the same bytes dropped again find its backup; other bytes do not', async () => {
  const bytes = new Uint8Array(readFileSync(fixture('ch2.nii.gz')))
  const drop = async (b: Uint8Array): Promise<OpenedVolume> => {
    const r = await api.openUpload({ name: 'dropped.nii.gz', bytes: b })
    assert.ok(r.ok, JSON.stringify(r))
    return r.value
  }
  const v = await drop(bytes)
  assert.deepEqual(await api.findBackup({ volumeId: v.volumeId }), { ok: true, value: null })
  const labels = painted(v)
  const b = await api.backupLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: v.geometry.sizeIJK,
    bytes: labels,
    review,
  })
  assert.ok(b.ok, JSON.stringify(b))
  await api.closeVolume({ volumeId: v.volumeId })
  // Dropped again (the page after a crash): found by name and content, restored exactly.
  const again = await drop(bytes)
  const found = await api.findBackup({ volumeId: again.volumeId })
  assert.ok(found.ok && found.value, JSON.stringify(found))
  assert.equal(found.value.labelVoxels, 1037)
  const r = await api.restoreBackup({ volumeId: again.volumeId })
  assert.ok(r.ok, JSON.stringify(r))
  const read = await api.readLabels({ labelsId: r.value.labels.labelsId })
  assert.ok(read.ok && Buffer.from(read.value.bytes).equals(Buffer.from(labels)))
  // The same name with other bytes (the same grid, one voxel changed): no offer.
  const changed = bytes.slice()
  const { gunzipSync, gzipSync } = await import('node:zlib')
  const raw = gunzipSync(changed)
  raw[raw.length - 1] = raw[raw.length - 1]! ^ 1
  const other = await drop(new Uint8Array(gzipSync(raw)))
  assert.deepEqual(await api.findBackup({ volumeId: other.volumeId }), { ok: true, value: null })
  assert.deepEqual(await api.discardBackup({ volumeId: again.volumeId }), { ok: true, value: null })
  assert.deepEqual(
    readdirSync(recovery).filter((f) => !f.startsWith('run-')),
    [],
  )
  for (const x of [again, other]) await api.closeVolume({ volumeId: x.volumeId })
})

test('a changed source file gets no stale offer; a save drops the backup', async () => {
  const v = await open('other.nii.gz')
  const b = await api.backupLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: v.geometry.sizeIJK,
    bytes: painted(v),
  })
  assert.ok(b.ok, JSON.stringify(b))
  // Touched (new modification time): not the file the edits were made on any more.
  const later = new Date(Date.now() + 60_000)
  utimesSync(join(data, 'other.nii.gz'), later, later)
  const touched = await open('other.nii.gz')
  assert.deepEqual(await api.findBackup({ volumeId: touched.volumeId }), { ok: true, value: null })
  // The volume opened before the change still finds its own backup, and a save drops it.
  const found = await api.findBackup({ volumeId: v.volumeId })
  assert.ok(found.ok && found.value)
  const up = await api.uploadLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: v.geometry.sizeIJK,
    bytes: painted(v),
  })
  assert.ok(up.ok)
  const saved = await api.saveMask({
    volumeId: v.volumeId,
    labelsId: up.value.labelsId,
    name: 'other_seg.nii.gz',
  })
  assert.ok(saved.ok, JSON.stringify(saved))
  assert.deepEqual(await api.findBackup({ volumeId: v.volumeId }), { ok: true, value: null })
  for (const x of [v, touched]) await api.closeVolume({ volumeId: x.volumeId })
})

test('labels on another grid are refused', async () => {
  const v = await open('ch2.nii.gz')
  const r = await api.backupLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: [2, 2, 2],
    bytes: new Uint8Array(8),
  })
  assert.ok(!r.ok && r.error.code === 'E_ARGS', JSON.stringify(r))
  await api.closeVolume({ volumeId: v.volumeId as VolumeId })
})

test('the marker: a run that died leaves its marker and its backups are offered as crashed', async () => {
  const rec2 = join(tmp, 'state2')
  const one = await createService({
    dataRoot: data,
    outDir: out,
    runner: forkRunner,
    recoveryDir: rec2,
  })
  const s1 = one.openSession()
  const v = (await s1.openSource({ source: 'ch2.nii.gz' as SourceRef })) as {
    ok: true
    value: OpenedVolume
  }
  const b = await s1.backupLabels({
    volumeId: v.value.volumeId,
    dataType: 'uint8',
    sizeIJK: v.value.geometry.sizeIJK,
    bytes: painted(v.value),
  })
  assert.ok(b.ok && !b.value.crashed, JSON.stringify(b))
  const markers = readdirSync(rec2).filter((f) => f.startsWith('run-'))
  assert.equal(markers.length, 1)
  await one.close()
  assert.deepEqual(
    readdirSync(rec2).filter((f) => f.startsWith('run-')),
    [],
    'a clean close removes the marker',
  )
  // A clean close: the backup is still offered (the page was closed unsaved), not as a crash.
  const two = await createService({
    dataRoot: data,
    outDir: out,
    runner: forkRunner,
    recoveryDir: rec2,
  })
  const s2 = two.openSession()
  const v2 = (await s2.openSource({ source: 'ch2.nii.gz' as SourceRef })) as {
    ok: true
    value: OpenedVolume
  }
  const f2 = await s2.findBackup({ volumeId: v2.value.volumeId })
  assert.ok(f2.ok && f2.value && !f2.value.crashed, JSON.stringify(f2))
  // Now pretend the writer died: its marker stays behind with a pid that is gone.
  await two.close()
  const sidecar = readdirSync(rec2).find((f) => f.endsWith('.json'))!
  const { readFile } = await import('node:fs/promises')
  const meta = JSON.parse(await readFile(join(rec2, sidecar), 'utf8')) as { runId: string }
  const deadRun = '999999-0badf00d'
  await writeFile(join(rec2, sidecar), JSON.stringify({ ...meta, runId: deadRun }))
  await writeFile(join(rec2, `run-${deadRun}.lock`), '{}\n')
  await writeFile(join(rec2, 'run-999998-00000000.lock'), '{}\n') // no backup: swept
  const three = await createService({
    dataRoot: data,
    outDir: out,
    runner: forkRunner,
    recoveryDir: rec2,
  })
  try {
    const s3 = three.openSession()
    const v3 = (await s3.openSource({ source: 'ch2.nii.gz' as SourceRef })) as {
      ok: true
      value: OpenedVolume
    }
    const f3 = await s3.findBackup({ volumeId: v3.value.volumeId })
    assert.ok(f3.ok && f3.value?.crashed === true, JSON.stringify(f3))
    const left = readdirSync(rec2).filter((f) => f.startsWith('run-'))
    assert.ok(left.includes(`run-${deadRun}.lock`), left.join(', '))
    assert.ok(!left.includes('run-999998-00000000.lock'), left.join(', '))
  } finally {
    await three.close()
  }
})

test('a backup writer SIGKILLed at random moments never leaves a broken or mixed backup', async () => {
  const rec3 = join(tmp, 'state3')
  const { derived } = await import('../helpers.js')
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'crop.nii.gz'))
  let killAfterMs: number | undefined
  const killing: typeof forkRunner = {
    start(req, options) {
      const job = forkRunner.start(req, options)
      const pid = (job as { pid?: number }).pid
      if (req.kind === 'write-backup' && killAfterMs !== undefined && pid !== undefined) {
        setTimeout(() => {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // it finished first
          }
        }, killAfterMs)
      }
      return job
    },
  }
  const svc = await createService({
    dataRoot: data,
    outDir: out,
    runner: killing,
    recoveryDir: rec3,
  })
  try {
    const s = svc.openSession()
    const opened = await s.openSource({ source: 'crop.nii.gz' as SourceRef })
    assert.ok(opened.ok, JSON.stringify(opened))
    const v = opened.value as OpenedVolume
    const [i, j, k] = v.geometry.sizeIJK
    /** The n-th edit state: n voxels of label 1 from 1000 on, then one voxel holding n. */
    const state = (n: number): Uint8Array => {
      const b = new Uint8Array(i * j * k)
      b.fill(1, 1000, 1000 + 50 * n)
      b[0] = n
      return b
    }
    let committed: number | undefined
    let seed = 20261207
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    let written = 0
    let killed = 0
    const rounds = 16
    // How long one write takes here (fork, gzip, re-read, sidecar): kills land all over it.
    let writeMs = 0
    for (let n = 1; n <= rounds; n++) {
      const t0 = Date.now()
      killAfterMs = n === 1 ? undefined : Math.floor(random() * writeMs * 1.2)
      const r = await s.backupLabels({
        volumeId: v.volumeId,
        dataType: 'uint8',
        sizeIJK: v.geometry.sizeIJK,
        bytes: state(n),
      })
      if (n === 1) writeMs = Date.now() - t0
      if (r.ok) written++
      else killed++
      killAfterMs = undefined
      const found = await s.findBackup({ volumeId: v.volumeId })
      assert.ok(found.ok, JSON.stringify(found))
      if (committed === undefined && !found.value) continue // the first one never landed
      const back = await s.restoreBackup({ volumeId: v.volumeId })
      assert.ok(back.ok, `round ${n}: ${JSON.stringify(back)}`)
      const read = await s.readLabels({ labelsId: back.value.labels.labelsId })
      assert.ok(read.ok)
      const got = read.value.bytes[0]!
      // The new state when its write answered; else the new one or the last committed one.
      assert.ok(r.ok ? got === n : got === n || got === committed, `round ${n}: got state ${got}`)
      assert.ok(Buffer.from(read.value.bytes).equals(Buffer.from(state(got))), `round ${n}: mixed`)
      assert.equal(found.value?.labelVoxels, 50 * got + 1, `round ${n}: record and mask agree`)
      committed = got
    }
    console.log(
      `backup writes (${writeMs} ms each): ${written} completed, ${killed} killed, of ${rounds}`,
    )
    assert.ok(killed > 0 && written > 0, 'both outcomes were exercised')
  } finally {
    await svc.close()
  }
  // The next start sweeps the killed writers' temp files; one mask and its sidecar remain.
  const again = await createService({
    dataRoot: data,
    outDir: out,
    runner: forkRunner,
    recoveryDir: rec3,
  })
  await again.close()
  const left = readdirSync(rec3).filter((f) => !f.startsWith('run-'))
  assert.ok(left.length <= 2, left.join(', '))
  assert.ok(
    left.every((f) => /^[0-9a-f]{32}(-[0-9a-z]+-\d+\.nii\.gz|\.json)$/.test(f)),
    left.join(', '),
  )
})

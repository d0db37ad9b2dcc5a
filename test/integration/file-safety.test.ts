// Issue 13, items 3, 12 and 13: no file replaced by a save that lost a race, no server path or
// look-alike name reaching a client, no detached header revealing files outside --data, a
// crash's leftovers swept on the next start, and request headers capped before parsing. Real
// files, real forked workers, the real service and WebSocket gate (built `dist/`, as the CLI runs).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, test } from 'node:test'
import { WebSocketServer } from 'ws'
import type { OpenedVolume, SourceRef, VolumeId } from '../../src/shared/api.js'
import type { JobRunner } from '../../src/service/job-runner.js'
import type { ServiceJobRequest } from '../../src/shared/jobs.js'
import type * as CreateService from '../../src/service/create-service.js'
import type * as Serve from '../../src/cli/serve.js'
import type * as WsGate from '../../src/serve/ws-gate.js'
import type * as SegmentJob from '../../src/jobs/segment-job.js'
import { encodeFrame } from '../../src/shared/wire.js'
import { claimWithoutLinks, writeFileAtomic } from '../../src/io/atomic-write.js'
import { openVolume } from '../../src/io/open-volume.js'
import { connectNodeClient } from '../../src/serve/ws-node-client.js'
import { ROOT, derived, rejectsWith } from '../helpers.js'

const dist = async <T>(...parts: string[]): Promise<T> =>
  (await import(pathToFileURL(join(ROOT, 'dist', ...parts)).href)) as T

const tmp = mkdtempSync(join(tmpdir(), 'volseg-file-safety-'))
const data = join(tmp, 'data')
const out = join(tmp, 'out')
const outside = join(tmp, 'outside')
const uploadParent = join(tmp, 'uploads')
let service: CreateService.VolsegService
let api: CreateService.ServiceSession
let forkRunner: JobRunner
/** When set, called with a save-mask job's path just before the job starts (a competing writer). */
let beforeSave: ((path: string) => void) | undefined
const PRECIOUS = Buffer.from('another server wrote this mask\n')

/** A process id that is surely dead: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(r.stdout.toString())
}

const tempName = (pid: number, hex: string, kind = 'tmp'): string =>
  `.volseg-${String(pid).padStart(10, '0')}-${hex}.${kind}`

// Leftovers of a crashed server (dead pid), of a live one (our parent: alive, not us), and files
// that merely look similar; created before the service starts.
const dead = deadPid()
const live = process.ppid
const leftovers = {
  deadTemp: tempName(dead, 'deadbeef'),
  deadBak: tempName(dead, 'cafebabe', 'bak'),
  liveTemp: tempName(live, '0badf00d'),
  oldLiveTemp: tempName(live, '00c0ffee'),
  foreign: '.scan.nii.gz.1234.abcd.tmp',
  deadUploads: `volseg-uploads-${dead}-AbC123`,
  liveUploads: `volseg-uploads-${live}-XyZ789`,
}

before(async () => {
  mkdirSync(data)
  mkdirSync(out)
  mkdirSync(outside)
  mkdirSync(uploadParent)
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'ch2-crop.nii.gz'))
  for (const n of [leftovers.deadTemp, leftovers.deadBak, leftovers.liveTemp, leftovers.foreign]) {
    writeFileSync(join(out, n), 'partial')
  }
  writeFileSync(join(out, leftovers.oldLiveTemp), 'partial')
  const twoDaysAgo = (Date.now() - 2 * 24 * 3600_000) / 1000
  utimesSync(join(out, leftovers.oldLiveTemp), twoDaysAgo, twoDaysAgo)
  for (const n of [leftovers.deadUploads, leftovers.liveUploads]) {
    mkdirSync(join(uploadParent, n, 'abcdef0123456789'), { recursive: true })
    writeFileSync(join(uploadParent, n, 'abcdef0123456789', 'scan.nii.gz'), 'dropped')
  }
  const { createService } = await dist<typeof CreateService>('service', 'create-service.js')
  ;({ forkRunner } = await dist<typeof Serve>('cli', 'serve.js'))
  const racing: JobRunner = {
    start(req, options) {
      const r = req as ServiceJobRequest
      if (r.kind === 'save-mask') beforeSave?.(r.path)
      return forkRunner.start(req, options)
    },
  }
  service = await createService({ dataRoot: data, outDir: out, runner: racing, uploadParent })
  api = service.openSession()
})

after(async () => {
  await service?.close()
  rmSync(tmp, { recursive: true, force: true })
})

/** ch2-crop opened, with an all-zero label map uploaded for it. */
async function openWithLabels(): Promise<{ volumeId: VolumeId; labelsId: string }> {
  const opened = await api.openSource({ source: 'ch2-crop.nii.gz' as SourceRef })
  assert.ok(opened.ok, JSON.stringify(opened))
  const v = opened.value as OpenedVolume
  const [i, j, k] = v.geometry.sizeIJK
  const labels = await api.uploadLabels({
    volumeId: v.volumeId,
    dataType: 'uint8',
    sizeIJK: v.geometry.sizeIJK,
    bytes: new Uint8Array(i * j * k),
  })
  assert.ok(labels.ok, JSON.stringify(labels))
  return { volumeId: v.volumeId, labelsId: labels.value.labelsId }
}

// ---- Item 13a: leftovers of a crash are swept at start, a live server's are not ----

test('13a: createService sweeps a dead writer’s temp files and upload folders, not a live one’s', () => {
  const outNames = readdirSync(out)
  assert.ok(!outNames.includes(leftovers.deadTemp), 'dead writer’s .tmp swept')
  assert.ok(!outNames.includes(leftovers.deadBak), 'dead writer’s .bak swept')
  assert.ok(!outNames.includes(leftovers.oldLiveTemp), 'a day-old temp swept (pid reused)')
  assert.ok(outNames.includes(leftovers.liveTemp), 'a live server’s temp file kept')
  assert.ok(outNames.includes(leftovers.foreign), 'a name VolSeg does not make is kept')
  const up = readdirSync(uploadParent)
  assert.ok(!up.includes(leftovers.deadUploads), 'dead server’s upload folder swept')
  assert.ok(up.includes(leftovers.liveUploads), 'a live server’s upload folder kept')
})

test('13a: temp files and upload folders carry the writer’s pid; temp names are fixed-length', async () => {
  const dir = mkdtempSync(join(tmp, 'names-'))
  const seen: string[] = []
  await writeFileAtomic(join(dir, `${'x'.repeat(240)}.nii.gz`), new Uint8Array([1]), {
    verify: async (temp) => {
      seen.push(temp.slice(dir.length + 1))
    },
  })
  assert.equal(seen.length, 1)
  assert.equal(seen[0]!.length, 31, seen[0])
  assert.match(seen[0]!, new RegExp(`^\\.volseg-0*${process.pid}-[0-9a-f]{8}\\.tmp$`))
  const r = await api.openUpload({
    name: 'ch2-crop.nii.gz',
    bytes: new Uint8Array(readFileSync(derived('ch2-crop.nii.gz'))),
  })
  assert.ok(r.ok, JSON.stringify(r))
  const mine = readdirSync(uploadParent).filter((n) => n.startsWith('volseg-uploads-'))
  assert.ok(
    mine.some((n) => n.startsWith(`volseg-uploads-${process.pid}-`)),
    mine.join(', '),
  )
  await api.closeVolume({ volumeId: r.value.volumeId })
})

// ---- Item 3: a save never replaces a file that appeared after its free-name check ----

test('3: writeFileAtomic noReplace: a target created between check and publish survives', async () => {
  const dir = mkdtempSync(join(tmp, 'race-'))
  const target = join(dir, 'm.nii.gz')
  const written = await writeFileAtomic(target, new Uint8Array([1, 2, 3]), {
    noReplace: true,
    alternative: (n) => join(dir, `m-${n}.nii.gz`),
    // The temp file is complete and verified here; a competing writer takes the name now.
    verify: async () => writeFileSync(target, PRECIOUS),
  })
  assert.equal(written, join(dir, 'm-1.nii.gz'))
  assert.deepEqual(readFileSync(target), PRECIOUS)
  assert.deepEqual([...readFileSync(written)], [1, 2, 3])
  assert.deepEqual(readdirSync(dir).sort(), ['m-1.nii.gz', 'm.nii.gz'], 'no temp file left')
  // Without alternatives: refused, the other file untouched.
  const only = join(dir, 'only.nii.gz')
  const e = await rejectsWith(
    writeFileAtomic(only, new Uint8Array([9]), {
      noReplace: true,
      verify: async () => writeFileSync(only, PRECIOUS),
    }),
    'E_WRITE',
  )
  assert.match(e.message, /only\.nii\.gz exists/)
  assert.deepEqual(readFileSync(only), PRECIOUS)
})

test('3: without hard links, the exclusive-create claim never replaces a file either', async () => {
  // The fallback for file systems where link() fails (FAT, some network mounts), run directly.
  const dir = mkdtempSync(join(tmp, 'nolink-'))
  const temp = join(dir, tempName(process.pid, 'abcdef01'))
  writeFileSync(temp, 'new mask')
  writeFileSync(join(dir, 'taken.nii.gz'), PRECIOUS)
  assert.equal(await claimWithoutLinks(temp, join(dir, 'taken.nii.gz')), false)
  assert.deepEqual(readFileSync(join(dir, 'taken.nii.gz')), PRECIOUS)
  assert.equal(await claimWithoutLinks(temp, join(dir, 'free.nii.gz')), true)
  assert.equal(readFileSync(join(dir, 'free.nii.gz'), 'utf8'), 'new mask')
  assert.deepEqual(readdirSync(dir).sort(), ['free.nii.gz', 'taken.nii.gz'])
})

test('3: saveMask whose name is taken after the service chose it lands under the next free name', async () => {
  const { volumeId, labelsId } = await openWithLabels()
  beforeSave = (path) => writeFileSync(path, PRECIOUS) // another server, same --out
  try {
    const r = await api.saveMask({ volumeId, labelsId: labelsId as never, name: 'race.nii.gz' })
    assert.ok(r.ok, JSON.stringify(r))
    assert.equal(r.value.path, 'race-1.nii.gz', 'the report names the file actually written')
    assert.deepEqual(readFileSync(join(out, 'race.nii.gz')), PRECIOUS, 'the other file survives')
    const back = await openVolume(join(out, 'race-1.nii.gz'))
    assert.equal(back.volume.voxels.length, r.value.verification.voxelsCompared)
  } finally {
    beforeSave = undefined
  }
})

test('3: the save-mask job itself, given a path that exists, writes the next free name', async () => {
  const dir = mkdtempSync(join(tmp, 'job-'))
  writeFileSync(join(dir, 'seg.nii.gz'), PRECIOUS)
  writeFileSync(join(dir, 'seg-1.nii.gz'), PRECIOUS)
  const job = forkRunner.start({
    kind: 'save-mask',
    path: join(dir, 'seg.nii.gz'),
    nextFree: { stem: 'seg', from: 0 },
    geometry: {
      sizeIJK: [2, 2, 2],
      spacingMm: [1, 1, 1],
      originLPS: [0, 0, 0],
      directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    },
    dataType: 'uint8',
    labels: new Uint8Array([0, 1, 0, 1, 0, 1, 0, 1]),
    sourceFiles: [],
    descrip: 'test',
  })
  const reply = await job.result
  assert.ok(reply.ok, JSON.stringify(reply))
  assert.equal(reply.value.path, join(dir, 'seg-2.nii.gz'))
  assert.deepEqual(readFileSync(join(dir, 'seg.nii.gz')), PRECIOUS)
  assert.deepEqual(readFileSync(join(dir, 'seg-1.nii.gz')), PRECIOUS)
  assert.deepEqual(readdirSync(dir).sort(), ['seg-1.nii.gz', 'seg-2.nii.gz', 'seg.nii.gz'])
})

test('3: segment without --overwrite never replaces a mask that appeared while the case ran', async () => {
  // The job in this process, so that the competing file is created exactly between the case's
  // "exists?" check (at its start) and the publish (right after the 'write' progress event).
  const { runSegmentJob } = await dist<typeof SegmentJob>('jobs', 'segment-job.js')
  const dir = mkdtempSync(join(tmp, 'cli-race-'))
  copyFileSync(derived('ch2-crop.nii.gz'), join(dir, 'a.nii.gz'))
  const mask = join(dir, 'a_seg.nii.gz')
  const unc = join(dir, 'a_unc.nii.gz')
  for (const [target, late] of [
    [mask, mask],
    [mask, unc],
  ] as const) {
    rmSync(mask, { force: true })
    rmSync(unc, { force: true })
    const batch = await runSegmentJob(
      {
        cases: [
          { id: 'a', input: [join(dir, 'a.nii.gz')], output: target, uncertaintyOutput: unc },
        ],
        model: join(ROOT, 'test', 'tiny-model', 'packs', 'threshold'),
        ep: 'cpu',
        tta: false,
        skipExisting: true,
      },
      {
        emit: (e) => {
          if (e.kind === 'progress' && e.stage === 'write') writeFileSync(late, PRECIOUS)
        },
        isCancelled: () => false,
      },
    )
    const c = batch.cases[0]!
    assert.equal(c.status, 'failed', JSON.stringify(c))
    assert.match(c.error?.message ?? '', /exists .*not replaced/)
    assert.deepEqual(readFileSync(late), PRECIOUS, `${late} survives byte-identical`)
    if (late === unc) assert.ok(!existsSync(mask), 'the mask of a refused map is not left')
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('.')),
      [],
      'no temp or backup file left',
    )
  }
})

// ---- Item 12b: one name rule; look-alike names refused, saying which character ----

test('12b: saveMask refuses control, separator, bidi and invisible characters by code point', async () => {
  const { volumeId, labelsId } = await openWithLabels()
  const cases: [string, string][] = [
    ['a\u007fb.nii.gz', 'U+007F'],
    ['a\u0085b.nii.gz', 'U+0085'],
    ['a\u2028b.nii.gz', 'U+2028'],
    ['a\u2029b.nii.gz', 'U+2029'],
    ['scan\u202Ezg.ii', 'U+202E'],
    ['scan\u2066x.nii.gz', 'U+2066'],
    ['scan\u200Fx.nii.gz', 'U+200F'],
    ['sc\u200Ban.nii.gz', 'U+200B'],
    ['sc\uFEFFan.nii.gz', 'U+FEFF'],
  ]
  for (const [name, code] of cases) {
    const r = await api.saveMask({ volumeId, labelsId: labelsId as never, name })
    assert.equal(r.ok, false, `${code} accepted`)
    if (r.ok) continue
    assert.equal(r.error.code, 'E_ARGS', code)
    assert.match(r.error.message, new RegExp(code.replace('+', '\\+')), r.error.message)
    assert.doesNotMatch(r.error.message, /[\u2028\u202e\u200b\u0085\u007f]/u, 'shown, not used')
  }
  assert.deepEqual(
    readdirSync(out).filter((n) => /^(a|sc|scan)/.test(n)),
    [],
    'nothing was written',
  )
})

test('12a/b: a long save name is refused up front by its UTF-8 length, or saved; never ENAMETOOLONG', async () => {
  const { volumeId, labelsId } = await openWithLabels()
  // 240 + 7 = 247 characters: used to fail with ENAMETOOLONG on its temp name; fits now.
  const fits = `${'a'.repeat(240)}.nii.gz`
  const r1 = await api.saveMask({ volumeId, labelsId: labelsId as never, name: fits })
  assert.ok(r1.ok, JSON.stringify(r1))
  assert.equal(r1.value.path, fits)
  for (const name of [`${'b'.repeat(248)}.nii.gz`, `${'é'.repeat(123)}.nii.gz`, 'c'.repeat(255)]) {
    const r = await api.saveMask({ volumeId, labelsId: labelsId as never, name })
    assert.equal(r.ok, false, `${name.length} characters accepted`)
    if (r.ok) continue
    assert.equal(r.error.code, 'E_ARGS')
    assert.match(r.error.message, /at most 244 bytes in UTF-8/)
    assert.doesNotMatch(r.error.message, /ENAMETOOLONG|\//)
  }
})

// ---- Item 12a: no absolute server path in any error ----

test('12a: errors about a 2,500-level folder or a link loop name paths relative to --data', async () => {
  // Built with relative steps (the whole path is far over PATH_MAX).
  const made = spawnSync('/usr/bin/python3', [
    '-c',
    `import os\nos.chdir(${JSON.stringify(data)})\nos.mkdir('deep')\nos.chdir('deep')\nfor _ in range(2500):\n    os.mkdir('d')\n    os.chdir('d')\nopen('IM1', 'wb').write(b'x' * 200)\n`,
  ])
  assert.equal(made.status, 0, made.stderr.toString())
  mkdirSync(join(data, 'loops'))
  symlinkSync('self', join(data, 'loops', 'self'))
  writeFileSync(join(data, 'loops', 'IM1'), 'not dicom')
  const texts: string[] = []
  for (const source of ['deep', 'loops', 'loops/self', `deep${'/d'.repeat(2000)}`]) {
    const r = await api.openSource({ source: source as SourceRef })
    assert.equal(r.ok, false, source)
    if (!r.ok) texts.push(`${r.error.message} | ${r.error.file ?? ''}`)
  }
  for (const under of ['deep', `deep${'/d'.repeat(2000)}`, 'loops/self']) {
    const r = await api.listSources({ under: under as SourceRef })
    if (!r.ok) texts.push(`${r.error.message} | ${r.error.file ?? ''}`)
  }
  for (const t of texts) {
    assert.ok(!t.includes(tmp), `absolute path in: ${t.slice(0, 300)}`)
    assert.doesNotMatch(t, /(^|[\s'"(])\/(tmp|home|root|var)\b/, t.slice(0, 300))
  }
  rmSync(join(data, 'loops'), { recursive: true, force: true })
  spawnSync('/bin/rm', ['-rf', 'deep'], { cwd: data })
})

// ---- Item 12c: detached data files stay under --data ----

/** A detached NRRD header for a 2×2×2 uint8 raw file. */
const nhdr = (dataFile: string): string =>
  `NRRD0004\ntype: uint8\ndimension: 3\nsizes: 2 2 2\nspacings: 1 1 1\nencoding: raw\ndata file: ${dataFile}\n\n`
const mhd = (dataFile: string): string =>
  `ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\nElementSpacing = 1 1 1\nElementDataFile = ${dataFile}\n`

test('12c: a detached header pointing outside --data is refused the same whether the file exists', async () => {
  mkdirSync(join(data, 'hdr', 'sub'), { recursive: true })
  writeFileSync(join(data, 'hdr', 'sub', 'in.raw'), new Uint8Array(8).fill(3))
  writeFileSync(join(data, 'hdr', 'ok.nhdr'), nhdr('sub/in.raw'))
  const good = await api.openSource({ source: 'hdr/ok.nhdr' as SourceRef })
  assert.ok(good.ok, `a data file under --data opens: ${JSON.stringify(good)}`)
  symlinkSync(outside, join(data, 'hdr', 'out-link'))
  const secret = join(outside, 'secret.raw')
  const pointers = [
    ['up.nhdr', nhdr('../../outside/secret.raw')],
    ['abs.nhdr', nhdr(secret)],
    ['link.nhdr', nhdr('out-link/secret.raw')],
    ['up.mhd', mhd('../../outside/secret.raw')],
    ['abs.mhd', mhd(secret)],
  ] as const
  for (const [name, text] of pointers) writeFileSync(join(data, 'hdr', name), text)
  const answer = async (name: string): Promise<string> => {
    const r = await api.openSource({ source: `hdr/${name}` as SourceRef })
    return r.ok ? 'opened' : `${r.error.code}: ${r.error.message}`
  }
  for (const [name] of pointers) {
    writeFileSync(secret, new Uint8Array(1234))
    const present = await answer(name)
    unlinkSync(secret)
    const absent = await answer(name)
    assert.equal(present, absent, `${name}: the answer tells whether the outside file exists`)
    assert.match(present, /^E_UNSUPPORTED: .*outside the data folder/, `${name}: ${present}`)
    assert.doesNotMatch(present, /1234|missing/, name)
  }
  // The CLI reads the user's own files: no confinement (itk-wasm itself then reads only beside
  // the header, so this one fails in the decoder, not in our check).
  writeFileSync(secret, new Uint8Array(8).fill(7))
  // (In a worker: a wasm abort in this process would set its exit code.)
  const cli = await forkRunner.start({ kind: 'open', input: [join(data, 'hdr', 'up.nhdr')] }).result
  assert.ok(!cli.ok)
  assert.doesNotMatch(cli.error.message, /outside the data folder/)
})

// ---- Item 13b: request headers are capped in size and depth before parsing ----

test('13b: a huge or deeply nested request header is refused (E_BAD_HEADER); the socket stays usable', async () => {
  const { attachConnection } = await dist<typeof WsGate>('serve', 'ws-gate.js')
  const http: Server = createServer()
  const wss = new WebSocketServer({ server: http, maxPayload: 64 * 2 ** 20 })
  wss.on('connection', (ws) => attachConnection(ws, service, 2 ** 20))
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  const port = (http.address() as { port: number }).port
  const c = await connectNodeClient(`ws://127.0.0.1:${port}/ws`)
  try {
    const raw = (text: string): Uint8Array => {
      const body = new TextEncoder().encode(text)
      const f = new Uint8Array(4 + body.length)
      new DataView(f.buffer).setUint32(0, body.length, true)
      f.set(body, 4)
      return f
    }
    const n = 4 * 2 ** 20 // 8 MiB of [[[[…]]]]
    const huge = await c.sendRaw(raw('['.repeat(n) + ']'.repeat(n)), 0)
    assert.ok(!huge.ok && huge.error.code === 'E_BAD_HEADER', JSON.stringify(huge))
    assert.match(huge.error.message, /over the 65536-byte limit/)
    // Small but deep, inside an otherwise valid request: refused before the guard sees it.
    const deep = `{"id":5,"method":"hello","params":{"a":${'['.repeat(2000)}${']'.repeat(2000)}}}`
    const d = await c.sendRaw(raw(deep), 0)
    assert.ok(!d.ok && d.error.code === 'E_BAD_HEADER', JSON.stringify(d))
    assert.match(d.error.message, /nests deeper than 8 levels/)
    // Brackets inside strings are not nesting: a long ref is answered by the service.
    const ref = encodeFrame({ id: 6, method: 'listSources', params: { under: '['.repeat(4000) } })
    const listed = await c.sendRaw(ref, 6)
    assert.ok(!listed.ok && listed.error.code === 'E_NOT_FOUND', JSON.stringify(listed))
    const still = await c.hello({})
    assert.ok(still.ok, 'the connection still answers')
  } finally {
    c.close()
    wss.close()
    http.close()
  }
})

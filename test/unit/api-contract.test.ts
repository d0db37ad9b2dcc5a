import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  API_EVENTS,
  API_METHODS,
  MAX_STRING,
  MAX_SNAPSHOT_BYTES,
  MAX_UPLOAD_BYTES,
  err,
  errorResult,
  ok,
  requestGuards,
  type ApiEvent,
  type ApiEventType,
  type ApiMethod,
  type SaveReport,
  type VolsegApi,
} from '../../src/shared/api.js'
import { AppError } from '../../src/shared/errors.js'
import {
  describeVerification,
  upperBound,
  verificationPassed,
  type MaskVerification,
} from '../../src/shared/mask-verification.js'
import {
  FRAME_ALIGN,
  asTypedArray,
  decodeFrame,
  decodeMessage,
  encodeEvent,
  encodeFrame,
  encodeRequest,
  encodeResponse,
  encodeResponseParts,
} from '../../src/shared/wire.js'

// ---- type-level checks (compiled by `tsc -p tsconfig.json`; no runtime effect) ----
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const methodsMatch: Equal<keyof typeof API_METHODS, keyof VolsegApi> = true
const eventsMatch: Equal<keyof typeof API_EVENTS, ApiEventType> = true
const guardsMatch: Equal<keyof typeof requestGuards, ApiMethod> = true
// @ts-expect-error a method missing from the list fails `satisfies`
const missing = { hello: 1 } as const satisfies Record<ApiMethod, 1>
// @ts-expect-error an extra method fails `satisfies` (excess property)
const extra = { ...API_METHODS, bogus: 1 } as const satisfies Record<ApiMethod, 1>
// A save reports the figures of its re-read, not a bare `verified: true`.
const saveHasFigures: Equal<SaveReport['verification'], MaskVerification> = true
const noBareFlag: 'verified' extends keyof SaveReport ? false : true = true
void [methodsMatch, eventsMatch, guardsMatch, missing, extra, saveHasFigures, noBareFlag]

const VOL = 'vol_a1'
const JOB = 'job_7'
const LBL = 'lbl_x9'
const SHOT_VIEW = {
  view: 'axial',
  title: 'Axial  S 12.0 mm · 90 / 181',
  x: 0,
  y: 0,
  width: 4,
  height: 2,
}
const PNG8 = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

const REVIEW = {
  labels: [{ value: 1, name: 'brain', colourRGB: [1, 2, 3], status: 'rejected', reason: 'leaks' }],
  updatedAt: '2026-01-02T03:04:05.000Z',
}

/** One valid argument per method. */
const VALID: { [M in ApiMethod]: readonly unknown[] } = {
  hello: [{}],
  listSources: [
    {},
    { root: 'out' },
    { under: 'a', root: 'data' },
    { under: 'sub/dir' },
    { under: 'ünï cödé/ф.nii.gz' },
  ],
  openSource: [{ source: 'a/b.nii.gz' }, { source: 'dicom', seriesKey: '1.2.3' }],
  openUpload: [
    { name: 'scan.nii.gz', bytes: new Uint8Array(10) },
    { name: 'ünï cödé (1).nrrd', bytes: new Uint8Array(1) },
    { name: `${'a'.repeat(251)}.mha`, bytes: new Uint8Array(1) },
    // the guard checks syntax only: the extension is the core's business
    { name: 'scan.dcm', bytes: new Uint8Array(1) },
  ],
  readVoxels: [{ volumeId: VOL }, { volumeId: VOL, slab: { firstK: 0, countK: 1 } }],
  awaitWhole: [{ volumeId: VOL }],
  closeVolume: [{ volumeId: VOL }],
  listHeld: [{}],
  resumeSession: [{ key: `ses_${'0a'.repeat(16)}` }],
  listModels: [{}, Object.create(null) as object],
  startSegmentation: [
    { volumeId: VOL, modelId: 'brain-extract' },
    { volumeId: VOL, modelId: 'm.v2_x', provider: 'cuda', tta: true, uncertainty: false },
    { volumeId: VOL, modelId: 'm', provider: undefined },
  ],
  cancelJob: [{ jobId: JOB }],
  readLabels: [{ jobId: JOB }, { labelsId: LBL }],
  readUncertainty: [{ labelsId: LBL }],
  uploadLabels: [
    { volumeId: VOL, dataType: 'uint8', sizeIJK: [2, 3, 4], bytes: new Uint8Array(24) },
    { volumeId: VOL, dataType: 'uint16', sizeIJK: [2, 3, 4], bytes: new Uint8Array(48) },
    {
      volumeId: VOL,
      dataType: 'uint8',
      sizeIJK: [2, 3, 4],
      bytes: new Uint8Array(24),
      derivedFrom: LBL,
    },
  ],
  saveMask: [{ volumeId: VOL, labelsId: LBL, name: 'case_seg.nii.gz' }],
  openLabels: [
    { volumeId: VOL, root: 'out', source: 'ch2_seg.nii.gz' },
    { volumeId: VOL, root: 'data', source: 'masks/a.nii.gz' },
  ],
  backupLabels: [
    { volumeId: VOL, dataType: 'uint8', sizeIJK: [2, 3, 4], bytes: new Uint8Array(24) },
    {
      volumeId: VOL,
      dataType: 'uint16',
      sizeIJK: [2, 3, 4],
      bytes: new Uint8Array(48),
      review: {
        labels: [{ value: 1, name: 'lesion', colourRGB: [255, 0, 0], status: 'pending' }],
        updatedAt: '2026-01-02T03:04:05.000Z',
      },
    },
  ],
  findBackup: [{ volumeId: VOL }],
  restoreBackup: [{ volumeId: VOL }],
  discardBackup: [{ volumeId: VOL }],
  exportLabels: [
    { volumeId: VOL, labelsId: LBL, name: 'ch2_seg', formats: ['seg'] },
    {
      volumeId: VOL,
      labelsId: LBL,
      name: 'ch2 export',
      formats: ['nifti', 'seg', 'stl', 'obj', 'stats'],
      labels: [1, 3],
      ras: true,
      review: {
        labels: [{ value: 1, name: 'lesion', colourRGB: [255, 0, 0], status: 'edited' }],
        updatedAt: '2026-01-02T03:04:05.000Z',
      },
    },
  ],
  cohortWorklist: [{}],
  openCohortCase: [{ caseId: 'a' }, { caseId: 'sub-01_ses-1.T1w' }, { caseId: '_x' }],
  saveCohortCase: [{ caseId: 'a', volumeId: VOL, labelsId: LBL, review: REVIEW }],
  saveSnapshot: [
    { volumeId: VOL, name: 'ch2-snapshot', views: [SHOT_VIEW], bytes: new Uint8Array(8) },
    {
      volumeId: VOL,
      labelsId: LBL,
      name: 'ch2 snapshot (1)',
      views: [SHOT_VIEW, { ...SHOT_VIEW, view: '3d', title: '3D (LPS mm, anterior view)' }],
      review: {
        labels: [{ value: 1, name: 'lesion', colourRGB: [255, 0, 0], status: 'accepted' }],
        updatedAt: '2026-01-02T03:04:05.000Z',
      },
      bytes: new Uint8Array(MAX_SNAPSHOT_BYTES),
    },
  ],
}

/** Malformed arguments per method, each with why. */
const INVALID: { [M in ApiMethod]: readonly [string, unknown][] } = {
  hello: [
    ['null', null],
    ['extra key', { x: 1 }],
    ['array', []],
    ['undefined', undefined],
  ],
  listSources: [
    ['wrong type', { under: 3 }],
    ['NUL', { under: 'a\0b' }],
    ['too long', { under: 'a'.repeat(MAX_STRING + 1) }],
    ['empty ref', { under: '' }],
    ['extra key', { under: 'a', deep: true }],
    ['unknown root', { root: 'home' }],
  ],
  openSource: [
    ['missing source', {}],
    ['NUL in source', { source: 'x.nii\0.png' }],
    ['NUL in series key', { source: 'x', seriesKey: '1\0' }],
    ['series key number', { source: 'x', seriesKey: 1 }],
    ['extra key', { source: 'x', path: '/etc/passwd' }],
    [
      'class instance',
      new (class {
        source = 'x'
      })(),
    ],
  ],
  openUpload: [
    ['empty bytes', { name: 'a.nii', bytes: new Uint8Array(0) }],
    ['number[] bytes', { name: 'a.nii', bytes: [1, 2] }],
    ['ArrayBuffer bytes', { name: 'a.nii', bytes: new ArrayBuffer(4) }],
    ['missing bytes', { name: 'a.nii' }],
    ['missing name', { bytes: new Uint8Array(1) }],
    ['empty name', { name: '', bytes: new Uint8Array(1) }],
    ['name as number', { name: 7, bytes: new Uint8Array(1) }],
    ['slash in name', { name: 'x/a.nii', bytes: new Uint8Array(1) }],
    ['backslash in name', { name: 'x\\a.nii', bytes: new Uint8Array(1) }],
    ['leading dot', { name: '.a.nii', bytes: new Uint8Array(1) }],
    ['dot-dot', { name: '..', bytes: new Uint8Array(1) }],
    ['NUL in name', { name: 'a\0.nii', bytes: new Uint8Array(1) }],
    ['newline in name', { name: 'a\n.nii', bytes: new Uint8Array(1) }],
    ['long name', { name: `${'a'.repeat(252)}.nii`, bytes: new Uint8Array(1) }],
    ['extra key', { name: 'a.nii', bytes: new Uint8Array(1), path: '/etc/passwd' }],
  ],
  listHeld: [
    ['extra key', { all: true }],
    ['null', null],
  ],
  resumeSession: [
    ['missing key', {}],
    ['short key', { key: 'ses_abc' }],
    ['upper-case hex', { key: `ses_${'0A'.repeat(16)}` }],
    ['volume id', { key: VOL }],
    ['extra key', { key: `ses_${'0a'.repeat(16)}`, steal: true }],
  ],
  readVoxels: [
    ['bad id', { volumeId: 'vol_' }],
    ['wrong prefix', { volumeId: 'job_1' }],
    ['id with dash', { volumeId: 'vol_a-b' }],
    ['id too long', { volumeId: 'vol_' + 'a'.repeat(65) }],
    ['empty slab', { volumeId: VOL, slab: { firstK: 0, countK: 0 } }],
    ['negative slab', { volumeId: VOL, slab: { firstK: -1, countK: 2 } }],
    ['fractional slab', { volumeId: VOL, slab: { firstK: 0.5, countK: 2 } }],
    ['slab extra key', { volumeId: VOL, slab: { firstK: 0, countK: 2, step: 2 } }],
    ['slab as array', { volumeId: VOL, slab: [0, 2] }],
    ['id trailing newline', { volumeId: 'vol_a\n' }],
  ],
  awaitWhole: [
    ['extra key', { volumeId: VOL, slab: { firstK: 0, countK: 1 } }],
    ['no id', {}],
  ],
  closeVolume: [
    ['extra key', { volumeId: VOL, force: true }],
    ['slab on close', { volumeId: VOL, slab: { firstK: 0, countK: 1 } }],
  ],
  listModels: [['extra key', { all: true }]],
  startSegmentation: [
    ['missing model', { volumeId: VOL }],
    ['bad model id', { volumeId: VOL, modelId: '../evil' }],
    ['upper-case model id', { volumeId: VOL, modelId: 'Brain' }],
    ['unknown provider', { volumeId: VOL, modelId: 'm', provider: 'tpu' }],
    ['inherited provider', { volumeId: VOL, modelId: 'm', provider: 'toString' }],
    ['tta as string', { volumeId: VOL, modelId: 'm', tta: 'yes' }],
    ['extra key', { volumeId: VOL, modelId: 'm', batch: 4 }],
  ],
  cancelJob: [['volume id', { jobId: VOL }]],
  readLabels: [
    ['both selectors', { jobId: JOB, labelsId: LBL }],
    ['neither', {}],
    ['swapped', { jobId: LBL }],
  ],
  readUncertainty: [['maskId', { maskId: LBL }]],
  uploadLabels: [
    [
      'derivedFrom not a labels id',
      {
        volumeId: VOL,
        dataType: 'uint8',
        sizeIJK: [1, 1, 1],
        bytes: new Uint8Array(1),
        derivedFrom: VOL,
      },
    ],
    [
      'length mismatch',
      { volumeId: VOL, dataType: 'uint16', sizeIJK: [2, 3, 4], bytes: new Uint8Array(24) },
    ],
    [
      'float type',
      { volumeId: VOL, dataType: 'float32', sizeIJK: [1, 1, 1], bytes: new Uint8Array(4) },
    ],
    ['number[] bytes', { volumeId: VOL, dataType: 'uint8', sizeIJK: [1, 1, 1], bytes: [0] }],
    [
      'zero size',
      { volumeId: VOL, dataType: 'uint8', sizeIJK: [0, 1, 1], bytes: new Uint8Array(0) },
    ],
    [
      'fractional size',
      { volumeId: VOL, dataType: 'uint8', sizeIJK: [1.5, 2, 1], bytes: new Uint8Array(3) },
    ],
    ['2-D size', { volumeId: VOL, dataType: 'uint8', sizeIJK: [2, 2], bytes: new Uint8Array(4) }],
    [
      'huge size',
      { volumeId: VOL, dataType: 'uint8', sizeIJK: [4096, 4096, 4096], bytes: new Uint8Array(1) },
    ],
  ],
  saveMask: [
    ['slash in name', { volumeId: VOL, labelsId: LBL, name: 'a/b.nii.gz' }],
    ['backslash in name', { volumeId: VOL, labelsId: LBL, name: '..\\b.nii.gz' }],
    ['empty name', { volumeId: VOL, labelsId: LBL, name: '' }],
    ['long name', { volumeId: VOL, labelsId: LBL, name: 'a'.repeat(256) }],
    ['NUL in name', { volumeId: VOL, labelsId: LBL, name: 'a\0.nii.gz' }],
    ['overwrite flag smuggled', { volumeId: VOL, labelsId: LBL, name: 'a', overwrite: true }],
  ],
  openLabels: [
    ['missing root', { volumeId: VOL, source: 'a.nii.gz' }],
    ['unknown root', { volumeId: VOL, root: '/', source: 'a.nii.gz' }],
    ['empty source', { volumeId: VOL, root: 'out', source: '' }],
    ['NUL in source', { volumeId: VOL, root: 'out', source: 'a\0.nii' }],
    ['bad volume id', { volumeId: 'lbl_1', root: 'out', source: 'a.nii.gz' }],
    ['extra key', { volumeId: VOL, root: 'out', source: 'a.nii.gz', path: '/etc/passwd' }],
  ],
  backupLabels: [
    [
      'derivedFrom (uploads only)',
      {
        volumeId: VOL,
        dataType: 'uint8',
        sizeIJK: [1, 1, 1],
        bytes: new Uint8Array(1),
        derivedFrom: LBL,
      },
    ],
    [
      'bytes short',
      { volumeId: VOL, dataType: 'uint8', sizeIJK: [2, 3, 4], bytes: new Uint8Array(23) },
    ],
    [
      'float labels',
      { volumeId: VOL, dataType: 'float32', sizeIJK: [1, 1, 1], bytes: new Uint8Array(4) },
    ],
    ['bytes as array', { volumeId: VOL, dataType: 'uint8', sizeIJK: [1, 1, 1], bytes: [0] }],
    ['missing volume', { dataType: 'uint8', sizeIJK: [1, 1, 1], bytes: new Uint8Array(1) }],
    [
      'bad review',
      {
        volumeId: VOL,
        dataType: 'uint8',
        sizeIJK: [1, 1, 1],
        bytes: new Uint8Array(1),
        review: {
          labels: [{ value: 0, name: 'x', colourRGB: [0, 0, 0], status: 'pending' }],
          updatedAt: 'now',
        },
      },
    ],
    [
      'a path smuggled',
      {
        volumeId: VOL,
        dataType: 'uint8',
        sizeIJK: [1, 1, 1],
        bytes: new Uint8Array(1),
        path: '/tmp/x',
      },
    ],
  ],
  findBackup: [
    ['source instead of volume', { source: 'ch2.nii.gz' }],
    ['bad volume id', { volumeId: 'vol_' }],
    ['extra key', { volumeId: VOL, dir: '/tmp' }],
  ],
  restoreBackup: [
    ['missing volume', {}],
    ['labels id', { volumeId: LBL }],
  ],
  discardBackup: [
    ['missing volume', {}],
    ['extra key', { volumeId: VOL, all: true }],
  ],
  exportLabels: [
    ['no formats', { volumeId: VOL, labelsId: LBL, name: 'x', formats: [] }],
    ['unknown format', { volumeId: VOL, labelsId: LBL, name: 'x', formats: ['png'] }],
    ['path in name', { volumeId: VOL, labelsId: LBL, name: '../x', formats: ['seg'] }],
    ['hidden name', { volumeId: VOL, labelsId: LBL, name: '.x', formats: ['seg'] }],
    ['label 0', { volumeId: VOL, labelsId: LBL, name: 'x', formats: ['seg'], labels: [0] }],
    ['ras not boolean', { volumeId: VOL, labelsId: LBL, name: 'x', formats: ['stl'], ras: 1 }],
    ['extra key', { volumeId: VOL, labelsId: LBL, name: 'x', formats: ['seg'], out: '/tmp' }],
  ],
  cohortWorklist: [['extra key', { cohort: '/tmp' }]],
  openCohortCase: [
    ['missing id', {}],
    ['a path', { caseId: '../a' }],
    ['a folder', { caseId: 'masks/a' }],
    ['hidden', { caseId: '.a' }],
    ['empty', { caseId: '' }],
    ['too long', { caseId: 'a'.repeat(201) }],
    ['not a string', { caseId: 1 }],
    ['extra key', { caseId: 'a', path: '/etc' }],
  ],
  saveCohortCase: [
    ['no review', { caseId: 'a', volumeId: VOL, labelsId: LBL }],
    ['bad review', { caseId: 'a', volumeId: VOL, labelsId: LBL, review: { labels: [] } }],
    ['a path as id', { caseId: 'a/b', volumeId: VOL, labelsId: LBL, review: REVIEW }],
    ['job id as labels', { caseId: 'a', volumeId: VOL, labelsId: JOB, review: REVIEW }],
    ['a name', { caseId: 'a', volumeId: VOL, labelsId: LBL, review: REVIEW, name: 'x' }],
  ],
  saveSnapshot: [
    ['no bytes', { volumeId: VOL, name: 'x', views: [SHOT_VIEW] }],
    ['empty bytes', { volumeId: VOL, name: 'x', views: [SHOT_VIEW], bytes: new Uint8Array(0) }],
    [
      'too big',
      {
        volumeId: VOL,
        name: 'x',
        views: [SHOT_VIEW],
        bytes: new Uint8Array(MAX_SNAPSHOT_BYTES + 1),
      },
    ],
    ['bytes as array', { volumeId: VOL, name: 'x', views: [SHOT_VIEW], bytes: [137, 80] }],
    ['path in name', { volumeId: VOL, name: '../x', views: [SHOT_VIEW], bytes: PNG8 }],
    ['backslash in name', { volumeId: VOL, name: 'a\\b', views: [SHOT_VIEW], bytes: PNG8 }],
    ['hidden name', { volumeId: VOL, name: '.x', views: [SHOT_VIEW], bytes: PNG8 }],
    ['no views', { volumeId: VOL, name: 'x', views: [], bytes: PNG8 }],
    [
      'unknown view',
      { volumeId: VOL, name: 'x', views: [{ ...SHOT_VIEW, view: 'oblique' }], bytes: PNG8 },
    ],
    ['empty view', { volumeId: VOL, name: 'x', views: [{ ...SHOT_VIEW, width: 0 }], bytes: PNG8 }],
    ['negative x', { volumeId: VOL, name: 'x', views: [{ ...SHOT_VIEW, x: -1 }], bytes: PNG8 }],
    ['bad labels id', { volumeId: VOL, labelsId: VOL, name: 'x', views: [SHOT_VIEW], bytes: PNG8 }],
    ['extra key', { volumeId: VOL, name: 'x', views: [SHOT_VIEW], bytes: PNG8, out: '/tmp' }],
  ],
}

test('request guards accept every valid argument', () => {
  for (const m of Object.keys(API_METHODS) as ApiMethod[]) {
    for (const x of VALID[m]) assert.equal(requestGuards[m](x), true, `${m} ${JSON.stringify(x)}`)
  }
})

test('request guards refuse malformed arguments, and no method accepts junk', () => {
  for (const m of Object.keys(API_METHODS) as ApiMethod[]) {
    for (const [why, x] of INVALID[m]) assert.equal(requestGuards[m](x), false, `${m}: ${why}`)
    for (const junk of [null, undefined, 0, 'x', [], [{}], new Uint8Array(1)]) {
      assert.equal(requestGuards[m](junk), false, `${m}: ${String(junk)}`)
    }
  }
})

test('guards check syntax only: `..` in a ref is the core’s business, NUL and length are not', () => {
  assert.equal(requestGuards.openSource({ source: '../../etc/passwd' }), true)
  assert.equal(requestGuards.openSource({ source: 'a'.repeat(MAX_STRING) }), true)
  assert.equal(requestGuards.openSource({ source: 'a'.repeat(MAX_STRING + 1) }), false)
  assert.equal(requestGuards.openSource({ source: '\0' }), false)
})

test('openUpload: bytes up to MAX_UPLOAD_BYTES (256 MiB less 64 KiB), not one more', () => {
  assert.equal(MAX_UPLOAD_BYTES, 256 * 2 ** 20 - 64 * 2 ** 10)
  const buffer = new ArrayBuffer(MAX_UPLOAD_BYTES + 1)
  const fits = new Uint8Array(buffer, 1)
  assert.equal(requestGuards.openUpload({ name: 'big.nii', bytes: fits }), true)
  const over = new Uint8Array(buffer)
  assert.equal(requestGuards.openUpload({ name: 'big.nii', bytes: over }), false)
})

test('err/ok/errorResult build plain Results', () => {
  assert.deepEqual(ok(3), { ok: true, value: 3 })
  assert.deepEqual(err('E_ARGS', 'bad'), { ok: false, error: { code: 'E_ARGS', message: 'bad' } })
  assert.deepEqual(err('E_WRITE', 'no', 'x.nii'), {
    ok: false,
    error: { code: 'E_WRITE', message: 'no', file: 'x.nii' },
  })
  const e = new AppError('E_NOT_FOUND', 'gone', { file: 'f', details: { secret: 1 } })
  assert.deepEqual(errorResult(e), err('E_NOT_FOUND', 'gone', 'f'))
  assert.deepEqual(errorResult(new TypeError('boom')), err('E_INTERNAL', 'boom'))
})

test('frame round trip: empty payload, binary payload, non-ASCII header, aligned payload', () => {
  const header = { name: 'Köpf → 脑 🧠', n: 1.5, list: [1, null, 'x'] }
  for (const payload of [new Uint8Array(0), new Uint8Array([0, 1, 2, 255]), new Uint8Array(4099)]) {
    const frame = encodeFrame(header, payload)
    const d = decodeFrame(frame)
    assert.ok(d.ok)
    assert.deepEqual(d.value.header, header)
    assert.deepEqual([...d.value.payload], [...payload])
    assert.equal(d.value.payload.byteOffset % FRAME_ALIGN, 0)
  }
  const bare = decodeFrame(encodeFrame({}))
  assert.ok(bare.ok)
  assert.equal(bare.value.payload.byteLength, 0)
})

test('truncated or corrupt frames are errors, not exceptions', () => {
  const frame = encodeFrame({ a: 'hello world' }, new Uint8Array(16))
  const codes = (f: Uint8Array): string => {
    const r = decodeFrame(f)
    return r.ok ? 'ok' : r.error.code
  }
  assert.equal(codes(new Uint8Array(0)), 'E_TRUNCATED')
  assert.equal(codes(frame.subarray(0, 3)), 'E_TRUNCATED')
  assert.equal(codes(frame.subarray(0, 10)), 'E_TRUNCATED')
  const huge = new Uint8Array(8)
  new DataView(huge.buffer).setUint32(0, 0xffffffff, true)
  assert.equal(codes(huge), 'E_TOO_LARGE')
  const notJson = encodeFrame('x')
  notJson[4] = 0x7b // `{`: the header no longer parses
  assert.equal(codes(notJson), 'E_BAD_HEADER')
  const badUtf8 = encodeFrame('xx')
  badUtf8[5] = 0xff
  assert.equal(codes(badUtf8), 'E_BAD_HEADER')
  // A frame read at an odd offset inside a larger buffer decodes the same.
  const host = new Uint8Array(frame.byteLength + 3)
  host.set(frame, 3)
  assert.equal(codes(host.subarray(3)), 'ok')
})

test('request, response and event messages round trip; bytes travel as the payload', () => {
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6])
  const up = { volumeId: VOL, dataType: 'uint8', sizeIJK: [1, 2, 3], bytes } as const
  const req = decodeMessage(encodeRequest(7, 'uploadLabels', up as never))
  assert.ok(req.ok && req.value.kind === 'request')
  assert.equal(req.value.method, 'uploadLabels')
  assert.equal(requestGuards.uploadLabels(req.value.params), true)
  assert.deepEqual(req.value.params, up)

  const header = { volumeId: VOL, dataType: 'int16', sizeIJK: [1, 1, 3], byteLength: 6 }
  const res = decodeMessage(encodeResponse(7, ok({ ...header, bytes })))
  assert.ok(res.ok && res.value.kind === 'response' && res.value.result.ok)
  assert.deepEqual(res.value.result.value, { ...header, bytes })
  // In two parts (the gate's WebSocket fragments): the payload is the held bytes, not a copy.
  const [head, payload] = encodeResponseParts(7, ok({ ...header, bytes }))
  assert.equal(payload, bytes)
  assert.deepEqual(
    Buffer.concat([head, payload]),
    Buffer.from(encodeResponse(7, ok({ ...header, bytes }))),
  )

  const failed = decodeMessage(encodeResponse(8, err('E_NOT_FOUND', 'no such volume')))
  assert.ok(failed.ok && failed.value.kind === 'response')
  assert.deepEqual(failed.value.result, err('E_NOT_FOUND', 'no such volume'))

  const event: ApiEvent = {
    type: 'job:progress',
    jobId: JOB as never,
    stage: 'inference',
    done: 3,
    total: 9,
  }
  const ev = decodeMessage(encodeEvent(event))
  assert.ok(ev.ok && ev.value.kind === 'event')
  assert.deepEqual(ev.value.event, event)
})

const VERIFICATION: MaskVerification = {
  reread: 'nifti',
  sizeIJK: [181, 217, 181],
  geometryMaxErrorMm: 3.2e-6,
  geometryToleranceMm: 1e-4,
  voxelsCompared: 7_109_137,
  voxelsEqual: 7_109_137,
  voxelSha256: 'ab'.repeat(32),
}

test('a save report carries its figures over the wire, and they read as one line', () => {
  const report: SaveReport = { path: 'ch2_seg.nii.gz', bytes: 41_000, verification: VERIFICATION }
  const res = decodeMessage(encodeResponse(9, ok(report)))
  assert.ok(res.ok && res.value.kind === 'response' && res.value.result.ok)
  assert.deepEqual(res.value.result.value, report)
  assert.equal(describeVerification(VERIFICATION), 'geometry ≤ 4e-6 mm, 7,109,137 voxels equal')
  assert.ok(verificationPassed(VERIFICATION))
  const differ = { ...VERIFICATION, voxelsEqual: VERIFICATION.voxelsCompared - 1200 }
  assert.equal(describeVerification(differ), 'geometry ≤ 4e-6 mm, 1,200 of 7,109,137 voxels differ')
  assert.equal(
    describeVerification({ ...VERIFICATION, geometryMaxErrorMm: 0 }),
    'geometry exact, 7,109,137 voxels equal',
  )
  assert.equal(verificationPassed(differ), false)
  assert.equal(verificationPassed({ ...VERIFICATION, geometryMaxErrorMm: 2.7e-4 }), false)
  assert.equal(verificationPassed({ ...VERIFICATION, geometryMaxErrorMm: Number.NaN }), false)
  // Rounded up, so "≤" holds: 3e-6 stays 3e-6 despite 3e-6 / 1e-6 = 2.9999999999999996.
  for (const [x, s] of [
    [0, '0'],
    [3e-6, '3e-6'],
    [3.2e-6, '4e-6'],
    [9.5e-5, '1e-4'],
    [1e-4, '1e-4'],
    [2.65625e-4, '3e-4'],
  ] as const) {
    assert.equal(upperBound(x), s, String(x))
    assert.ok(Number(s) >= x, `${s} ≥ ${x}`)
  }
})

test('malformed messages are refused with a code', () => {
  const code = (f: Uint8Array): string => {
    const r = decodeMessage(f)
    return r.ok ? 'ok' : r.error.code
  }
  const bytes = new Uint8Array(32)
  const full = encodeResponse(1, ok({ byteLength: 32, bytes }))
  assert.equal(code(full), 'ok')
  assert.equal(code(full.subarray(0, full.byteLength - 1)), 'E_TRUNCATED') // payload cut short
  assert.equal(code(encodeFrame({ id: 1, method: 'rm', params: {} })), 'E_ARGS')
  assert.equal(code(encodeFrame({ id: 1, method: 'toString', params: {} })), 'E_ARGS')
  assert.equal(code(encodeFrame({ id: -1, method: 'hello', params: {} })), 'E_BAD_HEADER')
  assert.equal(code(encodeFrame({ id: 1, method: 'hello', params: {}, x: 1 })), 'E_BAD_HEADER')
  assert.equal(code(encodeFrame({ id: 1, method: 'hello', params: {} }, bytes)), 'E_BAD_HEADER')
  assert.equal(code(encodeFrame({ event: { type: 'job:exploded' } })), 'E_BAD_HEADER')
  assert.equal(code(encodeFrame({ id: 1, result: { ok: false } })), 'E_BAD_HEADER')
  assert.equal(code(encodeFrame([1, 2])), 'E_BAD_HEADER')
  assert.equal(
    code(encodeFrame({ id: 1, result: { ok: true, value: 5 }, binary: 2 }, new Uint8Array(2))),
    'E_BAD_HEADER',
  )
})

test('asTypedArray views aligned payloads and copies misaligned ones', () => {
  const f = new Float32Array([1.5, -2, 3e10])
  const frame = encodeFrame({}, new Uint8Array(f.buffer))
  const d = decodeFrame(frame)
  assert.ok(d.ok)
  const view = asTypedArray(d.value.payload, 'float32')
  assert.ok(view instanceof Float32Array)
  assert.equal(view.buffer, frame.buffer)
  assert.deepEqual([...view], [...f])
  const host = new Uint8Array(13)
  host.set(new Uint8Array(f.buffer), 1)
  assert.deepEqual([...asTypedArray(host.subarray(1), 'float32')], [...f])
  assert.throws(() => asTypedArray(new Uint8Array(3), 'int16'), /whole number/)
})

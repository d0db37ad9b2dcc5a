// The one name rule (src/shared/file-names.ts) and the request-header limits of the wire format.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  MAX_SAVE_STEM_BYTES,
  cutToUtf8,
  fileNameProblem,
  maskStem,
  numberedMaskName,
  sanitiseName,
  tempFileName,
  tempFileOwner,
  utf8Length,
  visibleName,
} from '../../src/shared/file-names.js'
import { sanitiseUploadName } from '../../src/service/uploads.js'
import { REQUEST_LIMITS, decodeMessage, encodeFrame, encodeRequest } from '../../src/shared/wire.js'

test('names with look-alike or invisible characters are refused, naming the code point', () => {
  for (const [name, label] of [
    ['a\u0001b', 'U+0001'],
    ['a\u007fb', 'U+007F'],
    ['a\u0085b', 'U+0085'],
    ['a\u2028b', 'U+2028'],
    ['scan\u202Ezg.ii', 'U+202E'],
    ['a\u2069b', 'U+2069'],
    ['a\u200Eb', 'U+200E'],
    ['a\u200Db', 'U+200D'],
    ['a\u034Fb', 'U+034F'],
    ['a\ud800b', 'U+D800'],
    ['a/b', 'U+002F'],
  ] as const) {
    assert.match(fileNameProblem(name) ?? 'accepted', new RegExp(label.replace('+', '\\+')), name)
  }
  for (const ok of ['brain_seg.nii.gz', 'Köpf 脑 (2).nii.gz', 'scan 🧠.nii.gz', 'a-b+c.nii']) {
    assert.equal(fileNameProblem(ok), undefined, ok)
  }
  assert.match(fileNameProblem('.hidden') ?? '', /hidden/)
  assert.match(fileNameProblem('') ?? '', /empty/)
  assert.equal(visibleName('scan\u202Ezg.ii'), 'scan<U+202E>zg.ii')
  assert.equal(sanitiseName('a\u202Eb\u200Bc/d'), 'a_b_c_d')
})

test('a mask stem leaves room for -999.nii.gz in 255 UTF-8 bytes', () => {
  assert.equal(MAX_SAVE_STEM_BYTES, 244)
  assert.deepEqual(maskStem(`${'a'.repeat(244)}.nii.gz`), { stem: 'a'.repeat(244) })
  assert.ok(utf8Length(numberedMaskName('a'.repeat(244), 999)) === 255)
  assert.ok('problem' in maskStem(`${'a'.repeat(245)}.nii.gz`))
  assert.ok('problem' in maskStem(`${'é'.repeat(123)}`), '246 bytes in 123 characters')
  assert.ok('problem' in maskStem('.nii.gz'))
  assert.equal(numberedMaskName('x', 0), 'x.nii.gz')
  assert.equal(numberedMaskName('x', 3), 'x-3.nii.gz')
})

test('cutting to a byte length never splits a character; stored upload names fit 120 bytes', () => {
  assert.equal(cutToUtf8('aé🧠', 4), 'aé')
  assert.equal(cutToUtf8('aé🧠', 7), 'aé🧠')
  const stored = sanitiseUploadName(`${'🧠'.repeat(100)}.nii.gz`)
  assert.ok(utf8Length(stored) <= 120, `${utf8Length(stored)} bytes`)
  assert.ok(stored.endsWith('.nii.gz'))
  assert.equal(stored.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''), '.nii.gz')
  assert.equal(sanitiseUploadName('scan\u202Egz.nii.nrrd'), 'scan_gz.nii.nrrd')
})

test('temp names are fixed-length and name their writer', () => {
  const a = tempFileName(1, '0123abcd')
  const b = tempFileName(4194304, 'ffffffff', 'bak')
  assert.equal(a.length, b.length)
  assert.equal(tempFileOwner(a), 1)
  assert.equal(tempFileOwner(b), 4194304)
  assert.equal(tempFileOwner('.scan.nii.gz.123.abcd1234.tmp'), undefined)
  assert.equal(tempFileOwner('.volseg-probe-1-abcd.tmp'), undefined)
})

test('request headers: over 64 KiB or 8 levels deep refused before parsing; legitimate ones pass', () => {
  const code = (f: Uint8Array): string => {
    const r = decodeMessage(f, REQUEST_LIMITS)
    return r.ok ? 'ok' : `${r.error.code} ${r.error.message}`
  }
  assert.equal(code(encodeRequest(1, 'openSource', { source: 'é'.repeat(4096) as never })), 'ok')
  assert.equal(
    code(
      encodeRequest(2, 'uploadLabels', {
        volumeId: 'vol_a' as never,
        dataType: 'uint8',
        sizeIJK: [1, 1, 1],
        bytes: new Uint8Array(1),
      }),
    ),
    'ok',
  )
  assert.match(
    code(encodeFrame({ id: 3, method: 'hello', params: { a: 'x'.repeat(70_000) } })),
    /^E_BAD_HEADER .*65536-byte limit/,
  )
  const deep = JSON.parse(`${'['.repeat(9)}${']'.repeat(9)}`) as unknown
  assert.match(
    code(encodeFrame({ id: 4, method: 'hello', params: { deep } })),
    /^E_BAD_HEADER .*deeper/,
  )
  // Brackets in strings (escaped quotes included) are not nesting.
  const tricky = { id: 5, method: 'listSources', params: { under: '\\"[[[[[[[[[[[[' } }
  assert.equal(code(encodeFrame(tricky)), 'ok')
  // Without limits (a client reading responses) the same deep header still parses.
  assert.equal(decodeMessage(encodeFrame({ id: 4, method: 'hello', params: { deep } })).ok, true)
})

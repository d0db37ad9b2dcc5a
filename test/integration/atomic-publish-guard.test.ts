// The publish guard of writeFileAtomic (set by a job worker: "is my parent still there?") stops
// a write both before it starts and between the verified temp file and its rename: nothing
// appears at the target and no temp file is left.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, afterEach, test } from 'node:test'
import { setPublishGuard, writeFileAtomic } from '../../src/io/atomic-write.js'
import { AppError } from '../../src/shared/errors.js'
import { rejectsWith } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-guard-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
afterEach(() => setPublishGuard(undefined))
const bytes = new TextEncoder().encode('mask')
const gone = (): never => {
  throw new AppError('E_CANCELLED', 'the process that started this job is gone')
}

test('a guard that throws before the write: no file at all', async () => {
  const dir = mkdtempSync(join(tmp, 'a-'))
  setPublishGuard(gone)
  await rejectsWith(writeFileAtomic(join(dir, 'x.nii.gz'), bytes), 'E_CANCELLED')
  assert.deepEqual(readdirSync(dir), [])
})

test('a guard that throws just before the rename (parent died mid-write): target untouched', async () => {
  const dir = mkdtempSync(join(tmp, 'b-'))
  const target = join(dir, 'x.nii.gz')
  writeFileSync(target, 'old')
  let verified = false
  setPublishGuard(() => {
    if (verified) gone()
  })
  await rejectsWith(
    writeFileAtomic(target, bytes, {
      verify: async () => {
        verified = true // the temp file is complete and fsynced here
      },
    }),
    'E_CANCELLED',
  )
  assert.deepEqual(readdirSync(dir), ['x.nii.gz'], 'no temp file left')
  assert.equal(existsSync(target), true)
  assert.equal(readFileSync(target, 'utf8'), 'old')
})

test('without a guard the write goes through', async () => {
  const dir = mkdtempSync(join(tmp, 'c-'))
  await writeFileAtomic(join(dir, 'x.nii.gz'), bytes)
  assert.deepEqual(readdirSync(dir), ['x.nii.gz'])
})

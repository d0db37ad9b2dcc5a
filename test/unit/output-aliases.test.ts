// findOutputAlias: which output of a run lands on an input (path, or device + inode) or on an
// earlier output.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { findOutputAlias } from '../../src/shared/output-aliases.js'

test('an output with the same device and inode as an input is that input, whatever its path', () => {
  const inputs = [
    { path: '/d/a.nii.gz', dev: 1, ino: 10 },
    { path: '/d/a_seg.nii.gz', dev: 1, ino: 11 },
  ]
  assert.deepEqual(findOutputAlias([{ path: '/out/link.nii.gz', dev: 1, ino: 11 }], inputs), {
    kind: 'input',
    output: '/out/link.nii.gz',
    other: '/d/a_seg.nii.gz',
  })
  // Same inode on another device is another file.
  assert.equal(findOutputAlias([{ path: '/out/x.nii.gz', dev: 2, ino: 11 }], inputs), undefined)
})

test('the first aliasing output is reported; a missing output matches by path only', () => {
  const inputs = [{ path: '/d/b.nii.gz', dev: 1, ino: 5 }]
  const outputs = [
    { path: '/o/a_seg.nii.gz' },
    { path: '/d/b.nii.gz' },
    { path: '/o/c.nii.gz', dev: 1, ino: 5 },
  ]
  assert.equal(findOutputAlias(outputs, inputs)?.output, '/d/b.nii.gz')
  assert.equal(findOutputAlias([{ path: '/o/a_seg.nii.gz' }], inputs), undefined)
})

test('two outputs on one file collide, inputs first', () => {
  const outputs = [
    { path: '/o/m.nii.gz' },
    { path: '/o/u.nii.gz', dev: 3, ino: 7 },
    { path: '/o/m.nii.gz' },
  ]
  assert.deepEqual(findOutputAlias(outputs, []), {
    kind: 'output',
    output: '/o/m.nii.gz',
    other: '/o/m.nii.gz',
  })
  const linked = [
    { path: '/o/u.nii.gz', dev: 3, ino: 7 },
    { path: '/o/v.nii.gz', dev: 3, ino: 7 },
  ]
  assert.equal(findOutputAlias(linked, [])?.other, '/o/u.nii.gz')
  assert.equal(findOutputAlias(linked, [{ path: '/i', dev: 3, ino: 7 }])?.kind, 'input')
})

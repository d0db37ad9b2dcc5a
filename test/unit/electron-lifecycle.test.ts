// Grants, dialogs, command lines, second launches, the unsaved-changes guard, recent files and
// the crash-recovery scan: the real modules, over real temporary files.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isSourceRef } from '../../src/shared/api.js'
import { GRANT_REF, GrantTable } from '../../electron/main/grants.js'
import { chooseSource, openDialogOptions } from '../../electron/main/dialogs.js'
import {
  guardUnload,
  onSecondInstance,
  pathFromArgv,
  unsavedChangesBox,
} from '../../electron/main/lifecycle.js'
import { addRecent, readRecent, writeRecent, MAX_RECENT } from '../../electron/main/recent.js'
import { findCrashedBackups, recoveryBox } from '../../electron/main/recovery.js'

const SECRET = new Uint8Array(32).fill(7)

test('grants: opaque, stable per install, only issued refs resolve', () => {
  const g = new GrantTable(SECRET)
  const a = g.grant('/data/scans/a.nii.gz', 'file')
  assert.match(a.ref, GRANT_REF)
  assert.ok(isSourceRef(a.ref))
  assert.equal(a.ref.includes('scans'), false)
  assert.equal(a.confineTo, '/data/scans')
  assert.equal(g.grant('/data/scans/a.nii.gz', 'file').ref, a.ref)
  assert.equal(g.resolve(a.ref)?.path, '/data/scans/a.nii.gz')
  // Same path, same secret, another run: same ref (backups keyed by it are found again).
  assert.equal(new GrantTable(SECRET).refFor('/data/scans/a.nii.gz', 'file'), a.ref)
  assert.notEqual(
    new GrantTable(new Uint8Array(32).fill(8)).refFor('/data/scans/a.nii.gz', 'file'),
    a.ref,
  )
  // Never issued here, or not a grant at all: nothing.
  assert.equal(new GrantTable(SECRET).resolve(a.ref), undefined)
  for (const x of ['/etc/passwd', 'a.nii.gz', 'grant:0', `grant:${'0'.repeat(32)}`]) {
    assert.equal(g.resolve(x), undefined, x)
  }
  const f = g.grant('/data/dicom', 'folder')
  assert.equal(f.confineTo, '/data/dicom')
  assert.throws(() => g.grant('relative/path', 'file'))
  assert.throws(() => new GrantTable(new Uint8Array(4)))
})

test('open dialogs grant the chosen path; a cancelled dialog grants nothing', async () => {
  const g = new GrantTable(SECRET)
  const asked: unknown[] = []
  const c = await chooseSource(
    async (o) => {
      asked.push(o)
      return { canceled: false, filePaths: ['/data/x/ct.nrrd'] }
    },
    g,
    'file',
  )
  assert.equal(c?.type, 'open-source')
  assert.equal(c?.name, 'ct.nrrd')
  assert.equal(g.resolve(c!.source)?.path, '/data/x/ct.nrrd')
  assert.deepEqual(asked, [openDialogOptions('file')])
  assert.deepEqual(openDialogOptions('dicom-folder').properties, [
    'openDirectory',
    'dontAddToRecent',
  ])
  const none = await chooseSource(
    async () => ({ canceled: true, filePaths: [] }),
    g,
    'dicom-folder',
  )
  assert.equal(none, undefined)
  assert.equal(g.size, 1)
})

test('command lines and second launches: the file is found, the window comes forward', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-argv-'))
  writeFileSync(join(dir, 'a.nii.gz'), 'x')
  mkdirSync(join(dir, 'series'))
  assert.deepEqual(pathFromArgv(['/opt/volseg', '--flag', 'a.nii.gz'], dir, 1), {
    path: join(dir, 'a.nii.gz'),
    kind: 'file',
  })
  assert.deepEqual(pathFromArgv(['electron', '.', join(dir, 'series')], '/', 2), {
    path: join(dir, 'series'),
    kind: 'folder',
  })
  assert.equal(pathFromArgv(['/opt/volseg', 'missing.nii'], dir, 1), undefined)
  assert.equal(pathFromArgv(['/opt/volseg'], dir, 1), undefined)
  const calls: string[] = []
  const win = {
    isMinimized: () => true,
    restore: () => calls.push('restore'),
    show: () => calls.push('show'),
    focus: () => calls.push('focus'),
  }
  const opened: string[] = []
  onSecondInstance(win, ['/opt/volseg', 'a.nii.gz'], dir, 1, (p) => opened.push(p.path))
  assert.deepEqual(calls, ['restore', 'show', 'focus'])
  assert.deepEqual(opened, [join(dir, 'a.nii.gz')])
  onSecondInstance(win, ['/opt/volseg'], dir, 1, (p) => opened.push(p.path))
  assert.equal(opened.length, 1, 'no file: focus only')
})

test("unsaved-changes guard: Save keeps the window, Don't Save closes, Cancel keeps it", () => {
  const box = unsavedChangesBox()
  assert.deepEqual(box.buttons, ['Save…', "Don't Save", 'Cancel'])
  assert.equal(box.cancelId, 2)
  for (const [response, want, prevented, saved] of [
    [0, 'save', false, true],
    [1, 'discard', true, false],
    [2, 'cancel', false, false],
    [9, 'cancel', false, false],
  ] as const) {
    let p = false
    let s = false
    const choice = guardUnload(
      { preventDefault: () => (p = true) },
      () => response,
      () => (s = true),
    )
    assert.equal(choice, want)
    assert.equal(p, prevented, `response ${response}: unload allowed only on Don't Save`)
    assert.equal(s, saved)
  }
})

test('recent files: newest first, no duplicates, bounded, survive a restart', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'volseg-recent-')), 'recent.json')
  assert.deepEqual(await readRecent(file), [])
  let list = addRecent([], { path: '/a', kind: 'file' })
  list = addRecent(list, { path: '/b', kind: 'folder' })
  list = addRecent(list, { path: '/a', kind: 'file' })
  assert.deepEqual(
    list.map((e) => e.path),
    ['/a', '/b'],
  )
  for (let k = 0; k < 20; k++) list = addRecent(list, { path: `/f${k}`, kind: 'file' })
  assert.equal(list.length, MAX_RECENT)
  await writeRecent(file, list)
  assert.deepEqual(await readRecent(file), list)
  writeFileSync(file, '{"not":"a list"}')
  assert.deepEqual(await readRecent(file), [])
})

test("crash recovery: backups of a dead run are found and named, a live run's are not", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volseg-recovery-'))
  // A pid that surely is gone: a child that has exited.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!
  writeFileSync(join(dir, `run-${dead}-0123abcd.lock`), '')
  writeFileSync(join(dir, `run-${process.pid}-89abcdef.lock`), '')
  const side = (key: string, runId: string, sourceName: string): void =>
    writeFileSync(
      join(dir, `${key}.json`),
      JSON.stringify({
        format: 'volseg-backup',
        runId,
        source: `grant:${key}`,
        sourceName,
        savedAt: '2026-01-01T00:00:00Z',
      }),
    )
  side('a'.repeat(32), `${dead}-0123abcd`, 'brain.nii.gz')
  side('b'.repeat(32), `${process.pid}-89abcdef`, 'live.nii.gz')
  writeFileSync(join(dir, `${'c'.repeat(32)}.json`), 'not json')
  const found = await findCrashedBackups(dir)
  assert.deepEqual(
    found.map((b) => b.sourceName),
    ['brain.nii.gz'],
  )
  assert.equal(found[0]?.source, `grant:${'a'.repeat(32)}`)
  const box = recoveryBox(found)
  assert.match(String(box.detail), /brain\.nii\.gz/)
  assert.deepEqual(box.buttons, ['Reopen Them', 'Later'])
  assert.deepEqual(await findCrashedBackups(join(dir, 'missing')), [])
  // No dead marker: nothing is offered.
  const clean = mkdtempSync(join(tmpdir(), 'volseg-recovery-'))
  assert.deepEqual(await findCrashedBackups(clean), [])
})

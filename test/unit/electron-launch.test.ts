// The real `npm start` decision (src/cli/start.ts).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import {
  decideLaunch,
  fallbackLine,
  findElectronBinary,
  hasDisplay,
  type LaunchProbe,
} from '../../src/cli/start.js'

const ready: LaunchProbe = {
  platform: 'linux',
  env: { DISPLAY: ':0' },
  electronBinary: '/x/node_modules/electron/dist/electron',
  appBuilt: true,
}

test('Electron when its binary, the app and a display are there; FILE is passed on', () => {
  assert.deepEqual(decideLaunch(ready, '/x'), {
    kind: 'electron',
    binary: '/x/node_modules/electron/dist/electron',
    args: ['/x'],
  })
  const d = decideLaunch({ ...ready, env: { WAYLAND_DISPLAY: 'wayland-0' } }, '/x', 'scan.nii.gz')
  assert.deepEqual(d, {
    kind: 'electron',
    binary: '/x/node_modules/electron/dist/electron',
    args: ['/x', resolve('scan.nii.gz')],
  })
  for (const platform of ['win32', 'darwin'] as const) {
    assert.equal(decideLaunch({ ...ready, platform, env: {} }, '/x').kind, 'electron')
  }
})

test('otherwise serve --open, with the first missing thing as the one-line reason', () => {
  const cases: [Partial<LaunchProbe>, RegExp][] = [
    [{ electronBinary: undefined }, /Electron is not installed/],
    [{ appBuilt: false }, /desktop app is not built/],
    [{ env: {} }, /no display/],
    [{ env: { DISPLAY: '' } }, /no display/],
    [{ electronBinary: undefined, env: {} }, /Electron is not installed/],
  ]
  for (const [change, why] of cases) {
    const d = decideLaunch({ ...ready, ...change }, '/x')
    assert.equal(d.kind, 'serve', JSON.stringify(change))
    if (d.kind !== 'serve') continue
    assert.match(d.reason, why)
    assert.deepEqual(d.args, ['serve', '--open'])
    const line = fallbackLine(d.reason)
    assert.equal(line.includes('\n'), false)
    assert.match(line, /^volseg: starting the browser viewer instead of the desktop app: /)
  }
  const f = decideLaunch({ ...ready, env: {} }, '/x', '/data/scans/ct.nrrd')
  assert.deepEqual(f.args, ['serve', '--open', '--data', '/data/scans', '--open-source', 'ct.nrrd'])
})

test('hasDisplay: X11 or Wayland on Linux, always on Windows and macOS', () => {
  assert.equal(hasDisplay('linux', {}), false)
  assert.equal(hasDisplay('linux', { DISPLAY: ':1' }), true)
  assert.equal(hasDisplay('freebsd', { WAYLAND_DISPLAY: 'w' }), true)
  assert.equal(hasDisplay('win32', {}), true)
  assert.equal(hasDisplay('darwin', {}), true)
})

test('findElectronBinary reads path.txt like electron/index.js, without downloading', () => {
  const root = mkdtempSync(join(tmpdir(), 'volseg-electron-'))
  const pkg = join(root, 'node_modules', 'electron')
  mkdirSync(join(pkg, 'dist'), { recursive: true })
  assert.equal(findElectronBinary(root, {}), undefined, 'no path.txt: not installed')
  writeFileSync(join(pkg, 'path.txt'), 'electron')
  assert.equal(findElectronBinary(root, {}), undefined, 'path.txt but no binary')
  writeFileSync(join(pkg, 'dist', 'electron'), '')
  assert.equal(findElectronBinary(root, {}), join(pkg, 'dist', 'electron'))
  const other = mkdtempSync(join(tmpdir(), 'volseg-electron-dist-'))
  assert.equal(findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: other }), undefined)
  writeFileSync(join(other, 'electron'), '')
  assert.equal(
    findElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: other }),
    join(other, 'electron'),
  )
})

// The real native menu template (electron/main/menu.ts): every item the issue lists, wired.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { MenuItemConstructorOptions } from 'electron'
import {
  LICENCES,
  SHORTCUTS,
  aboutText,
  menuTemplate,
  type MenuActions,
} from '../../electron/main/menu.js'

function actions(): { a: MenuActions; done: string[] } {
  const done: string[] = []
  const a = new Proxy({} as MenuActions, {
    get: (_t, k: string) => (arg?: string) => done.push(arg === undefined ? k : `${k}:${arg}`),
  })
  return { a, done }
}

function flat(
  items: readonly MenuItemConstructorOptions[],
): Map<string, MenuItemConstructorOptions> {
  const out = new Map<string, MenuItemConstructorOptions>()
  const walk = (xs: readonly MenuItemConstructorOptions[]): void => {
    for (const x of xs) {
      if (x.id) out.set(x.id, x)
      if (Array.isArray(x.submenu)) walk(x.submenu)
    }
  }
  walk(items)
  return out
}

const click = (x: MenuItemConstructorOptions | undefined): void =>
  (x?.click as unknown as () => void)()

test('File, Edit, View, Help with every item, each doing its action', () => {
  const { a, done } = actions()
  const recent = [
    { path: '/data/a.nii.gz', label: 'a.nii.gz' },
    { path: '/data/dicom', label: 'dicom' },
  ]
  const t = menuTemplate(a, { platform: 'linux', appName: 'VolSeg', recent, devTools: false })
  assert.deepEqual(
    t.map((m) => m.id),
    ['file', 'edit', 'view', 'help'],
  )
  const items = flat(t)
  for (const id of [
    'file.open',
    'file.open-dicom',
    'file.recent',
    'file.recent.0',
    'file.recent.1',
    'file.recent.clear',
    'file.save',
    'file.export',
    'file.quit',
    'edit.undo',
    'edit.redo',
    'view.zoom-in',
    'view.fullscreen',
    'help.about',
    'help.shortcuts',
    'help.licences',
  ]) {
    assert.ok(items.has(id), `menu has ${id}`)
  }
  assert.equal(items.has('view.devtools'), false, 'no devtools item in a packaged app')
  for (const id of [
    'file.open',
    'file.open-dicom',
    'file.recent.1',
    'file.save',
    'file.export',
    'edit.undo',
    'edit.redo',
    'help.about',
    'help.shortcuts',
    'help.licences',
  ]) {
    click(items.get(id))
  }
  assert.deepEqual(done, [
    'openFile',
    'openDicomFolder',
    'openRecent:/data/dicom',
    'save',
    'export',
    'undo',
    'redo',
    'showAbout',
    'showShortcuts',
    'showLicences',
  ])
  assert.equal(items.get('file.open')?.accelerator, 'CmdOrCtrl+O')
  assert.equal(items.get('file.save')?.accelerator, 'CmdOrCtrl+S')
  assert.equal(items.get('edit.undo')?.accelerator, 'CmdOrCtrl+Z')
})

test('no recent files: one disabled entry; macOS: app menu, devtools when unpackaged', () => {
  const { a } = actions()
  const none = flat(
    menuTemplate(a, { platform: 'linux', appName: 'VolSeg', recent: [], devTools: false }),
  )
  assert.equal(none.get('file.recent.none')?.enabled, false)
  const mac = menuTemplate(a, { platform: 'darwin', appName: 'VolSeg', recent: [], devTools: true })
  assert.equal(mac[0]?.id, 'app')
  const items = flat(mac)
  assert.ok(items.has('app.about') && items.has('app.quit') && items.has('view.devtools'))
  assert.equal(items.has('file.quit'), false)
})

test('About names every version and the licences; shortcuts are listed', () => {
  const text = aboutText({
    app: '0.1.0',
    electron: '45.6.1',
    chrome: '140.0.1',
    node: '22.20.0',
    v8: '14.0',
    onnxruntime: '1.30.0',
  })
  for (const s of [
    'VolSeg 0.1.0',
    'Electron 45.6.1',
    'Chromium 140.0.1',
    'Node.js 22.20.0',
    'V8 14.0',
    'onnxruntime-node 1.30.0',
  ]) {
    assert.ok(text.includes(s), s)
  }
  for (const l of LICENCES) assert.ok(text.includes(`${l.name}: ${l.licence}`), l.name)
  assert.ok(SHORTCUTS.some((s) => s.what.startsWith('Undo')))
  assert.ok(SHORTCUTS.some((s) => s.what.startsWith('Open a DICOM')))
})

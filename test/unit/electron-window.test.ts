// The real window options factory and hardening handlers (electron/main/windows.ts). Electron's
// objects are stood in by plain Node EventEmitters of the same shape; what is tested is our
// handlers' answers, not Electron.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { HardenedContents, PermissionSession } from '../../electron/main/windows.js'
import {
  denyPermissions,
  hardenApp,
  hardenContents,
  isAppUrl,
  webPreferences,
  windowOptions,
} from '../../electron/main/windows.js'
import { isAllowedExternal, openExternalSafely } from '../../electron/main/external-links.js'

test('webPreferences: sandbox, isolation, no Node, web security, no webview (E1)', () => {
  const w = webPreferences({ preloadPath: '/app/dist/electron/preload.cjs' })
  assert.equal(w.sandbox, true)
  assert.equal(w.contextIsolation, true)
  assert.equal(w.nodeIntegration, false)
  assert.equal(w.nodeIntegrationInWorker, false)
  assert.equal(w.nodeIntegrationInSubFrames, false)
  assert.equal(w.webSecurity, true)
  assert.equal(w.allowRunningInsecureContent, false)
  assert.equal(w.webviewTag, false)
  assert.equal(w.experimentalFeatures, false)
  assert.equal(w.enableBlinkFeatures, '')
  assert.equal(w.disableBlinkFeatures, 'Auxclick')
  assert.equal(w.navigateOnDragDrop, false)
  assert.equal(w.preload, '/app/dist/electron/preload.cjs')
  const o = windowOptions({ preloadPath: '/p.cjs' })
  assert.deepEqual(o.webPreferences, webPreferences({ preloadPath: '/p.cjs' }))
  assert.equal(o.show, false)
})

/** A webContents stand-in: a real EventEmitter plus the window-open handler slot. */
class Contents extends EventEmitter {
  openHandler: ((d: { url: string }) => { action: string }) | undefined
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }): void {
    this.openHandler = h
  }
}

function navEvent(url: string): { url: string; prevented: boolean; preventDefault(): void } {
  return {
    url,
    prevented: false,
    preventDefault() {
      this.prevented = true
    },
  }
}

test('navigation away, window.open and <webview> are denied (E6)', async () => {
  const c = new Contents()
  const opened: string[] = []
  hardenContents(c as unknown as HardenedContents, async (u) => {
    opened.push(u)
  })
  for (const ev of ['will-navigate', 'will-redirect', 'will-frame-navigate']) {
    for (const url of [
      'https://evil.example/',
      'file:///etc/passwd',
      'http://127.0.0.1:8787/',
      'app://bundle.evil/index.html',
      'app://other/index.html',
      'javascript:alert(1)',
    ]) {
      const e = navEvent(url)
      c.emit(ev, e)
      assert.equal(e.prevented, true, `${ev} to ${url} must be prevented`)
    }
    const home = navEvent('app://bundle/index.html')
    c.emit(ev, home)
    assert.equal(home.prevented, false, `${ev} within the bundle (a reload) stays allowed`)
  }
  const wv = navEvent('app://bundle/')
  c.emit('will-attach-webview', wv, {}, {})
  assert.equal(wv.prevented, true)
  assert.ok(c.openHandler, 'a window-open handler is set')
  for (const url of [
    'https://github.com/volseg',
    'https://evil.example/',
    'file:///etc/passwd',
    'app://bundle/index.html',
    'javascript:alert(1)',
  ]) {
    assert.deepEqual(c.openHandler({ url }), { action: 'deny' }, url)
  }
  await new Promise((r) => setImmediate(r))
  // Only the allow-listed https link went to the default browser.
  assert.deepEqual(opened, ['https://github.com/volseg'])
})

test('every webContents the app creates is hardened (web-contents-created)', () => {
  const app = new EventEmitter()
  hardenApp(app as never, async () => undefined)
  const c = new Contents()
  app.emit('web-contents-created', {}, c)
  const e = navEvent('https://evil.example/')
  c.emit('will-navigate', e)
  assert.equal(e.prevented, true)
  assert.deepEqual(c.openHandler?.({ url: 'https://evil.example/' }), { action: 'deny' })
})

test('every permission request and check is denied (E6)', () => {
  const got: Record<string, unknown> = {}
  const s = {
    setPermissionRequestHandler: (h: unknown) => (got.request = h),
    setPermissionCheckHandler: (h: unknown) => (got.check = h),
    setDevicePermissionHandler: (h: unknown) => (got.device = h),
    setDisplayMediaRequestHandler: (h: unknown) => (got.display = h),
  }
  denyPermissions(s as unknown as PermissionSession)
  const request = got.request as (wc: unknown, p: string, cb: (ok: boolean) => void) => void
  for (const p of ['media', 'notifications', 'geolocation', 'fullscreen', 'openExternal', 'hid']) {
    let answer: boolean | undefined
    request({}, p, (ok) => (answer = ok))
    assert.equal(answer, false, p)
  }
  const check = got.check as (wc: unknown, p: string) => boolean
  assert.equal(check(null, 'media'), false)
  assert.equal(check(null, 'clipboard-read'), false)
  assert.equal((got.device as () => boolean)(), false)
  let streams: unknown = 'unset'
  ;(got.display as (r: unknown, cb: (s: unknown) => void) => void)({}, (s2) => (streams = s2))
  assert.equal(streams, null)
})

test('shell.openExternal only for allow-listed https links (E7)', async () => {
  for (const ok of ['https://github.com/x/y', 'https://onnxruntime.ai/docs/']) {
    assert.equal(isAllowedExternal(ok), true, ok)
  }
  for (const bad of [
    'file:///etc/passwd',
    'javascript:alert(1)',
    'smb://server/share',
    'http://github.com/',
    'https://github.com.evil.example/',
    'https://evil.example/?https://github.com',
    'https://user:pw@github.com/',
    'https://github.com:8443/',
    'ms-msdt:/id',
    'not a url',
    42,
  ]) {
    assert.equal(isAllowedExternal(bad), false, String(bad))
  }
  const opened: string[] = []
  const open = async (u: string): Promise<void> => {
    opened.push(u)
  }
  assert.equal(await openExternalSafely('file:///etc/passwd', open), false)
  assert.equal(await openExternalSafely('https://github.com/', open), true)
  assert.deepEqual(opened, ['https://github.com/'])
})

test('isAppUrl: the bundle origin only', () => {
  assert.equal(isAppUrl('app://bundle/index.html'), true)
  assert.equal(isAppUrl('app://bundle.evil/index.html'), false)
  assert.equal(isAppUrl('app://evil/'), false)
  assert.equal(isAppUrl('file:///index.html'), false)
})

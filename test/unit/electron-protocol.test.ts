// The real app:// handler (electron/main/protocol.ts) over the real built renderer/dist, with
// web-standard Request/Response as protocol.handle passes them (E4, E5).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  APP_ORIGIN,
  appContentSecurityPolicy,
  createAppProtocolHandler,
  privilegedSchemes,
  rawAppPath,
} from '../../electron/main/protocol.js'
import { contentSecurityPolicy } from '../../src/serve/csp.js'
import { ROOT } from '../helpers.js'

const DIST = join(ROOT, 'renderer', 'dist')
const handler = createAppProtocolHandler(DIST)

/** A request as Chromium hands it (the URL string unparsed: no `..` folding by Node's URL). */
function raw(url: string, method = 'GET'): Request {
  return { url, method } as Request
}

test('serves the built index.html with the CSP header', async () => {
  assert.ok(existsSync(join(DIST, 'index.html')), 'renderer/dist is built (npm run build)')
  for (const url of ['app://bundle/', 'app://bundle/index.html', 'app://bundle/index.html?x=1']) {
    const r = await handler(new Request(url))
    assert.equal(r.status, 200, url)
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(r.headers.get('content-security-policy'), appContentSecurityPolicy())
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(await r.text(), readFileSync(join(DIST, 'index.html'), 'utf8'))
  }
  // Assets and the itk-wasm pipeline the slice-fill worker loads are served too, typed.
  const html = readFileSync(join(DIST, 'index.html'), 'utf8')
  const script = /src="(?:\.\/|\/)?(assets\/[^"]+\.js)"/.exec(html)?.[1]
  assert.ok(script, 'index.html names its script')
  const js = await handler(new Request(`${APP_ORIGIN}/${script}`))
  assert.equal(js.status, 200)
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8')
  const head = await handler(new Request(`${APP_ORIGIN}/index.html`, { method: 'HEAD' }))
  assert.equal(head.status, 200)
  assert.equal(await head.text(), '')
})

test('the CSP: what the viewer needs and no more', () => {
  const csp = appContentSecurityPolicy()
  const d = new Map(csp.split('; ').map((x) => [x.split(' ')[0], x] as const))
  assert.equal(d.get('script-src'), "script-src 'self' 'wasm-unsafe-eval'")
  assert.equal(d.get('default-src'), "default-src 'self'")
  assert.equal(d.get('connect-src'), "connect-src 'self'")
  assert.equal(d.get('worker-src'), "worker-src 'self' blob:")
  assert.equal(d.get('object-src'), "object-src 'none'")
  assert.equal(d.get('frame-ancestors'), "frame-ancestors 'none'")
  assert.doesNotMatch(csp, /'unsafe-eval'|https?:|wss?:|\*/)
  // Same as volseg serve's policy except that there is no WebSocket to reach.
  const serve = contentSecurityPolicy('127.0.0.1:1').replace(/ ws:\/\/[^;]+/, '')
  assert.equal(csp, serve)
})

test('refuses traversal: plain, encoded, backslash, absolute, NUL, other hosts', async () => {
  const bad = [
    'app://bundle/../package.json',
    'app://bundle/../../package.json',
    'app://bundle/%2e%2e/package.json',
    'app://bundle/%2e%2e%2fpackage.json',
    'app://bundle/%2E%2E%2F%2E%2E%2Fpackage.json',
    'app://bundle/..%5cpackage.json',
    'app://bundle/assets/..%2f..%2fpackage.json',
    'app://bundle//etc/passwd',
    'app://bundle/%2fetc%2fpasswd',
    'app://bundle/index.html%00.png',
    'app://bundle/%',
    'app://other/index.html',
    'app://bundle.evil/index.html',
    'file:///etc/passwd',
    `app://bundle/${join(ROOT, 'package.json')}`,
  ]
  for (const url of bad) {
    const r = await handler(raw(url))
    assert.equal(r.status, 404, url)
    assert.equal(r.headers.get('content-security-policy'), appContentSecurityPolicy())
    assert.doesNotMatch(await r.text(), /"name"|root:/, url)
  }
  assert.equal((await handler(raw('app://bundle/index.html', 'POST'))).status, 405)
  assert.equal(rawAppPath('app://bundle/../x?y'), '/../x')
})

test('refuses a symlink out of the bundle, serves a file inside it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'volseg-app-'))
  const outside = mkdtempSync(join(tmpdir(), 'volseg-secret-'))
  writeFileSync(join(outside, 'secret.txt'), 'secret')
  mkdirSync(join(root, 'assets'))
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>')
  writeFileSync(join(root, 'assets', 'ok.txt'), 'ok')
  symlinkSync(join(outside, 'secret.txt'), join(root, 'assets', 'link.txt'))
  symlinkSync(outside, join(root, 'out'))
  const h = createAppProtocolHandler(root)
  assert.equal((await h(raw('app://bundle/assets/ok.txt'))).status, 200)
  assert.equal(await (await h(raw('app://bundle/assets/ok.txt'))).text(), 'ok')
  for (const url of ['app://bundle/assets/link.txt', 'app://bundle/out/secret.txt']) {
    const r = await h(raw(url))
    assert.equal(r.status, 404, url)
    assert.notEqual(await r.text(), 'secret')
  }
})

test('app:// is privileged as standard + secure, and never bypasses CSP', () => {
  const [s] = privilegedSchemes()
  assert.equal(s?.scheme, 'app')
  assert.equal(s?.privileges?.standard, true)
  assert.equal(s?.privileges?.secure, true)
  assert.equal(s?.privileges?.bypassCSP, false)
  assert.equal(s?.privileges?.allowServiceWorkers, false)
  assert.equal(s?.privileges?.corsEnabled, false)
})

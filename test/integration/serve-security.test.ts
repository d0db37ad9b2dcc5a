// `volseg serve` as a user starts it (architecture.md §5, S1–S6): the real CLI, a real HTTP server, the
// real WebSocket gate and service, real files. Every refusal is checked from the outside.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { MAX_UPLOAD_BYTES, type OpenedVolume, type SourceRef } from '../../src/shared/api.js'
import { encodeFrame, encodeRequest } from '../../src/shared/wire.js'
import { connectNodeClient, type NodeClient } from '../../src/serve/ws-node-client.js'
import { ROOT, fixture } from '../helpers.js'

const BIN = join(ROOT, 'bin', 'volseg.mjs')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-serve-sec-'))
const data = join(tmp, 'data')
const out = join(tmp, 'out')
const outside = join(tmp, 'outside')
let proc: ChildProcess
let url: URL
let token: string
let port: number

/** Starts `volseg serve` and resolves the printed URL. */
function serve(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ proc: ChildProcess; url: URL }> {
  const p = spawn(process.execPath, [BIN, 'serve', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VOLSEG_HOME: join(tmp, 'home'), ...extraEnv },
  })
  return new Promise((resolveUrl, reject) => {
    let stdout = ''
    let stderr = ''
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    p.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      const m = /^VolSeg serving at (http:\/\/\S+)$/m.exec(stdout)
      if (m) resolveUrl({ proc: p, url: new URL(m[1]!) })
    })
    p.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)))
  })
}

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A raw GET: the path is sent as given (no client-side `..` normalisation). */
function get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolveReply, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { ...headers } },
      (res) => {
        let body = ''
        res.on('data', (d: Buffer) => (body += d.toString()))
        res.on('end', () =>
          resolveReply({ status: res.statusCode ?? 0, headers: res.headers, body }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** A raw WebSocket upgrade of `path`: its status and headers (101 when accepted). */
function upgrade(path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolveReply, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        Origin: `http://127.0.0.1:${port}`,
        ...headers,
      },
    })
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolveReply({ status: res.statusCode ?? 0, headers: res.headers, body: '' })
    })
    req.on('response', (res) => {
      res.resume()
      resolveReply({ status: res.statusCode ?? 0, headers: res.headers, body: '' })
    })
    req.on('error', reject)
    req.end()
  })
}

/** A cookie with our token, as an old server set it (or another local app might). */
const cookie = (): Record<string, string> => ({ Cookie: `volseg_token_${port}=${token}` })
/** The subprotocols that carry `t`. */
const protocols = (t: string): Record<string, string> => ({
  'Sec-WebSocket-Protocol': `volseg, volseg.token.${t}`,
})
const wsUrl = (): string => `ws://127.0.0.1:${port}/ws`

before(async () => {
  mkdirSync(data)
  mkdirSync(outside)
  copyFileSync(fixture('ch2.nii.gz'), join(data, 'ch2.nii.gz'))
  writeFileSync(join(outside, 'secret.txt'), 'secret\n')
  copyFileSync(fixture('ch2.nii.gz'), join(outside, 'outside.nii.gz'))
  symlinkSync(join(outside, 'outside.nii.gz'), join(data, 'link-out.nii.gz'))
  symlinkSync(outside, join(data, 'dir-out'))
  ;({ proc, url } = await serve(['--port', '0', '--data', data, '--out', out, '--max-frame', '1']))
  token = new URLSearchParams(url.hash.slice(1)).get('token')!
  port = Number(url.port)
})

after(async () => {
  if (proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    await exited
  }
  rmSync(tmp, { recursive: true, force: true })
})

test('S1/S2: loopback URL with a 32-byte hex token in the fragment, never sent to a server', () => {
  assert.equal(url.hostname, '127.0.0.1')
  assert.match(token, /^[0-9a-f]{64}$/)
  assert.equal(url.pathname, '/')
  assert.equal(url.search, '', 'no token in the query')
  assert.equal(url.hash, `#token=${token}`)
})

test('S2: HTTP serves only the public renderer, with CSP and no CORS; old ?token= links move to the fragment', async () => {
  const page = await get('/')
  assert.equal(page.status, 200)
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/)
  // WebAssembly compilation only (the slice-fill worker's itk-wasm pipeline), no eval
  assert.match(
    String(page.headers['content-security-policy']),
    /script-src 'self' 'wasm-unsafe-eval'(;|$)/,
  )
  assert.equal(page.headers['x-content-type-options'], 'nosniff')
  assert.equal(page.headers['referrer-policy'], 'no-referrer')
  assert.equal(page.headers['access-control-allow-origin'], undefined)
  const old = await get(`/?token=${token}`)
  assert.equal(old.status, 302)
  assert.equal(old.headers.location, `/#token=${token}`)
  const kept = await get(`/?bench&token=${token}`)
  assert.equal(kept.headers.location, `/?bench=#token=${token}`)
  // No data over HTTP: the socket path and the data folder are not files here.
  assert.equal((await get('/ws', cookie())).status, 404)
  assert.equal((await get('/ch2.nii.gz', cookie())).status, 404)
  assert.equal((await get('/', { ...cookie(), Connection: 'close' })).status, 200)
  const post = await new Promise<number>((done, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'POST' }, (res) => {
      res.resume()
      done(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end()
  })
  assert.equal(post, 405)
})

test('S2: no response sets a cookie (cookies reach every port of the host)', async () => {
  const replies = [
    await get('/'),
    await get('/index.html'),
    await get(`/?token=${token}`),
    await get(`/?token=${'0'.repeat(64)}`),
    await get('/nope.js'),
    await get('/', { Host: `evil.example:${port}` }),
    await upgrade('/ws', protocols(token)),
    await upgrade('/ws', protocols('0'.repeat(64))),
    await upgrade(`/ws?token=${token}`),
  ]
  assert.deepEqual(
    replies.map((r) => r.status),
    [200, 200, 302, 302, 404, 403, 101, 401, 401],
  )
  for (const r of replies) assert.equal(r.headers['set-cookie'], undefined, String(r.status))
})

test('S3: HTTP with a foreign Host is refused', async () => {
  const r = await get('/', { Host: `evil.example:${port}` })
  assert.equal(r.status, 403)
})

test('S4: static path traversal is a 404', async () => {
  for (const p of [
    '/../../../../etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/..%5c..%5cetc%5cpasswd',
    '//etc/passwd',
    '/%00index.html',
    '/index.html%00.png',
    '/nope.js',
  ]) {
    const r = await get(p)
    assert.equal(r.status, 404, `${p} → ${r.status}`)
    assert.doesNotMatch(r.body, /root:/)
  }
})

test('S2/S3: WebSocket refused without the token subprotocol, with a foreign Origin or Host', async () => {
  await assert.rejects(connectNodeClient(wsUrl()), /HTTP 401/)
  await assert.rejects(connectNodeClient(wsUrl(), { token: '0'.repeat(64) }), /HTTP 401/)
  await assert.rejects(
    connectNodeClient(wsUrl(), { token, origin: 'http://evil.example' }),
    /HTTP 403/,
  )
  await assert.rejects(
    connectNodeClient(wsUrl(), {
      token,
      origin: `http://evil.example:${port}`,
      headers: { Host: `evil.example:${port}` },
    }),
    /HTTP 403/,
  )
  await assert.rejects(connectNodeClient(wsUrl(), { token, origin: 'null' }), /HTTP 403/)
  // A cookie, even with the right token, and a token in the query do not authenticate.
  await assert.rejects(connectNodeClient(wsUrl(), { headers: cookie() }), /HTTP 401/)
  assert.equal((await upgrade('/ws', cookie())).status, 401)
  assert.equal((await upgrade(`/ws?token=${token}`)).status, 401)
  assert.equal((await upgrade(`/ws?token=${token}`, cookie())).status, 401)
  // The subprotocol must come with `volseg`, once.
  assert.equal(
    (await upgrade('/ws', { 'Sec-WebSocket-Protocol': `volseg.token.${token}` })).status,
    401,
  )
  const twice = `volseg, volseg.token.${token}, volseg.token.${'0'.repeat(64)}`
  assert.equal((await upgrade('/ws', { 'Sec-WebSocket-Protocol': twice })).status, 401)
  // The token subprotocol is enough; the answer names `volseg` only, never the token.
  const raw = await upgrade('/ws', protocols(token))
  assert.equal(raw.status, 101)
  assert.equal(raw.headers['sec-websocket-protocol'], 'volseg')
  const c = await connectNodeClient(wsUrl(), { token })
  assert.equal(c.socket.protocol, 'volseg')
  const hello = await c.hello({})
  assert.ok(hello.ok)
  assert.equal(hello.value.sampleSource, 'ch2.nii.gz')
  assert.equal(hello.value.dataRootName, 'data')
  c.close()
})

test('S2: a cookie another local app tossed at 127.0.0.1 breaks nothing, even a large one', async () => {
  // Chromium keeps up to 180 cookies of 4 KiB per host, far past Node's 16 KiB default head.
  const bomb = Array.from({ length: 180 }, (_, i) => `junk${i}=${'x'.repeat(4000)}`).join('; ')
  const headers = { Cookie: `volseg_token_${port}=${'f'.repeat(64)}; ${bomb}` }
  assert.equal((await get('/', headers)).status, 200)
  assert.equal((await upgrade('/ws', { ...headers, ...protocols(token) })).status, 101)
})

/** A client as a script would make one: from the URL `volseg serve` printed. */
async function client(): Promise<NodeClient> {
  return connectNodeClient(url.href)
}

test('S4: listSources / openSource refuse refs leaving --data', async () => {
  const c = await client()
  const root = await c.listSources({})
  assert.ok(root.ok)
  const names = root.value.entries.map((e) => e.name)
  assert.ok(names.includes('ch2.nii.gz'))
  assert.ok(!names.includes('link-out.nii.gz'), 'a link out of --data is not listed')
  assert.ok(!names.includes('dir-out'))
  const bad: [string, RegExp][] = [
    ['../outside/secret.txt', /leaves the folder/],
    ['%2e%2e/outside/secret.txt', /percent-decoded.*leaves/],
    ['%2e%2e%2foutside', /percent-decoded.*leaves/],
    ['..%5coutside', /backslash/],
    ['/etc/passwd', /absolute/],
    ['link-out.nii.gz', /link to somewhere outside/],
    ['dir-out/outside.nii.gz', /link to somewhere outside/],
    ['dir-out', /link to somewhere outside/],
  ]
  for (const [ref, why] of bad) {
    for (const r of [
      await c.openSource({ source: ref as SourceRef }),
      await c.listSources({ under: ref as SourceRef }),
    ]) {
      assert.equal(r.ok, false, ref)
      if (r.ok) continue
      assert.equal(r.error.code, 'E_ARGS', `${ref}: ${r.error.message}`)
      assert.match(r.error.message, why, ref)
      assert.doesNotMatch(r.error.message, new RegExp(tmp), 'no absolute paths leak')
    }
  }
  // NUL never reaches the service: the guard refuses it.
  const nul = await c.openSource({ source: 'ch2.nii.gz\0.png' as SourceRef })
  assert.equal(nul.ok, false)
  if (!nul.ok) assert.equal(nul.error.code, 'E_ARGS')
  c.close()
})

test('S5: saveMask writes only under --out, never over an input, never outside', async () => {
  const c = await client()
  const opened = await c.openSource({ source: 'ch2.nii.gz' as SourceRef })
  assert.ok(opened.ok, JSON.stringify(opened))
  const v = opened.value as OpenedVolume
  const before = statSync(join(data, 'ch2.nii.gz'))
  // The small --max-frame of this server forbids uploading ch2's grid, so check names first.
  for (const name of ['../evil.nii.gz', '..\\evil.nii.gz', '/tmp/evil.nii.gz', 'a\0b.nii.gz']) {
    const r = await c.saveMask({ volumeId: v.volumeId, labelsId: 'lbl_x' as never, name })
    assert.equal(r.ok, false, name)
    if (!r.ok) assert.equal(r.error.code, 'E_ARGS', name)
  }
  for (const name of ['.hidden.nii.gz', '.nii.gz']) {
    // Well-formed request but unknown labels: still refused before any write.
    const r = await c.saveMask({ volumeId: v.volumeId, labelsId: 'lbl_nope' as never, name })
    assert.equal(r.ok, false)
  }
  const after = statSync(join(data, 'ch2.nii.gz'))
  assert.equal(after.mtimeMs, before.mtimeMs)
  assert.ok(!existsSync(join(tmp, 'evil.nii.gz')))
  assert.ok(!existsSync('/tmp/evil.nii.gz'))
  c.close()
})

test('S6: malformed frames answer an error Result; the connection stays usable', async () => {
  const c = await client()
  const junk = await c.sendRaw(new Uint8Array([1, 2, 3]), 0)
  assert.equal(junk.ok, false)
  const badJson = new Uint8Array(16)
  new DataView(badJson.buffer).setUint32(0, 12, true)
  badJson.set(new TextEncoder().encode('{not json}  '), 4)
  const r1 = await c.sendRaw(badJson, 0)
  assert.ok(!r1.ok && r1.error.code === 'E_BAD_HEADER')
  const unknown = await c.sendRaw(encodeFrame({ id: 7, method: 'rmRf', params: {} }), 7)
  assert.ok(!unknown.ok && unknown.error.code === 'E_ARGS')
  const extra = await c.sendRaw(encodeRequest(8, 'hello', { evil: 1 } as never), 8)
  assert.ok(!extra.ok && extra.error.code === 'E_ARGS')
  const wrongType = await c.sendRaw(encodeRequest(9, 'listSources', { under: 5 } as never), 9)
  assert.ok(!wrongType.ok && wrongType.error.code === 'E_ARGS')
  // A text frame is refused with a Result too.
  const text = new Promise<boolean>((r) => c.socket.once('message', () => r(true)))
  c.socket.send('hello', { binary: false })
  assert.ok(await text)
  const still = await c.hello({})
  assert.ok(still.ok, 'connection still usable')
  c.close()
})

test('S6: an oversized frame closes that socket, not the server', async () => {
  const c = await client()
  const big = encodeRequest(1, 'uploadLabels', {
    volumeId: 'vol_abc' as never,
    dataType: 'uint8',
    sizeIJK: [1024, 1024, 2],
    bytes: new Uint8Array(1024 * 1024 * 2),
  })
  void c.sendRaw(big, 1)
  // 1009 (message too big); 1006 when the reset beats the close frame while we still send.
  const code = await c.closed
  assert.ok(code === 1009 || code === 1006, `close code ${code}`)
  const again = await client()
  assert.ok((await again.hello({})).ok)
  again.close()
})

test('SIGTERM stops the server and exits 0', async () => {
  const s = await serve(['--port', '0', '--data', data, '--out', join(tmp, 'out2')])
  const exited = new Promise<number | null>((r) => s.proc.once('exit', (code) => r(code)))
  s.proc.kill('SIGTERM')
  assert.equal(await exited, 0)
  assert.ok(existsSync(join(tmp, 'out2')), '--out is created')
  assert.equal(readFileSync(join(data, 'ch2.nii.gz')).length > 0, true)
})

test('S6: openUpload is capped by the frame size; dropped copies are removed at shutdown', async () => {
  // This server's --max-frame is 1 MiB: hello says so, and a bigger drop closes only that socket.
  const c = await client()
  const h = await c.hello({})
  assert.ok(h.ok)
  assert.equal(h.value.maxUploadBytes, 2 ** 20 - 64 * 2 ** 10)
  const big = encodeRequest(1, 'openUpload', {
    name: 'big.nii',
    bytes: new Uint8Array(2 * 2 ** 20),
  })
  void c.sendRaw(big, 1)
  const code = await c.closed
  assert.ok(code === 1009 || code === 1006, `close code ${code}`)

  // A server with the default cap; its temporary folder is ours to inspect.
  const tmpParent = join(tmp, 'tmp-uploads')
  mkdirSync(tmpParent)
  const s = await serve(['--port', '0', '--data', data, '--out', join(tmp, 'out3')], {
    TMPDIR: tmpParent,
  })
  const c2 = await connectNodeClient(s.url.href)
  const h2 = await c2.hello({})
  assert.ok(h2.ok)
  assert.equal(h2.value.maxUploadBytes, MAX_UPLOAD_BYTES)
  const bytes = new Uint8Array(readFileSync(fixture('ch2.nii.gz')))
  const r = await c2.openUpload({ name: 'ch2.nii.gz', bytes })
  assert.ok(r.ok, JSON.stringify(r))
  const folders = readdirSync(tmpParent).filter((n) => n.startsWith('volseg-uploads-'))
  assert.equal(folders.length, 1)
  assert.equal(statSync(join(tmpParent, folders[0]!)).mode & 0o777, 0o700)
  c2.close()
  const exited = new Promise<number | null>((done) => s.proc.once('exit', (code) => done(code)))
  s.proc.kill('SIGTERM')
  assert.equal(await exited, 0)
  assert.deepEqual(readdirSync(tmpParent), [], 'the upload folder is removed at shutdown')
})

test('--open opens the printed URL, token in the fragment', async () => {
  // A stand-in for the desktop's opener: it records what it was asked to open.
  const bin = join(tmp, 'bin')
  mkdirSync(bin)
  const opened = join(tmp, 'opened.txt')
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`)
  chmodSync(join(bin, 'xdg-open'), 0o755)
  const s = await serve(['--port', '0', '--data', data, '--out', join(tmp, 'out4'), '--open'], {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
  })
  try {
    for (let i = 0; i < 100 && !existsSync(opened); i++) await new Promise((r) => setTimeout(r, 50))
    assert.equal(readFileSync(opened, 'utf8'), s.url.href)
    assert.match(s.url.href, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/)
  } finally {
    const exited = new Promise((r) => s.proc.once('exit', r))
    s.proc.kill('SIGTERM')
    await exited
  }
})

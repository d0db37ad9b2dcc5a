/**
 * End-to-end harness: builds the renderer when needed, prepares a data folder, starts the real
 * `volseg serve` (bin/volseg.mjs, real readers, real ONNX models: the bundled brain-extract plus
 * the test/tiny-model packs through VOLSEG_MODELS), and launches headless Chromium (SwiftShader
 * WebGL2) with every non-loopback request blocked and recorded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type JSHandle, type Page } from 'playwright-core'

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const ARTIFACTS = join(REPO, 'test', 'e2e', 'artifacts')
const DERIVED = join(REPO, 'test', 'fixtures', 'derived')

async function newest(dir: string): Promise<number> {
  let t = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? await newest(p) : (await stat(p)).mtimeMs)
  }
  return t
}

/** Runs `vite build renderer` unless renderer/dist is newer than every renderer source. */
export async function buildRenderer(): Promise<void> {
  const built = await stat(join(REPO, 'renderer', 'dist', 'index.html')).catch(() => undefined)
  const sources = Math.max(
    await newest(join(REPO, 'renderer', 'src')),
    (await stat(join(REPO, 'renderer', 'index.html'))).mtimeMs,
    await newest(join(REPO, 'src', 'shared')),
  )
  if (built && built.mtimeMs > sources) return
  const vite = join(REPO, 'node_modules', 'vite', 'bin', 'vite.js')
  const r = spawnSync(process.execPath, [vite, 'build', 'renderer', '--logLevel', 'warn'], {
    cwd: REPO,
    stdio: 'inherit',
  })
  if (r.status !== 0) throw new Error(`vite build failed (${r.status})`)
}

/**
 * A data folder: ch2, the flipped and oblique variants, their orientation-marker copies
 * (derive_nifti.py `paint_markers`), a two-series DICOM folder and a CT.
 */
export async function makeDataDir(): Promise<{ data: string; out: string }> {
  const root = await mkdtemp(join(tmpdir(), 'volseg-e2e-'))
  const data = join(root, 'data')
  const out = join(root, 'out')
  await mkdir(data)
  await mkdir(out)
  await cp(join(REPO, 'test', 'fixtures', 'ch2.nii.gz'), join(data, 'ch2.nii.gz'))
  await cp(join(DERIVED, 'flipped.nii.gz'), join(data, 'flipped.nii.gz'))
  await cp(join(DERIVED, 'oblique.nii.gz'), join(data, 'oblique.nii.gz'))
  for (const base of ['ch2', 'flipped', 'oblique']) {
    const name = `markers-${base}.nii.gz`
    await cp(join(DERIVED, name), join(data, name))
  }
  await cp(join(DERIVED, 'dicom', 'two-series'), join(data, 'two-series'), { recursive: true })
  // A head CT in HU (ch2 mapped, 3 mm): the MR models' cards do not fit it.
  await cp(join(DERIVED, 'ct-synthetic-3mm.nii.gz'), join(data, 'ct.nii.gz'))
  return { data, out }
}

export interface Server {
  readonly url: string
  readonly process: ChildProcess
  stop(): Promise<void>
}

/** The model packs the e2e server offers besides the bundled ones (models/). */
export const TEST_PACKS = join(REPO, 'test', 'tiny-model', 'packs')

/**
 * Starts `volseg serve --port 0` and resolves with the URL it prints. Backups of unsaved edits go
 * to `recovery` (default: `recovery` beside `data`, never this user's own recovery folder);
 * `extra`: more options (`--cohort DIR`).
 */
export function startServer(
  data: string,
  out: string,
  recovery = join(dirname(data), 'recovery'),
  extra: readonly string[] = [],
): Promise<Server> {
  const args = [
    join(REPO, 'bin', 'volseg.mjs'),
    'serve',
    '--port',
    '0',
    '--data',
    data,
    '--out',
    out,
    '--recovery',
    recovery,
    ...extra,
  ]
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    // a fresh VOLSEG_HOME: no packs from this user's ~/.volseg/models, only bundled + test packs
    env: { ...process.env, VOLSEG_MODELS: TEST_PACKS, VOLSEG_HOME: join(dirname(data), 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString()
  })
  return new Promise((resolveServer, reject) => {
    let stdout = ''
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`no URL from the server after 60 s; stderr: ${stderr}`))
    }, 60_000)
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString()
      const m = /VolSeg serving at (http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64})$/m.exec(stdout)
      if (!m) return
      clearTimeout(timer)
      resolveServer({
        url: m[1]!,
        process: child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', () => done())
            child.kill('SIGTERM')
          }),
      })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited (${code}) before printing its URL; stderr: ${stderr}`))
    })
  })
}

export interface Session {
  readonly browser: Browser
  readonly page: Page
  /** Every request to a host other than 127.0.0.1/localhost/[::1] (all were aborted). */
  readonly blocked: string[]
  /** Console errors and page errors. */
  readonly errors: string[]
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** Debian Chromium's flags here: SwiftShader WebGL2, no background traffic. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
]

export async function launch(): Promise<Session> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS],
  })
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  const blocked: string[] = []
  const errors: string[] = []
  await context.route('**/*', async (route) => {
    const u = new URL(route.request().url())
    if (
      (u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'ws:') &&
      !LOOPBACK.has(u.hostname)
    ) {
      blocked.push(u.href)
      await route.abort('blockedbyclient')
      return
    }
    await route.continue()
  })
  context.on('request', (r) => {
    const u = new URL(r.url())
    if (!['data:', 'blob:'].includes(u.protocol) && !LOOPBACK.has(u.hostname)) blocked.push(u.href)
  })
  const page = await context.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(e.message))
  return { browser, page, blocked, errors }
}

export async function ensureArtifacts(): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true })
}

/** Goes to `url` (with `query`, e.g. `?bench`, when given) and waits until the viewer is ready. */
export async function openViewer(page: Page, url: string, query = ''): Promise<void> {
  const u = new URL(url)
  if (query !== '') u.search = query
  await page.goto(u.toString())
  await page.waitForSelector('body[data-ready=true]', { state: 'attached', timeout: 120_000 })
}

/** What {@link startViewer} set up; `close()` ends the browser and the server. */
export interface Viewer {
  readonly server: Server
  readonly session: Session
  readonly page: Page
  readonly dirs: { readonly data: string; readonly out: string }
  close(): Promise<void>
}

/**
 * The set-up most e2e files share: the renderer built, the artifacts folder, a fresh data folder
 * ({@link makeDataDir}, to which `prepare` adds), `volseg serve` over it and Chromium, with the
 * page opened (`query` appended) unless `open` is false.
 */
export async function startViewer(
  o: {
    readonly prepare?: (dirs: { data: string; out: string }) => void | Promise<void>
    readonly open?: boolean
    readonly query?: string
  } = {},
): Promise<Viewer> {
  if (!existsSync(join(REPO, 'dist', 'cli', 'serve.js'))) {
    throw new Error('dist/cli/serve.js missing: run "npm run build" first (volseg serve)')
  }
  await buildRenderer()
  await ensureArtifacts()
  const dirs = await makeDataDir()
  await o.prepare?.(dirs)
  const server = await startServer(dirs.data, dirs.out)
  let session: Session
  try {
    session = await launch()
  } catch (e) {
    await server.stop()
    throw e
  }
  const viewer: Viewer = {
    server,
    session,
    page: session.page,
    dirs,
    close: async () => {
      await session.browser.close()
      await server.stop()
    },
  }
  if (o.open !== false) {
    try {
      await openViewer(session.page, server.url, o.query)
    } catch (e) {
      await viewer.close()
      throw e
    }
  }
  return viewer
}

/** The page's document, as far as {@link openAndWait} reads it (this tsconfig has no DOM lib). */
interface DocumentLike {
  readonly document: {
    querySelector(s: string): {
      textContent: string | null
      getAttribute(name: string): string | null
    } | null
  }
}

/**
 * Runs `start` (a click that opens an image) and waits until a volume other than the one shown
 * before is open under `name`, its load finished and every slice arrived. Waiting only for the
 * header to name the file raced a test against the reload when the same file was reopened: the
 * new volume reset the 3-D camera after the test had turned it.
 */
export async function openAndWait(
  page: Page,
  name: string,
  start: () => Promise<void>,
): Promise<void> {
  const before = await page.getAttribute('.volume-info', 'data-volume-id')
  await start()
  await page.waitForFunction(
    ({ n, b }) => {
      const d = (globalThis as unknown as DocumentLike).document
      const info = d.querySelector('.volume-info')
      const id = info?.getAttribute('data-volume-id') ?? ''
      return (
        id !== '' &&
        id !== b &&
        (info?.textContent ?? '').includes(n) &&
        info?.getAttribute('data-loading') === '' &&
        d.querySelector('.loading[hidden]') !== null
      )
    },
    { n: name, b: before ?? '' },
    { timeout: 120_000 },
  )
}

/** What a page function needs to build a drop (DataTransfer with a File). */
interface DropGlobals {
  readonly DataTransfer: new () => { readonly items: { add(file: unknown): unknown } }
  readonly File: new (parts: unknown[], name: string, options?: { type?: string }) => unknown
  atob(s: string): string
}

/** A DataTransfer in the page holding one File of `bytes` named `name`, as a desktop drop has. */
export async function dataTransfer(page: Page, name: string, bytes: Uint8Array): Promise<JSHandle> {
  return page.evaluateHandle(
    ({ name: fileName, b64 }) => {
      const g = globalThis as unknown as DropGlobals
      const bin = g.atob(b64)
      const u = new Uint8Array(bin.length)
      for (let n = 0; n < bin.length; n++) u[n] = bin.charCodeAt(n)
      const dt = new g.DataTransfer()
      dt.items.add(new g.File([u], fileName, { type: 'application/octet-stream' }))
      return dt
    },
    { name, b64: Buffer.from(bytes).toString('base64') },
  )
}

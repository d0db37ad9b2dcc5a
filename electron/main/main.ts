/**
 * Entry of the desktop app's main process: lifecycle glue only. Every decision lives in a plain
 * module next to this one (window options and hardening, `app://` protocol, IPC gate, grants and
 * dialogs, menu, recovery, unsaved-changes guard), tested in Node; this file wires them to
 * Electron's objects and is the one part run only inside Electron.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BrowserWindow,
  Menu,
  MessageChannelMain,
  app,
  dialog,
  ipcMain,
  protocol,
  session,
  shell,
  utilityProcess,
  type WebContents,
} from 'electron'
import { COMMAND_CHANNEL, EVENT_CHANNEL, PORT_CHANNEL } from '../../src/shared/ipc-channels.js'
import type { ShellCommand } from '../../src/shared/ipc-channels.js'
import { createService, type ServiceSession } from '../../src/service/create-service.js'
import { chooseSource, grantCommand, type OpenKind } from './dialogs.js'
import { GrantTable, type GrantKind } from './grants.js'
import { registerGate } from './ipc-gate.js'
import { guardUnload, onSecondInstance, pathFromArgv } from './lifecycle.js'
import { SHORTCUTS, aboutText, LICENCES, menuTemplate } from './menu.js'
import {
  APP_INDEX_URL,
  APP_SCHEME,
  createAppProtocolHandler,
  privilegedSchemes,
} from './protocol.js'
import { addRecent, readRecent, recentLabels, writeRecent, type RecentEntry } from './recent.js'
import { findCrashedBackups, recoveryBox } from './recovery.js'
import { createHostRunner, utilityHost } from './utility-runner.js'
import { BytesOut } from './voxel-port.js'
import { denyPermissions, hardenApp, hardenContents, windowOptions } from './windows.js'

/** dist/electron/ (this bundle), and the package root above it. */
const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = join(HERE, '..', '..')
/** Arguments before the user's: the executable, and unpackaged also the app path. */
const ARGV_SKIP = app.isPackaged ? 1 : 2

protocol.registerSchemesAsPrivileged(privilegedSchemes())

if (!app.requestSingleInstanceLock()) {
  // A second launch: the first instance gets our argv ('second-instance') and opens the file.
  app.quit()
} else {
  void run()
}

async function run(): Promise<void> {
  // Set once the app is ready; the handlers registered before that read it.
  // eslint-disable-next-line prefer-const
  let win: BrowserWindow | undefined
  const userData = app.getPath('userData')
  await mkdir(userData, { recursive: true })
  const grants = new GrantTable(await grantSecret(join(userData, 'grant-key')))
  const recentFile = join(userData, 'recent.json')
  let recent: RecentEntry[] = await readRecent(recentFile)
  const recoveryDir = join(userData, 'recovery')
  const crashed = await findCrashedBackups(recoveryDir)
  const openExternal = (url: string): Promise<void> => shell.openExternal(url)

  const send = (c: ShellCommand): void => win?.webContents.send(COMMAND_CHANNEL, c)
  const openPath = (p: { path: string; kind: GrantKind }): void => {
    recent = addRecent(recent, p)
    void writeRecent(recentFile, recent).catch(() => undefined)
    rebuildMenu()
    send(grantCommand(grants, p.path, p.kind))
  }
  app.on('second-instance', (_e, argv, cwd) =>
    onSecondInstance(win, argv, cwd, ARGV_SKIP, openPath),
  )

  hardenApp(app, openExternal)
  await app.whenReady()
  denyPermissions(session.defaultSession)
  protocol.handle(APP_SCHEME, createAppProtocolHandler(join(ROOT, 'renderer', 'dist')))

  // Packaged, the bundled model packs are extra resources beside the asar (build/).
  if (app.isPackaged) process.env.VOLSEG_MODELS = join(process.resourcesPath, 'models')
  const dataRoot = join(userData, 'data')
  await mkdir(dataRoot, { recursive: true })
  const service = await createService({
    dataRoot,
    outDir: join(app.getPath('documents'), 'VolSeg'),
    recoveryDir,
    grants,
    runner: createHostRunner(utilityHost(utilityProcess, join(HERE, 'host.mjs'))),
  })
  const sessions = new Map<number, { session: ServiceSession; bytes: BytesOut | undefined }>()
  registerGate(
    ipcMain,
    (e) => sessions.get((e as { sender?: WebContents }).sender?.id ?? -1)?.session,
    (e, r) => {
      const s = sessions.get((e as { sender?: WebContents }).sender?.id ?? -1)
      return s?.bytes ? s.bytes.detach(r) : r
    },
  )

  const choose = async (kind: OpenKind): Promise<void> => {
    if (!win) return
    const w = win
    const c = await chooseSource((o) => dialog.showOpenDialog(w, o), grants, kind)
    if (c) {
      openPath({ path: grants.resolve(c.source)!.path, kind: kind === 'file' ? 'file' : 'folder' })
    }
  }
  const info = (title: string, detail: string): void => {
    if (win) void dialog.showMessageBox(win, { type: 'info', title, message: title, detail })
  }
  function rebuildMenu(): void {
    const template = menuTemplate(
      {
        openFile: () => void choose('file'),
        openDicomFolder: () => void choose('dicom-folder'),
        openRecent: (path) => {
          const e = recent.find((r) => r.path === path)
          if (e) openPath(e)
        },
        clearRecent: () => {
          recent = []
          void writeRecent(recentFile, recent).catch(() => undefined)
          rebuildMenu()
        },
        save: () => send({ type: 'save' }),
        export: () => send({ type: 'export' }),
        undo: () => send({ type: 'undo' }),
        redo: () => send({ type: 'redo' }),
        showShortcuts: () =>
          info('Keyboard Shortcuts', SHORTCUTS.map((s) => `${s.keys}: ${s.what}`).join('\n')),
        showAbout: () => info(`About VolSeg`, aboutText(versions())),
        showLicences: () =>
          info('Licences', LICENCES.map((l) => `${l.name}: ${l.licence}`).join('\n')),
        quit: () => app.quit(),
      },
      {
        platform: process.platform,
        appName: 'VolSeg',
        recent: recentLabels(recent),
        devTools: !app.isPackaged,
      },
    )
    Menu.setApplicationMenu(Menu.buildFromTemplate(template))
  }
  rebuildMenu()

  win = new BrowserWindow(windowOptions({ preloadPath: join(HERE, 'preload.cjs') }))
  const contents = win.webContents
  hardenContents(contents, openExternal)
  // One service session per window; a reload gets a fresh bytes port (the old one died with it).
  const s = service.openSession()
  sessions.set(contents.id, { session: s, bytes: undefined })
  s.subscribe((e) => contents.send(EVENT_CHANNEL, e))
  contents.on('did-finish-load', () => {
    const { port1, port2 } = new MessageChannelMain()
    sessions.set(contents.id, { session: s, bytes: new BytesOut(port1) })
    port1.start()
    contents.postMessage(PORT_CHANNEL, null, [port2])
  })
  contents.on('will-prevent-unload', (e) => {
    guardUnload(
      e,
      (o) => dialog.showMessageBoxSync(win!, o),
      () => send({ type: 'save' }),
    )
  })
  contents.on('render-process-gone', (_e, d) => {
    if (d.reason === 'clean-exit') return
    const r = dialog.showMessageBoxSync(win!, {
      type: 'error',
      buttons: ['Reload', 'Quit'],
      message: 'The viewer stopped unexpectedly.',
      detail: `Reason: ${d.reason}. Unsaved edits up to the last backup are offered again after reloading.`,
    })
    if (r === 0) contents.reload()
    else app.quit()
  })
  win.once('ready-to-show', () => win?.show())
  app.on('window-all-closed', () => app.quit())
  app.on('will-quit', () => {
    s.detach()
    void service.close()
  })
  // A helper process that died is already an error in the window (utility-runner.ts); say it here.
  app.on('child-process-gone', (_e, d) => {
    if (d.type === 'Utility' && d.reason !== 'clean-exit') {
      process.stderr.write(`volseg: helper process ${d.name ?? ''} ended: ${d.reason}\n`)
    }
  })
  await win.loadURL(APP_INDEX_URL)

  if (crashed.length > 0) {
    const r = await dialog.showMessageBox(win, recoveryBox(crashed))
    if (r.response === 0) {
      const known = crashed.map((b) => b.source)
      for (const e of recent) {
        if (known.includes(grants.refFor(e.path, e.kind))) openPath(e)
      }
    }
  }
  const first = pathFromArgv(process.argv, process.cwd(), ARGV_SKIP)
  if (first) openPath(first)
}

/** The per-install secret of grant refs (created on first start, mode 0600). */
async function grantSecret(file: string): Promise<Uint8Array> {
  try {
    const b = await readFile(file)
    if (b.byteLength >= 32) return b
  } catch {
    // first start
  }
  const b = randomBytes(32)
  await writeFile(file, b, { mode: 0o600 })
  return b
}

/** Versions for the About box. */
function versions(): Parameters<typeof aboutText>[0] {
  let onnxruntime: string | undefined
  try {
    const req = createRequire(import.meta.url)
    onnxruntime = (
      req(join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json')) as {
        version: string
      }
    ).version
  } catch {
    onnxruntime = undefined
  }
  return {
    app: app.getVersion(),
    electron: process.versions.electron ?? '?',
    chrome: process.versions.chrome ?? '?',
    node: process.versions.node,
    v8: process.versions.v8,
    ...(onnxruntime === undefined ? {} : { onnxruntime }),
  }
}

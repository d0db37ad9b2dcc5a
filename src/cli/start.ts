/**
 * `npm start [-- FILE]`: the desktop app when Electron can run here, else `volseg serve --open`
 * as before, with one line on stderr saying why. The decision is {@link decideLaunch}, a plain
 * function of what is on disk and in the environment. It never `require`s the `electron`
 * package: that package downloads its binary on first use (Electron ≥ 42), and this machine may
 * be offline.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

/** What the decision looks at. */
export interface LaunchProbe {
  readonly platform: NodeJS.Platform
  readonly env: Readonly<Record<string, string | undefined>>
  /** Absolute path of the Electron executable, or undefined when it is not installed. */
  readonly electronBinary: string | undefined
  /** True when the desktop app's main bundle (`dist/electron/main.mjs`) is built. */
  readonly appBuilt: boolean
}

/** What `npm start` does. */
export type LaunchDecision =
  | { readonly kind: 'electron'; readonly binary: string; readonly args: readonly string[] }
  | { readonly kind: 'serve'; readonly reason: string; readonly args: readonly string[] }

/** True when a window can be shown: always on Windows and macOS, on Linux an X11 or Wayland display. */
export function hasDisplay(
  platform: NodeJS.Platform,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (platform === 'win32' || platform === 'darwin') return true
  return Boolean(env.DISPLAY) || Boolean(env.WAYLAND_DISPLAY)
}

/**
 * Electron's executable under `packageRoot`, as `node_modules/electron/index.js` would find it
 * (its `path.txt`, or `ELECTRON_OVERRIDE_DIST_PATH`), without triggering its download; undefined
 * when the file is not there.
 */
export function findElectronBinary(
  packageRoot: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const pkg = join(packageRoot, 'node_modules', 'electron')
  let rel: string | undefined
  try {
    rel = readFileSync(join(pkg, 'path.txt'), 'utf8').trim()
  } catch {
    rel = undefined
  }
  const override = env.ELECTRON_OVERRIDE_DIST_PATH
  const p = override ? join(override, rel || 'electron') : rel ? join(pkg, 'dist', rel) : undefined
  if (p === undefined) return undefined
  try {
    return statSync(p).isFile() ? p : undefined
  } catch {
    return undefined
  }
}

/**
 * Electron when its binary is installed, the app is built and a display is there; otherwise
 * serve, with the first missing thing as the reason. `file` (from `npm start -- FILE`) is opened
 * either way: passed to Electron, or served from its folder and opened in the page.
 */
export function decideLaunch(p: LaunchProbe, appPath: string, file?: string): LaunchDecision {
  const serveArgs = (): string[] => {
    if (file === undefined) return ['serve', '--open']
    const abs = resolve(file)
    return ['serve', '--open', '--data', dirname(abs), '--open-source', basename(abs)]
  }
  let reason: string | undefined
  if (p.electronBinary === undefined) {
    reason =
      'Electron is not installed (node_modules/electron has no binary; it is downloaded on first start, which needs internet)'
  } else if (!p.appBuilt) {
    reason = 'the desktop app is not built (run "npm run build:electron")'
  } else if (!hasDisplay(p.platform, p.env)) {
    reason = 'no display (neither DISPLAY nor WAYLAND_DISPLAY is set)'
  }
  if (reason !== undefined || p.electronBinary === undefined) {
    return { kind: 'serve', reason: reason ?? 'Electron is not installed', args: serveArgs() }
  }
  return {
    kind: 'electron',
    binary: p.electronBinary,
    args: [appPath, ...(file === undefined ? [] : [resolve(file)])],
  }
}

/** The one line printed when the browser viewer is started instead. */
export function fallbackLine(reason: string): string {
  return `volseg: starting the browser viewer instead of the desktop app: ${reason}`
}

/** The probe of this machine for the package at `packageRoot`. */
export function probe(packageRoot: string): LaunchProbe {
  return {
    platform: process.platform,
    env: process.env,
    electronBinary: findElectronBinary(packageRoot, process.env),
    appBuilt: existsSync(join(packageRoot, 'dist', 'electron', 'main.mjs')),
  }
}

/**
 * Runs the decision: spawns Electron or `node bin/volseg.mjs serve …` with inherited stdio and
 * resolves its exit code. `args` are `npm start -- …`'s arguments (the first non-flag is FILE);
 * other arguments are passed on to serve (`--port 0` in tests).
 */
export function startCommand(packageRoot: string, args: readonly string[]): Promise<number> {
  const file = args.find((a) => !a.startsWith('-'))
  const extra = args.filter((a) => a !== file)
  const d = decideLaunch(probe(packageRoot), packageRoot, file)
  let cmd: string
  let argv: string[]
  if (d.kind === 'electron') {
    cmd = d.binary
    argv = [...d.args]
  } else {
    process.stderr.write(`${fallbackLine(d.reason)}\n`)
    cmd = process.execPath
    argv = [join(packageRoot, 'bin', 'volseg.mjs'), ...d.args, ...extra]
  }
  return new Promise((resolveExit) => {
    const child = spawn(cmd, argv, { stdio: 'inherit' })
    const forward = (s: NodeJS.Signals): void => {
      child.kill(s)
    }
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('error', (e) => {
      process.stderr.write(`volseg: could not start ${cmd}: ${e.message}\n`)
      resolveExit(1)
    })
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      resolveExit(code ?? (signal ? 0 : 1))
    })
  })
}

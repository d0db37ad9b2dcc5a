/**
 * The window and its hardening, in one file (security checklist E1, E6): the options factory, and
 * the handlers that deny navigation, `window.open`, `<webview>` and every permission request.
 * Electron's objects are parameters, so the same functions run in the app and in plain Node tests.
 */
import type {
  App,
  BrowserWindowConstructorOptions,
  Session,
  WebContents,
  WebPreferences,
} from 'electron'
import { APP_ORIGIN } from './protocol.js'
import { openExternalSafely } from './external-links.js'

/** What the window factory needs. */
export interface WindowSpec {
  /** Absolute path of the bundled preload (`dist/electron/preload.cjs`). */
  readonly preloadPath: string
  /** Window title (the app name). */
  readonly title?: string
  /** Window icon (Linux). */
  readonly icon?: string
}

/**
 * The `webPreferences` of the one window: sandboxed, isolated, no Node, web security on, no
 * `<webview>`, no remote fonts/insecure content, spellcheck off (it would send words to a
 * service on some platforms), and no navigation by drag-and-drop (files are read by the viewer's
 * drop handler instead).
 */
export function webPreferences(spec: WindowSpec): WebPreferences {
  return {
    preload: spec.preloadPath,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    // Middle-click would open a link in a new window (electronegativity AUXCLICK_JS_CHECK).
    disableBlinkFeatures: 'Auxclick',
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
    devTools: true,
  }
}

/** The options of the main window (not shown until its first paint). */
export function windowOptions(spec: WindowSpec): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 800,
    minHeight: 600,
    show: false,
    title: spec.title ?? 'VolSeg',
    backgroundColor: '#101014',
    ...(spec.icon === undefined ? {} : { icon: spec.icon }),
    webPreferences: webPreferences(spec),
  }
}

/** True when `url` is a page of the bundle (same origin as {@link APP_ORIGIN}). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}` === APP_ORIGIN
  } catch {
    return false
  }
}

/** The subset of `WebContents` hardening touches. */
export type HardenedContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>

/**
 * Denies, on one `webContents`: every navigation away (`will-navigate`, `will-redirect`,
 * `will-frame-navigate` to anything but the bundle; a reload of the bundle stays allowed),
 * every `window.open` / `target=_blank` (an allow-listed `https:` link is handed to the default
 * browser instead), and every `<webview>` attachment.
 */
export function hardenContents(
  contents: HardenedContents,
  openExternal: (url: string) => Promise<void>,
): void {
  const stayHome = (e: { preventDefault(): void; url: string }): void => {
    if (!isAppUrl(e.url)) e.preventDefault()
  }
  contents.on('will-navigate', stayHome)
  contents.on('will-redirect', stayHome)
  contents.on('will-frame-navigate', stayHome)
  contents.on('will-attach-webview', (e) => e.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    void openExternalSafely(url, openExternal).catch(() => false)
    return { action: 'deny' }
  })
}

/** The subset of `Session` permission handling touches. */
export type PermissionSession = Pick<
  Session,
  | 'setPermissionRequestHandler'
  | 'setPermissionCheckHandler'
  | 'setDevicePermissionHandler'
  | 'setDisplayMediaRequestHandler'
>

/**
 * Denies every permission (camera, microphone, notifications, geolocation, HID, serial, USB,
 * screen capture, …): the viewer needs none. Requests get `false`, checks answer `false`.
 */
export function denyPermissions(session: PermissionSession): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
  session.setDevicePermissionHandler(() => false)
  session.setDisplayMediaRequestHandler((_request, callback) => callback(null))
}

/**
 * Hardens every `webContents` the app ever creates (`web-contents-created`), not only the main
 * window's, so a later frame or devtools window gets the same denials.
 */
export function hardenApp(
  app: Pick<App, 'on'>,
  openExternal: (url: string) => Promise<void>,
): void {
  app.on('web-contents-created', (_e, contents) => hardenContents(contents, openExternal))
}

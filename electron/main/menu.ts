/**
 * The native menu as a template (File, Edit, View, Help), built from plain actions so the same
 * function feeds `Menu.buildFromTemplate` in the app and the tests in Node. The viewer owns undo,
 * saving and exporting: those items send a shell command to it; opening goes through a native
 * dialog that grants the chosen path (`dialogs.ts`).
 */
import type { MenuItemConstructorOptions } from 'electron'

/** What the menu items do. */
export interface MenuActions {
  openFile(): void
  openDicomFolder(): void
  openRecent(path: string): void
  clearRecent(): void
  save(): void
  export(): void
  undo(): void
  redo(): void
  showShortcuts(): void
  showAbout(): void
  showLicences(): void
  quit(): void
}

/** What the menu shows besides the actions. */
export interface MenuContext {
  readonly platform: NodeJS.Platform
  readonly appName: string
  /** Recently opened paths, newest first (shown by base name). */
  readonly recent: readonly { readonly path: string; readonly label: string }[]
  /** Developer tools item (unpackaged runs only). */
  readonly devTools: boolean
}

/** Keyboard shortcuts the Help → Shortcuts dialog lists (menu accelerators first). */
export const SHORTCUTS: readonly { readonly keys: string; readonly what: string }[] = [
  { keys: 'Ctrl/Cmd+O', what: 'Open an image file' },
  { keys: 'Ctrl/Cmd+Shift+O', what: 'Open a DICOM folder' },
  { keys: 'Ctrl/Cmd+S', what: 'Save the mask' },
  { keys: 'Ctrl/Cmd+E', what: 'Export' },
  { keys: 'Ctrl/Cmd+Z', what: 'Undo the last edit' },
  { keys: 'Ctrl/Cmd+Shift+Z, Ctrl+Y', what: 'Redo' },
  { keys: 'Ctrl/Cmd+= / Ctrl/Cmd+-', what: 'Zoom the interface' },
  { keys: 'F11 / Ctrl+Cmd+F', what: 'Full screen' },
]

/** The menu template; every item has an `id` (`file.open`, `edit.undo`, …). */
export function menuTemplate(a: MenuActions, ctx: MenuContext): MenuItemConstructorOptions[] {
  const mac = ctx.platform === 'darwin'
  const recent: MenuItemConstructorOptions[] =
    ctx.recent.length === 0
      ? [{ id: 'file.recent.none', label: 'No recent files', enabled: false }]
      : [
          ...ctx.recent.map((r, k): MenuItemConstructorOptions => ({
            id: `file.recent.${k}`,
            label: r.label,
            click: () => a.openRecent(r.path),
          })),
          { type: 'separator' },
          { id: 'file.recent.clear', label: 'Clear Recent', click: () => a.clearRecent() },
        ]
  const file: MenuItemConstructorOptions = {
    id: 'file',
    label: '&File',
    submenu: [
      { id: 'file.open', label: 'Open File…', accelerator: 'CmdOrCtrl+O', click: a.openFile },
      {
        id: 'file.open-dicom',
        label: 'Open DICOM Folder…',
        accelerator: 'CmdOrCtrl+Shift+O',
        click: a.openDicomFolder,
      },
      { id: 'file.recent', label: 'Open Recent', submenu: recent },
      { type: 'separator' },
      { id: 'file.save', label: 'Save Mask', accelerator: 'CmdOrCtrl+S', click: a.save },
      { id: 'file.export', label: 'Export…', accelerator: 'CmdOrCtrl+E', click: a.export },
      ...(mac
        ? []
        : [
            { type: 'separator' } as MenuItemConstructorOptions,
            { id: 'file.quit', label: 'Quit', accelerator: 'Ctrl+Q', click: a.quit },
          ]),
    ],
  }
  const edit: MenuItemConstructorOptions = {
    id: 'edit',
    label: '&Edit',
    submenu: [
      // The viewer's own undo stack, not the text-field role: a shell command goes to the page.
      { id: 'edit.undo', label: 'Undo', accelerator: 'CmdOrCtrl+Z', click: a.undo },
      {
        id: 'edit.redo',
        label: 'Redo',
        accelerator: mac ? 'Cmd+Shift+Z' : 'Ctrl+Y',
        click: a.redo,
      },
      { type: 'separator' },
      { id: 'edit.cut', role: 'cut' },
      { id: 'edit.copy', role: 'copy' },
      { id: 'edit.paste', role: 'paste' },
      { id: 'edit.select-all', role: 'selectAll' },
    ],
  }
  const view: MenuItemConstructorOptions = {
    id: 'view',
    label: '&View',
    submenu: [
      { id: 'view.reset-zoom', role: 'resetZoom' },
      { id: 'view.zoom-in', role: 'zoomIn' },
      { id: 'view.zoom-out', role: 'zoomOut' },
      { type: 'separator' },
      { id: 'view.fullscreen', role: 'togglefullscreen' },
      ...(ctx.devTools
        ? [
            { type: 'separator' } as MenuItemConstructorOptions,
            { id: 'view.reload', role: 'reload' } as MenuItemConstructorOptions,
            { id: 'view.devtools', role: 'toggleDevTools' } as MenuItemConstructorOptions,
          ]
        : []),
    ],
  }
  const help: MenuItemConstructorOptions = {
    id: 'help',
    role: 'help',
    label: '&Help',
    submenu: [
      { id: 'help.shortcuts', label: 'Keyboard Shortcuts', click: a.showShortcuts },
      { id: 'help.licences', label: 'Licences', click: a.showLicences },
      { type: 'separator' },
      { id: 'help.about', label: `About ${ctx.appName}`, click: a.showAbout },
    ],
  }
  const appMenu: MenuItemConstructorOptions[] = mac
    ? [
        {
          id: 'app',
          label: ctx.appName,
          submenu: [
            { id: 'app.about', label: `About ${ctx.appName}`, click: a.showAbout },
            { type: 'separator' },
            { id: 'app.hide', role: 'hide' },
            { id: 'app.quit', label: `Quit ${ctx.appName}`, accelerator: 'Cmd+Q', click: a.quit },
          ],
        },
      ]
    : []
  return [...appMenu, file, edit, view, help]
}

/** Versions the About box shows. */
export interface AboutVersions {
  readonly app: string
  readonly electron: string
  readonly chrome: string
  readonly node: string
  readonly v8: string
  /** onnxruntime-node's version, when its package could be read. */
  readonly onnxruntime?: string
}

/** Licences the About box and Help → Licences name (the bundled notices carry the full texts). */
export const LICENCES: readonly { readonly name: string; readonly licence: string }[] = [
  { name: 'Electron', licence: 'MIT' },
  { name: 'Chromium', licence: 'BSD-3-Clause and others (LICENSES.chromium.html)' },
  { name: 'Node.js', licence: 'MIT' },
  { name: 'onnxruntime-node', licence: 'MIT' },
  { name: 'itk-wasm / ITK', licence: 'Apache-2.0' },
  { name: 'vtk.js', licence: 'BSD-3-Clause' },
  { name: 'daikon', licence: 'MIT' },
  { name: 'ws', licence: 'MIT' },
]

/** The About box text: every version, then the licences. */
export function aboutText(v: AboutVersions): string {
  const lines = [
    `VolSeg ${v.app}`,
    '',
    `Electron ${v.electron}`,
    `Chromium ${v.chrome}`,
    `Node.js ${v.node}`,
    `V8 ${v.v8}`,
    `onnxruntime-node ${v.onnxruntime ?? 'not found'}`,
    '',
    'Licences:',
    ...LICENCES.map((l) => `  ${l.name}: ${l.licence}`),
    '',
    'Research use: every result must be reviewed by a qualified person.',
  ]
  return lines.join('\n')
}

/**
 * App lifecycle decisions as plain functions: which file a command line names, what a second
 * launch does (single-instance lock), and the unsaved-changes guard on close.
 */
import { existsSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import type { MessageBoxOptions } from 'electron'
import type { GrantKind } from './grants.js'

/**
 * The image file or folder a command line names: the last argument that is not a flag (`-…`)
 * and exists, resolved against `cwd`. `skip` drops the leading executable (and, unpackaged, the
 * app path) first. Undefined when none.
 */
export function pathFromArgv(
  argv: readonly string[],
  cwd: string,
  skip: number,
): { readonly path: string; readonly kind: GrantKind } | undefined {
  const args = argv.slice(skip).filter((a) => a !== '' && !a.startsWith('-'))
  for (let k = args.length - 1; k >= 0; k--) {
    const p = isAbsolute(args[k]!) ? args[k]! : resolve(cwd, args[k]!)
    if (!existsSync(p)) continue
    return { path: p, kind: statSync(p).isDirectory() ? 'folder' : 'file' }
  }
  return undefined
}

/** What a second launch does to the running instance. */
export interface SecondInstanceWindow {
  isMinimized(): boolean
  restore(): void
  show(): void
  focus(): void
}

/**
 * `app.on('second-instance')`: brings the window forward and, when the second command line
 * names a file, opens it (`open` grants it and tells the viewer).
 */
export function onSecondInstance(
  win: SecondInstanceWindow | undefined,
  argv: readonly string[],
  cwd: string,
  skip: number,
  open: (p: { path: string; kind: GrantKind }) => void,
): void {
  if (win) {
    if (win.isMinimized()) win.restore()
    win.show()
    win.focus()
  }
  const p = pathFromArgv(argv, cwd, skip)
  if (p) open(p)
}

/** Buttons of the unsaved-changes box, in order. */
export const UNSAVED_BUTTONS = ['Save…', "Don't Save", 'Cancel'] as const

/** The unsaved-changes message box (shown when the page's `beforeunload` vetoes a close). */
export function unsavedChangesBox(): MessageBoxOptions {
  return {
    type: 'warning',
    buttons: [...UNSAVED_BUTTONS],
    defaultId: 0,
    cancelId: 2,
    noLink: true,
    title: 'Unsaved changes',
    message: 'The mask has changes that are not saved.',
    detail:
      'Save them first, or close without saving (a backup of the edits is kept and offered again when the image is reopened).',
  }
}

/** What the answer to {@link unsavedChangesBox} means. */
export type UnsavedChoice = 'save' | 'discard' | 'cancel'

/** The choice a message-box response index stands for (anything unknown: cancel). */
export function unsavedChoice(response: number): UnsavedChoice {
  return response === 0 ? 'save' : response === 1 ? 'discard' : 'cancel'
}

/**
 * `webContents.on('will-prevent-unload')`: the page's `beforeunload` guard (the viewer's, also
 * used in serve mode) vetoed a close or reload. `preventDefault()` on the event lets the unload
 * go ahead; Save keeps the window and asks the viewer to save. Synchronous on purpose: the event
 * must be decided before the handler returns (Electron's docs use `showMessageBoxSync`).
 */
export function guardUnload(
  event: { preventDefault(): void },
  askSync: (o: MessageBoxOptions) => number,
  save: () => void,
): UnsavedChoice {
  const choice = unsavedChoice(askSync(unsavedChangesBox()))
  if (choice === 'discard') event.preventDefault()
  if (choice === 'save') save()
  return choice
}

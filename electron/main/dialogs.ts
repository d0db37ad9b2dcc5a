/**
 * Native open dialogs that grant what the user chose (architecture.md §1.4): the chosen path
 * goes into the {@link GrantTable} and the UI gets only the opaque ref. Dialog functions are
 * passed in (`dialog.showOpenDialog` bound to the window), so the grant logic runs in Node tests.
 */
import { basename } from 'node:path'
import type { OpenDialogOptions, OpenDialogReturnValue } from 'electron'
import type { ShellCommand } from '../../src/shared/ipc-channels.js'
import type { GrantTable, GrantKind } from './grants.js'

/** What is being opened. */
export type OpenKind = 'file' | 'dicom-folder'

/** Image files the reader takes (the in-app browser's list in `src/service/sources.ts`). */
export const IMAGE_EXTENSIONS = ['nii', 'gz', 'nrrd', 'nhdr', 'mha', 'mhd', 'dcm', 'dicom', 'ima']

/** Options of the open dialog of `kind`: one file (image filter) or one folder. */
export function openDialogOptions(kind: OpenKind, defaultPath?: string): OpenDialogOptions {
  const base: OpenDialogOptions =
    kind === 'file'
      ? {
          title: 'Open an image',
          properties: ['openFile', 'dontAddToRecent'],
          filters: [
            { name: 'Images (NIfTI, NRRD, MetaImage, DICOM)', extensions: IMAGE_EXTENSIONS },
            { name: 'All files', extensions: ['*'] },
          ],
        }
      : { title: 'Open a DICOM folder', properties: ['openDirectory', 'dontAddToRecent'] }
  return defaultPath === undefined ? base : { ...base, defaultPath }
}

/**
 * Shows the open dialog, grants the one chosen path and returns the command that tells the
 * viewer to open it; undefined when the user cancelled.
 */
export async function chooseSource(
  show: (o: OpenDialogOptions) => Promise<OpenDialogReturnValue>,
  grants: GrantTable,
  kind: OpenKind,
  defaultPath?: string,
): Promise<Extract<ShellCommand, { type: 'open-source' }> | undefined> {
  const r = await show(openDialogOptions(kind, defaultPath))
  const path = r.filePaths[0]
  if (r.canceled || path === undefined) return undefined
  return grantCommand(grants, path, kind === 'file' ? 'file' : 'folder')
}

/** Grants `path` and returns the `open-source` command naming it (menus, recent, argv). */
export function grantCommand(
  grants: GrantTable,
  path: string,
  kind: GrantKind,
): Extract<ShellCommand, { type: 'open-source' }> {
  const g = grants.grant(path, kind)
  return { type: 'open-source', source: g.ref, name: basename(path) }
}

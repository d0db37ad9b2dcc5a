/**
 * Folder listings of the `--data` root for the in-app file browser. Cheap by design (it runs in
 * the serve process): `readdir` + `stat`, and for folders a look at the first KiB of at most
 * {@link DICOM_PROBE_FILES} files (Part 10 "DICM" magic, or a bare data set without preamble). Entries whose real path leaves the root
 * (symlinks out) and hidden files are not listed.
 */
import { open, readdir, realpath, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { SourceEntry, SourceKind, SourceListing, SourceRef } from '../shared/api.js'
import { AppError } from '../shared/errors.js'
import { looksLikeDicom } from '../core/dicom/part10-header.js'
import { isInside, resolveUnder } from './confine.js'

/** Most entries one listing returns; the rest is cut (`truncated: true`). */
export const MAX_ENTRIES = 2000
/** Files probed per folder for the DICOM magic. */
export const DICOM_PROBE_FILES = 4

const IMAGE_FILE = /\.(nii|nii\.gz|nrrd|nhdr|mha|mhd|dcm|dicom|ima)$/i
const NOT_IMAGE = /\.(txt|json|md|csv|py|sh|log|xml|html?|js|ts|zip|tar|gz|raw|img|hdr)$/i

/** True when the file starts like DICOM (with or without the Part 10 preamble). */
async function hasDicomMagic(file: string): Promise<boolean> {
  let fh
  try {
    fh = await open(file, 'r')
    const b = new Uint8Array(1024)
    const { bytesRead } = await fh.read(b, 0, b.length, 0)
    return looksLikeDicom(b.subarray(0, bytesRead))
  } catch {
    return false
  } finally {
    await fh?.close()
  }
}

/** True when one of the first few plain files of `dir` is DICOM. */
async function looksLikeDicomFolder(dir: string): Promise<boolean> {
  let names: string[]
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort()
  } catch {
    return false
  }
  for (const name of names.slice(0, DICOM_PROBE_FILES)) {
    if (await hasDicomMagic(join(dir, name))) return true
  }
  return false
}

function fileKind(name: string): SourceKind {
  if (IMAGE_FILE.test(name)) return 'file'
  if (NOT_IMAGE.test(name)) return 'other'
  // No extension: DICOM files are often named IM00001; the reader decides.
  return name.includes('.') ? 'other' : 'file'
}

/** Lists the folder `under` (a ref, `''` for the root) of the real-path `root` (shown as `rootName`). */
export async function listFolder(
  root: string,
  under: string,
  rootName: string,
): Promise<SourceListing> {
  const dir = await resolveUnder(root, under, 'folder')
  const st = await stat(dir)
  if (!st.isDirectory()) {
    throw new AppError('E_ARGS', `"${under}" is a file, not a folder`, { file: under })
  }
  const dirents = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => !d.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const entries: SourceEntry[] = []
  let truncated = false
  for (const d of dirents) {
    if (entries.length >= MAX_ENTRIES) {
      truncated = true
      break
    }
    const abs = join(dir, d.name)
    let real: string
    try {
      real = await realpath(abs)
    } catch {
      continue // dangling link
    }
    if (!isInside(root, real)) continue // a link out of the root is never offered
    let s
    try {
      s = await stat(real)
    } catch {
      continue
    }
    const ref = (under === '' ? d.name : `${under}/${d.name}`) as SourceRef
    if (s.isDirectory()) {
      const kind: SourceKind = (await looksLikeDicomFolder(real)) ? 'dicom-folder' : 'dir'
      entries.push({ ref, name: d.name, kind })
    } else if (s.isFile()) {
      entries.push({ ref, name: d.name, kind: fileKind(d.name), bytes: s.size })
    }
  }
  const folderFirst = (e: SourceEntry): number =>
    e.kind === 'dir' || e.kind === 'dicom-folder' ? 0 : 1
  entries.sort((a, b) => folderFirst(a) - folderFirst(b) || (a.name < b.name ? -1 : 1))
  const crumbs: { ref?: SourceRef; name: string }[] = [{ name: rootName }]
  if (under !== '') {
    const parts = under.split('/')
    parts.forEach((name, k) =>
      crumbs.push({ ref: parts.slice(0, k + 1).join('/') as SourceRef, name }),
    )
  }
  return { crumbs, entries, truncated }
}

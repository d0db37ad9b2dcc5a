/**
 * `write-backup`: the worker side of crash recovery (architecture.md §5 item 4). The labels go to
 * the recovery folder as a versioned NIfTI mask (`<key>-<version>.nii.gz`, atomic and re-read
 * like a saved mask), then the sidecar `<key>.json` that names it replaces the previous one
 * (atomic): the sidecar is the commit point, so a crash at any moment leaves either the previous
 * backup or the new one, never half of one. Older masks of the key are removed last.
 */
import { readdir, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { AppError } from '../shared/errors.js'
import type { BackupFile, BackupJobRequest, BackupJobValue } from '../shared/jobs.js'
import { asTypedArray } from '../shared/wire.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { writeMaskNifti } from '../io/nifti/write-nifti-mask.js'

/** Hex digits of a backup key (the service's digest of the source identity). */
const KEY = /^[0-9a-f]{16,64}$/

/** The mask file name of version `version` (`<time base 36>-<writer pid>`) of backup `key`. */
export function backupMaskName(key: string, version: string): string {
  return `${key}-${version}.nii.gz`
}

/** Writes one backup (see the module comment); answers the mask written. */
export async function runBackupJob(req: BackupJobRequest): Promise<BackupJobValue> {
  if (!KEY.test(req.key)) throw new AppError('E_ARGS', `not a backup key: ${req.key}`)
  const labels = asTypedArray(req.labels, req.dataType) as Uint8Array | Uint16Array
  // Time-ordered, unique for one writer per key (the service serialises per key), and naming
  // the writer's pid: a mask left without its sidecar by a killed writer is swept on next start.
  const version = `${Date.now().toString(36)}-${process.pid}`
  const r = await writeMaskNifti({
    path: join(req.dir, backupMaskName(req.key, version)),
    noReplace: true,
    labels,
    geometry: req.meta.geometry,
    sourceFiles: req.sourceFiles,
    descrip: 'VolSeg backup',
    ...(req.xformCodes ?? {}),
  })
  const file: BackupFile = { ...req.meta, mask: basename(r.path) }
  const text = new TextEncoder().encode(`${JSON.stringify(file, null, 2)}\n`)
  await writeFileAtomic(join(req.dir, `${req.key}.json`), text, { protect: req.sourceFiles })
  // The sidecar now names the new mask: the older ones of this key are no backup any more.
  for (const name of await readdir(req.dir)) {
    if (name !== file.mask && name.startsWith(`${req.key}-`) && name.endsWith('.nii.gz')) {
      await rm(join(req.dir, name), { force: true })
    }
  }
  return { path: r.path, bytes: r.bytes }
}

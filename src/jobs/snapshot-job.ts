/**
 * The `snapshot` job (runs in the job worker): a PNG of the viewer's views, checked as one whole
 * PNG (src/io/png/check-png.ts), published atomically into the output folder as `<name>.png`
 * after its re-read (same bytes, decodes to the same size), then its sidecar
 * `<name>.snapshot.json`: source (file checksums, or DICOM UIDs), model run, review, views.
 * Never over a file (a taken name is refused before anything is written) nor a source.
 */
import { lstat, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_SNAPSHOT_SIDE } from '../shared/api.js'
import { AppError } from '../shared/errors.js'
import type { SnapshotJobSpec, SnapshotJobValue, SnapshotSidecar } from '../shared/export.js'
import {
  fileRecord,
  outputFolder,
  publish,
  sameBytesCheck,
  sha256Hex,
  type ExportSink,
} from '../io/export/export-files.js'
import { dicomSourceUIDs, readDicomSeries } from '../io/export/export-seg.js'
import { checkPng } from '../io/png/check-png.js'
import { appVersion } from '../inference/ort/model-store.js'

/** The source record of the sidecar: checksums of the files, or the DICOM series' UIDs. */
async function sourceRecord(spec: SnapshotJobSpec): Promise<SnapshotSidecar['source']> {
  const base = { name: spec.sourceName, geometry: spec.geometry }
  if (!spec.dicom) {
    return { ...base, files: await Promise.all(spec.sourceFiles.map((f) => fileRecord(f))) }
  }
  // One header tells the series: every file of it shares study, series and frame of reference.
  const uids = dicomSourceUIDs(await readDicomSeries(spec.sourceFiles.slice(0, 1)))
  return {
    ...base,
    dicom: {
      studyInstanceUID: uids.studyInstanceUID,
      seriesInstanceUID: uids.seriesInstanceUID,
      ...(uids.frameOfReferenceUID === undefined
        ? {}
        : { frameOfReferenceUID: uids.frameOfReferenceUID }),
      instances: spec.sourceFiles.length,
    },
  }
}

/** Runs a snapshot save; see the module comment. */
export async function runSnapshotJob(spec: SnapshotJobSpec): Promise<SnapshotJobValue> {
  // The service checked the header and that the views lie inside it; this is the whole file.
  const png = checkPng(spec.png, MAX_SNAPSHOT_SIDE, 'the snapshot')
  const dir = await outputFolder(spec.outDir)
  const sink: ExportSink = { dir, protect: spec.sourceFiles, overwrite: false }
  const pngName = `${spec.name}.png`
  const sideName = `${spec.name}.snapshot.json`
  for (const n of [pngName, sideName]) {
    const taken = await lstat(join(dir, n)).then(
      () => true,
      () => false,
    )
    if (taken) {
      throw new AppError('E_WRITE', `${n} exists in the output folder; it was not replaced`, {
        file: join(dir, n),
      })
    }
  }
  const source = await sourceRecord(spec)
  const bytesCheck = sameBytesCheck(spec.png)
  const written = await publish(sink, pngName, spec.png, async (temp) => {
    const said = await bytesCheck(temp)
    const back = checkPng(
      new Uint8Array(await readFile(temp)),
      MAX_SNAPSHOT_SIDE,
      'the written snapshot',
    )
    if (back.width !== png.width || back.height !== png.height) {
      throw new AppError('E_VERIFY', 'the written snapshot did not re-read as written', {
        file: temp,
      })
    }
    return `${said}; decodes to ${back.width}×${back.height} pixels`
  })
  const sidecar: SnapshotSidecar = {
    format: 'volseg-snapshot',
    version: 1,
    volseg: { version: await appVersion() },
    savedAt: new Date().toISOString(),
    image: {
      file: pngName,
      width: png.width,
      height: png.height,
      bytes: spec.png.byteLength,
      sha256: sha256Hex(spec.png),
    },
    source,
    labelsShown: spec.labelsShown,
    ...(spec.model ? { model: spec.model } : {}),
    ...(spec.review ? { review: spec.review } : {}),
    views: spec.views,
  }
  const text = new TextEncoder().encode(`${JSON.stringify(sidecar, null, 2)}\n`)
  const side = await publish(sink, sideName, text, sameBytesCheck(text, true))
  return {
    path: written.path,
    sidecarPath: side.path,
    bytes: written.bytes,
    width: png.width,
    height: png.height,
    check: written.check,
  }
}

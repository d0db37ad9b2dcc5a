/**
 * The `export` job (runs in the job worker): reads the reference image and the label map, checks
 * they share one grid, gathers the provenance (review file, run report, installed model card,
 * source checksums or DICOM UIDs, AI-vs-final delta) and writes each requested format through
 * src/io/export. Every file is published atomically into the output folder only, after its
 * re-read check; a failing format stops the job with that file's error.
 */
import { existsSync } from 'node:fs'
import { lstat, readFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { AppError } from '../shared/errors.js'
import type {
  ExportedFile,
  ExportedMesh,
  ExportJobSpec,
  ExportLabel,
  ExportLabelStats,
  ExportModelProvenance,
  ExportProvenance,
  ExportReport,
  LabelChangeRecord,
  SourceFileRecord,
} from '../shared/export.js'
import type { ReviewFile } from '../shared/review-file.js'
import { reviewFileName } from '../shared/review-file.js'
import { sanitiseName } from '../shared/file-names.js'
import type { BatchReport } from '../shared/segment-report.js'
import type { ModelCard } from '../shared/model-card.js'
import { gridMismatch } from '../core/geometry/grid-match.js'
import { labelChanges } from '../core/segmentation/label-statistics.js'
import { toLabelVoxels } from '../core/segmentation/label-voxels.js'
import type { LabelArray } from '../core/segmentation/label-volume.js'
import { labelBoxes } from '../core/segmentation/surfaces.js'
import { openVolume, type OpenedVolume } from '../io/open-volume.js'
import {
  fileRecord,
  outputFolder,
  sha256Hex,
  publish,
  sameBytesCheck,
  type ExportSink,
} from '../io/export/export-files.js'
import { exportNifti } from '../io/export/export-nifti.js'
import { computeLabelStats, exportStats } from '../io/export/export-stats.js'
import { exportMesh } from '../io/export/export-mesh.js'
import {
  dicomSourceUIDs,
  readDicomSeries,
  writeSeg,
  type SegSegment,
} from '../io/export/export-seg.js'
import { appVersion, modelDirs, readPackCard } from '../inference/ort/model-store.js'
import { paletteColour } from '../shared/palette.js'

/** `ch2_seg.nii.gz` → `ch2_seg`. */
function stemOf(path: string): string {
  return basename(path).replace(/\.(nii\.gz|nii|nrrd|nhdr|mha|mhd)$/i, '')
}

async function readJson<T>(path: string, what: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T
  } catch (e) {
    throw new AppError('E_BAD_HEADER', `cannot read the ${what}: ${(e as Error).message}`, {
      file: path,
    })
  }
}

/** Opens a label map and checks it lies on the reference grid. */
async function openLabels(
  path: string,
  reference: OpenedVolume,
  what: string,
): Promise<LabelArray> {
  const m = await openVolume(path)
  const l = toLabelVoxels(m.volume.voxels)
  if (!l.ok) throw new AppError('E_UNSUPPORTED', `${what}: ${l.problem}`, { file: path })
  const mismatch = gridMismatch(reference.volume, m.volume)
  if (mismatch) {
    throw new AppError('E_ARGS', `${what} is not on the reference's grid: ${mismatch}`, {
      file: path,
    })
  }
  return l.voxels
}

/** A held label map's bytes as labels on a grid of `sizeIJK`; E_ARGS when the count differs. */
function heldArray(
  b: Uint8Array,
  dataType: 'uint8' | 'uint16',
  sizeIJK: readonly number[],
  what: string,
): LabelArray {
  const n = sizeIJK[0]! * sizeIJK[1]! * sizeIJK[2]!
  const a =
    dataType === 'uint8'
      ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
      : new Uint16Array(new Uint8Array(b).buffer)
  if (a.length !== n) {
    throw new AppError('E_ARGS', `${what} has ${a.length} voxels, the grid needs ${n}`)
  }
  return a
}

/** The installed card of `idOrPath`, when one is found (no bytes read, no checksum run). */
async function findCard(idOrPath: string): Promise<{ card: ModelCard; dir: string } | undefined> {
  const dirs = idOrPath.includes('/')
    ? [resolve(idOrPath)]
    : modelDirs().map((d) => join(d, idOrPath))
  for (const dir of dirs) {
    if (existsSync(join(dir, 'model.json'))) return { card: await readPackCard(dir), dir }
  }
  return undefined
}

function modelProvenance(
  spec: ExportJobSpec,
  review: ReviewFile | undefined,
  run: BatchReport | undefined,
  card: ModelCard | undefined,
): ExportModelProvenance | undefined {
  const id = review?.modelRun?.modelId ?? run?.model.id ?? card?.id ?? spec.model
  if (id === undefined) return undefined
  const from: string[] = []
  if (review?.modelRun) from.push('review file')
  if (run) from.push('run report')
  if (card) from.push('installed model card')
  const provider = review?.modelRun?.provider ?? run?.model.provider
  const device = review?.modelRun?.device ?? run?.model.device
  const version = run?.model.version ?? card?.version
  const sha256 = run?.model.sha256 ?? card?.sha256
  return {
    id,
    ...(version === undefined ? {} : { version }),
    ...(sha256 === undefined ? {} : { sha256 }),
    ...(provider === undefined ? {} : { provider }),
    ...(device === undefined ? {} : { device }),
    ...(run ? { tta: run.tta } : {}),
    ...(card
      ? {
          preprocessing: {
            orientation: card.orientation,
            axisOrder: card.axisOrder,
            spacingMm: card.spacingMm,
            normalisation: card.normalisation,
            patchSize: card.patchSize,
            overlap: card.overlap,
            gaussianSigmaFraction: card.gaussianSigmaFraction,
            mirrorAxes: card.mirrorAxes,
            cropToNonzero: card.cropToNonzero ?? false,
            postprocess: card.postprocess,
          },
        }
      : {}),
    from,
  }
}

/** The label table of the export: review entries first, then the card's, else `label N`. */
function labelTable(
  values: readonly number[],
  review: ReviewFile | undefined,
  card: ModelCard | undefined,
): ExportLabel[] {
  return values.map((value) => {
    const r = review?.review.labels.find((l) => l.value === value)
    if (r) {
      return {
        value,
        name: r.name,
        colourRGB: r.colourRGB,
        status: r.status,
        ...(r.reason === undefined ? {} : { reason: r.reason }),
      }
    }
    const c = card?.labels.find((l) => l.value === value)
    return {
      value,
      name: c?.name ?? `label ${value}`,
      colourRGB: c?.color ?? paletteColour(value),
      status: 'unreviewed',
    }
  })
}

/** Runs an export; see the module comment. */
export async function runExportJob(spec: ExportJobSpec): Promise<ExportReport> {
  const warnings: string[] = []
  const version = await appVersion()
  const reference = await openVolume(
    spec.reference.map((p) => resolve(p)),
    spec.seriesKey === undefined ? {} : { seriesKey: spec.seriesKey },
  )
  const geometry = reference.volume
  const held = spec.held
  const maskPath = spec.mask === undefined ? undefined : resolve(spec.mask)
  let final: LabelArray
  if (held) {
    final = heldArray(held.bytes, held.dataType, geometry.sizeIJK, 'the label map')
  } else if (maskPath !== undefined) {
    final = await openLabels(maskPath, reference, basename(maskPath))
  } else throw new AppError('E_ARGS', 'nothing to export: no mask file and no held label map')
  // Review file: given, the one saved beside the mask, or the held map's.
  const besideMask =
    maskPath === undefined ? undefined : join(dirname(maskPath), reviewFileName(basename(maskPath)))
  const reviewPath =
    spec.review ?? (besideMask !== undefined && existsSync(besideMask) ? besideMask : undefined)
  const review: ReviewFile | undefined = reviewPath
    ? await readJson<ReviewFile>(reviewPath, 'review file')
    : held?.review && { ...held.review, mask: held.name }
  if (review && review.format !== 'volseg-review') {
    throw new AppError('E_BAD_HEADER', 'not a VolSeg review file', { file: reviewPath })
  }
  const maskWhere = maskPath === undefined ? {} : { file: maskPath }
  const run = spec.runReport ? await readJson<BatchReport>(spec.runReport, 'run report') : undefined
  const modelId = review?.modelRun?.modelId ?? run?.model.id ?? spec.model
  const found = modelId === undefined ? undefined : await findCard(spec.model ?? modelId)
  if (modelId !== undefined && !found) {
    warnings.push(
      `model pack "${modelId}" is not installed here: its card's settings are not recorded`,
    )
  }
  const card = found?.card
  // Labels: every non-zero value present, or the chosen ones (each must be present).
  const present = [...labelBoxes(final, geometry.sizeIJK).keys()].sort((a, b) => a - b)
  const chosen = spec.labels ?? present
  const missing = chosen.filter((v) => !present.includes(v))
  if (missing.length > 0) {
    throw new AppError(
      'E_ARGS',
      `label value${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not in the mask (it holds ${present.join(', ') || 'none'})`,
      maskWhere,
    )
  }
  if (chosen.length === 0) {
    throw new AppError('E_ARGS', 'the mask holds no labels: nothing to export', maskWhere)
  }
  const wanted = new Set(chosen)
  const exported: LabelArray = final.slice()
  for (let q = 0; q < exported.length; q++) if (!wanted.has(exported[q]!)) exported[q] = 0
  const labels = labelTable(chosen, review, card)
  // The AI-vs-final delta, on the exported labels: against the model's output given as a file
  // (--ai) or held by the viewer's session, by one computation for both.
  let ai: { labels: LabelArray; record: SourceFileRecord } | undefined
  if (spec.aiMask) {
    const aiPath = resolve(spec.aiMask)
    const labels = await openLabels(aiPath, reference, basename(aiPath))
    ai = { labels, record: await fileRecord(aiPath) }
  } else if (held?.ai) {
    const b = held.ai.bytes
    const labels = heldArray(b, held.ai.dataType, geometry.sizeIJK, "the model's label map")
    ai = { labels, record: { name: held.ai.name, sha256: sha256Hex(b), bytes: b.byteLength } }
  }
  let aiDelta: ExportProvenance['aiDelta']
  if (ai) {
    const changes: LabelChangeRecord[] = labelChanges(ai.labels, final).filter((c) =>
      wanted.has(c.value),
    )
    aiDelta = { aiMask: ai.record, labels: changes }
  }
  const aiDeltaAbsent = aiDelta
    ? undefined
    : {
        reason:
          held?.aiAbsent ??
          'no model output was given to compare with (volseg export --ai <model mask>)',
      }
  const humanEdited: boolean | 'unknown' = aiDelta
    ? aiDelta.labels.some((c) => c.added + c.removed > 0)
    : review
      ? review.review.labels.some((l) => wanted.has(l.value) && l.status === 'edited')
      : 'unknown'
  const isDicom = reference.format === 'dicom'
  const series = isDicom ? await readDicomSeries(reference.files) : undefined
  const provenance: ExportProvenance = {
    format: 'volseg-export',
    version: 1,
    volseg: { version },
    exportedAt: new Date().toISOString(),
    source: {
      kind: reference.format,
      geometry: {
        sizeIJK: geometry.sizeIJK,
        spacingMm: geometry.spacingMm,
        originLPS: geometry.originLPS,
        directionLPS: geometry.directionLPS,
      },
      ...(series
        ? { dicom: dicomSourceUIDs(series) }
        : { files: await Promise.all(reference.files.map((f) => fileRecord(f))) }),
    },
    mask:
      maskPath === undefined
        ? {
            name: held?.name ?? 'labels',
            sha256: sha256Hex(new Uint8Array(final.buffer, final.byteOffset, final.byteLength)),
            bytes: final.byteLength,
          }
        : await fileRecord(maskPath),
    labels,
    ...((): { model?: ExportModelProvenance } => {
      const m = modelProvenance(spec, review, run, card)
      return m ? { model: m } : {}
    })(),
    ...(review && reviewPath ? { review: { ...review.review, file: basename(reviewPath) } } : {}),
    ...(aiDelta ? { aiDelta } : {}),
    ...(aiDeltaAbsent ? { aiDeltaAbsent } : {}),
    humanEdited,
  }
  const outDir = await outputFolder(spec.outDir)
  const protect = [
    ...reference.files,
    ...(maskPath === undefined ? [] : [maskPath]),
    ...(reviewPath ? [reviewPath] : []),
    ...(spec.aiMask ? [resolve(spec.aiMask)] : []),
    ...(spec.runReport ? [resolve(spec.runReport)] : []),
  ]
  const sink: ExportSink = { dir: outDir, protect, overwrite: spec.overwrite ?? false }
  const stem = held ? held.name : stemOf(maskPath!)
  const files: ExportedFile[] = []
  const formats = new Set(spec.formats)
  let nifti: ExportReport['nifti']
  let seg: ExportReport['seg']
  let stats: ExportLabelStats[] | undefined
  const meshes: ExportedMesh[] = []
  // SEG first: it is the one format a source can refuse, so refuse before writing anything.
  const tilt = reference.dicom?.tilt
  if (formats.has('seg')) {
    if (!series) {
      throw new AppError(
        'E_UNSUPPORTED',
        `a DICOM SEG must reference DICOM images, and the reference is a ${reference.format.toUpperCase()} file; export --format nifti instead`,
        { file: reference.files[0] },
      )
    }
    if (tilt) {
      throw new AppError(
        'E_UNSUPPORTED',
        'the reference series is gantry-tilted and was resampled: its voxels are not the source planes a SEG frame must reference; export --format nifti instead',
        { file: reference.files[0] },
      )
    }
  }
  const meshName = (l: ExportLabel, format: 'stl' | 'obj'): string =>
    `${stem}.label-${l.value}-${sanitiseName(l.name)
      .replace(/[\s/\\.]+/g, '-')
      .slice(0, 60)}.${format}`
  if (!sink.overwrite) {
    // Refuse a taken name before writing anything (publishing never replaces one either).
    const names = [
      ...(formats.has('nifti') ? [`${stem}.nii.gz`] : []),
      ...(formats.has('seg') ? [`${stem}.seg.dcm`] : []),
      ...(formats.has('stats') ? [`${stem}.stats.csv`, `${stem}.stats.json`] : []),
      ...(['stl', 'obj'] as const).flatMap((f) =>
        formats.has(f) ? labels.map((l) => meshName(l, f)) : [],
      ),
      `${stem}.export.json`,
    ]
    for (const n of names) {
      const taken = await lstat(join(outDir, n)).then(
        () => true,
        () => false,
      )
      if (taken) {
        throw new AppError(
          'E_WRITE',
          `${n} exists in the output folder; it was not replaced (pass --overwrite to replace it)`,
          {
            file: join(outDir, n),
          },
        )
      }
    }
  }
  if (formats.has('nifti')) {
    const r = await exportNifti(
      sink,
      `${stem}.nii.gz`,
      exported,
      geometry,
      `VolSeg ${version} export`,
    )
    nifti = { path: r.path, verification: r.verification }
    files.push({ format: 'nifti', path: r.path, bytes: r.bytes, sha256: r.sha256, check: r.check })
  }
  if (formats.has('seg') && series) {
    const algorithmType =
      humanEdited === false ? 'AUTOMATIC' : provenance.model ? 'SEMIAUTOMATIC' : 'MANUAL'
    const segments: SegSegment[] = labels.map((l) => {
      const snomed = card?.labels.find((c) => c.value === l.value)?.snomed
      return {
        value: l.value,
        label: l.name,
        description: `value ${l.value}, review ${l.status}`,
        colourRGB: l.colourRGB,
        algorithmType,
        algorithmName: provenance.model?.id ?? 'VolSeg',
        ...(provenance.model?.version === undefined
          ? {}
          : { algorithmVersion: provenance.model.version }),
        ...(snomed === undefined ? {} : { snomed }),
      }
    })
    const model = provenance.model
    const comments = [
      `VolSeg ${version}`,
      model
        ? `model ${model.id} ${model.version ?? ''} sha256 ${model.sha256 ?? 'unknown'} on ${model.provider ?? '?'} ${model.device ?? ''}`
        : 'no model recorded',
      `human edited: ${String(humanEdited)}`,
      ...(aiDelta?.labels.map(
        (c) => `label ${c.value}: +${c.added} -${c.removed} voxels, Dice ${c.dice.toFixed(4)}`,
      ) ?? []),
      `provenance: ${stem}.export.json`,
    ].join('; ')
    const r = await writeSeg({
      sink,
      name: `${stem}.seg.dcm`,
      source: series,
      geometry,
      labels: exported,
      segments,
      seriesDescription: `VolSeg SEG ${stem}`,
      softwareVersion: `VolSeg ${version}`,
      comments,
    })
    seg = { path: r.path, frames: r.frames, segments: segments.length, algorithmType }
    files.push({ format: 'seg', path: r.path, bytes: r.bytes, sha256: r.sha256, check: r.check })
  }
  if (formats.has('stats')) {
    stats = computeLabelStats(final, reference.volume.voxels, geometry, labels)
    for (const f of await exportStats(sink, stem, stats, { provenance: `${stem}.export.json` })) {
      files.push({
        format: 'stats',
        path: f.path,
        bytes: f.bytes,
        sha256: f.sha256,
        check: f.check,
      })
    }
  }
  const boxes = labelBoxes(exported, geometry.sizeIJK)
  for (const format of ['stl', 'obj'] as const) {
    if (!formats.has(format)) continue
    for (const l of labels) {
      const box = boxes.get(l.value)!
      const m = await exportMesh({
        sink,
        name: meshName(l, format),
        format,
        labels: exported,
        geometry,
        value: l.value,
        labelName: l.name,
        box,
        ras: spec.ras ?? false,
        smooth: !(spec.rawSurface ?? false),
        softwareVersion: version,
      })
      meshes.push(m)
      files.push({
        format,
        path: m.path,
        bytes: m.bytes,
        sha256: m.sha256,
        check: m.check,
        label: l.value,
      })
    }
  }
  // The sidecar last: it lists every file written, with checksums.
  const sidecar = {
    ...provenance,
    meshFrame:
      meshes.length > 0
        ? { frame: spec.ras ? 'RAS' : 'LPS', units: 'mm', smoothed: !spec.rawSurface }
        : undefined,
    files: files.map((f) => ({ ...f, path: basename(f.path) })),
    ...(stats ? { stats } : {}),
    ...(meshes.length > 0 ? { meshes: meshes.map((m) => ({ ...m, path: basename(m.path) })) } : {}),
    ...(seg ? { seg: { ...seg, path: basename(seg.path) } } : {}),
  }
  const bytes = new TextEncoder().encode(`${JSON.stringify(sidecar, null, 2)}\n`)
  const side = await publish(sink, `${stem}.export.json`, bytes, sameBytesCheck(bytes, true))
  files.push({
    format: 'sidecar',
    path: side.path,
    bytes: side.bytes,
    sha256: side.sha256,
    check: side.check,
  })
  return {
    files,
    labels,
    ...(stats ? { stats } : {}),
    ...(meshes.length > 0 ? { meshes } : {}),
    ...(seg ? { seg } : {}),
    ...(nifti ? { nifti } : {}),
    provenance,
    warnings,
  }
}

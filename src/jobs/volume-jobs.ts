/**
 * Worker side of the service jobs (`src/shared/jobs.ts`): open an image and hand back its voxels,
 * segment an already-opened volume, save a label map verified against the source grid. They run
 * in the forked job worker, so parsing, inference and gzip never block the serve process.
 */
import { totalmem } from 'node:os'
import { readFile, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { AppError } from '../shared/errors.js'
import {
  EARLY_OPEN_MIN_BYTES,
  type OpenJobRequest,
  type OpenJobValue,
  type SaveMaskJobRequest,
  type SaveMaskJobValue,
  type SegmentVolumeJobRequest,
  type SegmentVolumeJobValue,
  type VolumePayload,
} from '../shared/jobs.js'
import type { SeriesChoice } from '../shared/api.js'
import type { SegmentEvent } from '../shared/segment-report.js'
import { BYTES_PER_PIXEL, type Volume, type VoxelArray } from '../shared/volume.js'
import { asTypedArray } from '../shared/wire.js'
import { MAX_NAME_SUFFIX, numberedMaskName } from '../shared/file-names.js'
import { reviewFileName, type ReviewFile } from '../shared/review-file.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { toLabelVoxels } from '../core/segmentation/label-voxels.js'
import { intensityRange } from '../core/volume/intensity.js'
import { intensitySignature } from '../core/volume/check-input-fit.js'
import { openVolume, type VoxelProgress } from '../io/open-volume.js'
import type { NiftiInfo } from '../io/nifti/read-nifti.js'
import type { DicomSeriesSummary } from '../io/dicom/read-dicom.js'
import { percentiles as sharedPercentiles } from '../shared/percentiles.js'
import { writeMaskNifti } from '../io/nifti/write-nifti-mask.js'
import { segmentVolume } from '../inference/segment-volume.js'
import { loadPackFromDir } from '../inference/ort/model-store.js'
import { openModelSession } from '../inference/ort/open-session.js'
import { checkVolumeFit, modelReport, type JobControl } from './segment-job.js'
import { runWarnings } from './run-warnings.js'

/** The bytes of a typed array, as a view (no copy). */
function bytesOf(a: VoxelArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
}

/**
 * 0.5th and 99.5th percentiles (the project's one definition, `src/shared/percentiles.ts`) over
 * at most ~1 M evenly strided finite voxels, as float32.
 */
export function percentiles(voxels: VoxelArray): { p0_5: number; p99_5: number } {
  const step = Math.max(1, Math.floor(voxels.length / 1_000_000))
  const sample = new Float32Array(Math.ceil(voxels.length / step))
  let n = 0
  for (let i = 0; i < voxels.length; i += step) {
    const v = voxels[i] as number
    if (Number.isFinite(v)) sample[n++] = v
  }
  if (n === 0) return { p0_5: Number.NaN, p99_5: Number.NaN }
  const [p0_5, p99_5] = sharedPercentiles(sample.subarray(0, n), 0.5, 99.5)
  return { p0_5: p0_5 as number, p99_5: p99_5 as number }
}

function seriesChoices(series: readonly DicomSeriesSummary[]): SeriesChoice[] {
  return series.map((s) => ({
    key: s.key,
    description: s.description,
    modality: s.modality,
    sizeIJK: s.mosaic
      ? [s.mosaic.columns, s.mosaic.rows, s.mosaic.slices]
      : [s.columns, s.rows, s.fileCount],
    count: s.fileCount,
    warnings: s.warnings,
    ...(s.seriesNumber === undefined ? {} : { seriesNumber: s.seriesNumber }),
  }))
}

/** The volume kind of an `open` answer. */
type OpenVolumeValue = Extract<OpenJobValue, { kind: 'volume' }>

/**
 * Where an early-answering `open` (`OpenJobRequest.early`) puts what it decodes: the worker's
 * handoff file and its pipe to the parent.
 */
export interface OpenSink {
  /** The next decoded voxel bytes, in order from byte 0. */
  voxels(bytes: Uint8Array): void
  /** The early answer, once (its voxels are empty: they are in the sink). */
  early(value: OpenVolumeValue): void
  isCancelled(): boolean
}

/** An early answer comes once 1/this of the k slices are decoded. */
const EARLY_ANSWER_FRACTION = 8

/** Decoded bytes handed on at a time: fewer messages, and still a slab's worth at most. */
const SINK_STEP_BYTES = 4 << 20

/** `open`: the volume and its statistics, or the series list of a multi-series folder. */
export async function runOpenJob(req: OpenJobRequest, sink?: OpenSink): Promise<OpenJobValue> {
  let opened
  try {
    opened = await openVolume(req.input, {
      ...(req.seriesKey === undefined ? {} : { seriesKey: req.seriesKey }),
      ...(req.maxVoxelBytes === undefined ? {} : { maxVoxelBytes: req.maxVoxelBytes }),
      ...(req.confineTo === undefined ? {} : { confineTo: req.confineTo }),
      ...(req.early && sink && !req.asLabels ? { onVoxels: earlyAnswer(req, sink) } : {}),
    })
  } catch (e) {
    // Several series and none chosen: the UI must ask (itk-wasm would take the first silently).
    if (e instanceof AppError && e.code === 'E_MULTIPLE_SERIES') {
      const series = (e.details as { series?: DicomSeriesSummary[] } | undefined)?.series
      if (series && series.length > 0) {
        return { kind: 'series-choice', series: seriesChoices(series) }
      }
    }
    throw e
  }
  const n = opened.nifti
  let v = opened.volume
  if (req.asLabels) {
    const l = toLabelVoxels(v.voxels)
    if (!l.ok) {
      const file = basename(opened.files[0] ?? req.input[0] ?? 'mask')
      throw new AppError('E_UNSUPPORTED', `${file}: ${l.problem}`, { file })
    }
    v = { ...v, pixelType: l.dataType, voxels: l.voxels }
  }
  return {
    ...volumeValue(v, v.voxels, opened.intensityRange, opened.warnings, n),
    format: opened.format,
    files: opened.files,
    ...(opened.dicom
      ? {
          seriesDescription: opened.dicom.chosen.description,
          modality: opened.dicom.chosen.modality,
          ...(opened.dicom.chosen.study ? { study: opened.dicom.chosen.study } : {}),
          ...(opened.dicom.tilt ? { gantryTilt: opened.dicom.tilt } : {}),
        }
      : {}),
  }
}

/**
 * The decode-progress callback of an early-answering open: hands the decoded bytes to `sink` a
 * step at a time and answers once an eighth of the slices are in, with the figures over those (a
 * big enough volume only: {@link EARLY_OPEN_MIN_BYTES}).
 */
function earlyAnswer(req: OpenJobRequest, sink: OpenSink): (p: VoxelProgress) => void {
  let handed = 0
  let answered = false
  // Min/max of the voxels decoded so far, kept up step by step while zlib inflates the next
  // (off this thread), so the early answer does not wait for a pass of its own.
  let seen = 0
  let lo = Infinity
  let hi = -Infinity
  return (p) => {
    if (sink.isCancelled()) throw new AppError('E_CANCELLED', 'opening was cancelled')
    const v = p.volume
    const bytes = bytesOf(v.voxels)
    if (bytes.byteLength < EARLY_OPEN_MIN_BYTES) return
    const done = p.doneVoxels * BYTES_PER_PIXEL[v.pixelType]
    if (done - handed >= SINK_STEP_BYTES || done === bytes.byteLength) {
      sink.voxels(bytes.subarray(handed, done))
      handed = done
    }
    if (answered) return
    const [min, max] = intensityRange(v.voxels.subarray(seen, p.doneVoxels))
    lo = Math.min(lo, min)
    hi = Math.max(hi, max)
    seen = p.doneVoxels
    const [ni, nj, nk] = v.sizeIJK
    const slicesK = Math.floor(Math.floor(handed / BYTES_PER_PIXEL[v.pixelType]) / (ni * nj))
    // Answer once an eighth of the slices is in: enough for figures to pick a window by, and
    // early enough that the viewer's reads of the slices in k order overlap the decode.
    if (slicesK < Math.max(1, Math.ceil(nk / EARLY_ANSWER_FRACTION))) return
    answered = true
    const part = v.voxels.subarray(0, slicesK * ni * nj)
    const range: [number, number] = lo <= hi ? [lo, hi] : intensityRange(part)
    const value = volumeValue(v, part, range, p.warnings, p.nifti)
    sink.early({
      ...value,
      volume: { ...value.volume, voxels: new Uint8Array(0) },
      format: 'nifti',
      files: [req.input[0] ?? ''],
      partial: { slicesK },
    })
  }
}

/** The figures of an `open` answer, over `over` (all of `v`'s voxels, or its first slices). */
function volumeValue(
  v: Volume,
  over: VoxelArray,
  range: readonly [number, number],
  warnings: readonly string[],
  n: NiftiInfo | undefined,
): Omit<OpenVolumeValue, 'format' | 'files'> {
  return {
    kind: 'volume',
    volume: {
      geometry: {
        sizeIJK: v.sizeIJK,
        spacingMm: v.spacingMm,
        originLPS: v.originLPS,
        directionLPS: v.directionLPS,
      },
      dataType: v.pixelType,
      voxels: bytesOf(v.voxels),
    },
    intensityRange: range,
    percentiles: percentiles(over),
    signature: intensitySignature(over, undefined, range),
    warnings,
    ...(n
      ? {
          xformCodes: {
            qform_code: n.xforms.qform_code || 1,
            sform_code: n.xforms.sform_code || 1,
          },
        }
      : {}),
  }
}

/** A {@link Volume} over the payload's bytes (a view when aligned). */
function toVolume(p: VolumePayload): Volume {
  return { ...p.geometry, pixelType: p.dataType, voxels: asTypedArray(p.voxels, p.dataType) }
}

/** `segment-volume`: model from its folder, one session, one volume; cancellable per tile. */
export async function runSegmentVolumeJob(
  req: SegmentVolumeJobRequest,
  ctl: JobControl,
): Promise<SegmentVolumeJobValue> {
  const t0 = performance.now()
  const pack = await loadPackFromDir(req.modelDir)
  const session = await openModelSession(pack.bytes, pack.card, req.ep, pack.dir)
  const emit = (e: SegmentEvent): void => ctl.emit(e)
  const model = modelReport(pack.card, session, t0)
  emit({ kind: 'model', model })
  try {
    if (ctl.isCancelled()) throw new AppError('E_CANCELLED', 'segmentation was cancelled')
    const volume = toVolume(req.volume)
    // The viewer runs an unfit input anyway and shows why it may be wrong (the CLI refuses).
    const inputCheck = checkVolumeFit(pack.card, volume, req.modality, true)
    const result = await segmentVolume(volume, pack.card, session.runner, {
      tta: req.tta,
      uncertainty: req.uncertainty,
      maxBytes: req.maxBytes ?? Math.floor(totalmem() * 0.6),
      isCancelled: ctl.isCancelled,
      onProgress: (p) => emit({ kind: 'progress', index: 0, ...p }),
      onPlan: (p) =>
        emit({
          kind: 'plan',
          index: 0,
          plannedMemoryBytes: p.memory.totalBytes,
          modelShape: p.modelShape,
          tiles: p.tiles,
          networkRuns: p.networkRuns,
        }),
    })
    const u = result.uncertainty
    const found = u ? intensityRange(u) : undefined
    const range: [number, number] = found && found[0] <= found[1] ? found : [0, 0]
    return {
      labelsType: result.labels instanceof Uint16Array ? 'uint16' : 'uint8',
      labels: bytesOf(result.labels),
      labelVoxels: result.labelVoxels,
      uncertaintyKind: result.uncertaintyKind,
      ...(u ? { uncertainty: { bytes: bytesOf(u), range } } : {}),
      model,
      timingsMs: { ...result.timingsMs, total: performance.now() - t0 },
      inputCheck,
      warnings: runWarnings(pack.card, inputCheck, model, result.labelVoxels, 'viewer'),
    }
  } finally {
    await session.release()
  }
}

/**
 * `save-mask`: atomic, verified `.nii.gz` on the source grid; never over a source file, never
 * over any existing file (a name taken after the service chose it moves on to the next free one).
 */
export async function runSaveMaskJob(req: SaveMaskJobRequest): Promise<SaveMaskJobValue> {
  const labels = asTypedArray(req.labels, req.dataType) as Uint8Array | Uint16Array
  const next = req.nextFree
  const r = await writeMaskNifti({
    path: req.path,
    noReplace: true,
    ...(next
      ? {
          alternative: (n: number) =>
            next.from + n > MAX_NAME_SUFFIX
              ? undefined
              : join(dirname(req.path), numberedMaskName(next.stem, next.from + n)),
        }
      : {}),
    labels,
    geometry: req.geometry,
    sourceFiles: req.sourceFiles,
    descrip: req.descrip,
    ...(req.xformCodes ?? {}),
  })
  const reviewPath = req.review
    ? await writeReviewBeside(r.path, req.review, req.sourceFiles)
    : undefined
  return {
    path: r.path,
    bytes: r.bytes,
    labelVoxels: r.labelVoxels,
    verification: r.verification,
    ...(reviewPath === undefined ? {} : { reviewPath }),
  }
}

/**
 * Writes `<stem>.review.json` beside the published mask at `maskPath` (absolute): atomically,
 * never over an existing file, re-read and compared. When it cannot be written, the mask just
 * published is removed again (it is this job's own new file), so a save leaves both or neither.
 */
async function writeReviewBeside(
  maskPath: string,
  draft: Omit<ReviewFile, 'mask'>,
  sourceFiles: readonly string[],
): Promise<string> {
  const file: ReviewFile = { ...draft, mask: basename(maskPath) }
  const text = `${JSON.stringify(file, null, 2)}\n`
  const bytes = new TextEncoder().encode(text)
  const target = join(dirname(maskPath), reviewFileName(basename(maskPath)))
  try {
    const written = await writeFileAtomic(target, bytes, {
      noReplace: true,
      protect: sourceFiles,
      verify: async (temp) => {
        if (!Buffer.from(bytes).equals(await readFile(temp))) {
          throw new AppError('E_VERIFY', `${basename(target)}: the re-read review file differs`)
        }
      },
    })
    // Why: compare what a reader will parse, not only bytes: the record must survive JSON.
    const back: unknown = JSON.parse(await readFile(written, 'utf8'))
    if (JSON.stringify(back) !== JSON.stringify(file)) {
      throw new AppError(
        'E_VERIFY',
        `${basename(target)}: the re-read review differs from the saved one`,
      )
    }
    return written
  } catch (e) {
    await unlink(maskPath).catch(() => undefined)
    if (e instanceof AppError && e.code === 'E_WRITE') {
      throw new AppError(
        'E_WRITE',
        `${basename(target)} could not be written beside ${basename(maskPath)} (the name is taken or the folder refused it), so the mask was not kept either`,
        { file: target, cause: e },
      )
    }
    throw e
  }
}

/**
 * The segmentation job, run inside the long-lived inference worker: load the model once, then
 * for each case open → segment → write mask (+ uncertainty) atomically and verified. One
 * failing case is reported and the batch goes on; cancellation stops within one tile.
 */
import { access, copyFile, link, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { totalmem } from 'node:os'
import { AppError, toAppError } from '../shared/errors.js'
import type { InputCheck } from '../shared/input-fit.js'
import type { ModelCard } from '../shared/model-card.js'
import type { Volume } from '../shared/volume.js'
import {
  reportCsv,
  type BatchReport,
  type CaseReport,
  type ModelReport,
  type SegmentCase,
  type SegmentEvent,
  type SegmentJobSpec,
} from '../shared/segment-report.js'
import { openVolume } from '../io/open-volume.js'
import { writeMaskNifti } from '../io/nifti/write-nifti-mask.js'
import { tempPathIn, writeFileAtomic } from '../io/atomic-write.js'
import { segmentVolume } from '../inference/segment-volume.js'
import { loadModelPack } from '../inference/ort/model-store.js'
import { openModelSession, type ModelSession } from '../inference/ort/open-session.js'
import { checkInputFit, intensitySignature } from '../core/volume/check-input-fit.js'
import { runWarnings } from './run-warnings.js'

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  )

/**
 * Runs `writeMask`, then `writeRest` (its uncertainty map), so that both are published or neither:
 * when the second fails, the mask at `maskPath` is put back as it was (or removed when there was
 * none). When the mask itself was not written (e.g. its name was taken meanwhile), the file there
 * is not ours and is left alone.
 */
async function publishTogether<M, R>(
  maskPath: string,
  writeMask: () => Promise<M>,
  writeRest: () => Promise<R>,
): Promise<{ mask: M; rest: R }> {
  // A hard link keeps the previous mask reachable while the new one is renamed over it.
  const backup = tempPathIn(dirname(maskPath), 'bak')
  let hasBackup = false
  if (await exists(maskPath)) {
    await link(maskPath, backup).catch(() => copyFile(maskPath, backup))
    hasBackup = true
  }
  try {
    const mask = await writeMask()
    try {
      return { mask, rest: await writeRest() }
    } catch (e) {
      if (hasBackup) {
        await rename(backup, maskPath)
        hasBackup = false
      } else await rm(maskPath, { force: true })
      throw e
    }
  } finally {
    if (hasBackup) await rm(backup, { force: true })
  }
}

export interface JobControl {
  readonly emit: (e: SegmentEvent) => void
  readonly isCancelled: () => boolean
}

/**
 * The input checked against the card: by the chosen series' DICOM Modality, else by its voxel
 * values; `forced` when it does not fit and the spec says run anyway.
 */
export function checkVolumeFit(
  card: ModelCard,
  volume: Pick<Volume, 'voxels' | 'spacingMm'>,
  modality: string | undefined,
  force: boolean,
): InputCheck {
  const fit = checkInputFit(card, {
    modality,
    signature: intensitySignature(volume.voxels),
    spacingMm: volume.spacingMm,
  })
  return { ...fit, forced: !fit.ok && force }
}

async function runCase(
  c: SegmentCase,
  index: number,
  card: ModelCard,
  session: ModelSession,
  model: ModelReport,
  spec: SegmentJobSpec,
  ctl: JobControl,
): Promise<CaseReport> {
  const base = { id: c.id, input: c.input, output: c.output }
  if (spec.skipExisting && (await exists(c.output))) return { ...base, status: 'skipped' }
  const t0 = performance.now()
  ctl.emit({ kind: 'progress', index, stage: 'read', done: 0, total: 0 })
  const opened = await openVolume(
    c.input,
    c.seriesKey === undefined ? {} : { seriesKey: c.seriesKey },
  )
  const tRead = performance.now()
  const v = opened.volume
  const file = c.input.length === 1 ? c.input[0] : undefined
  // Before inference: an input that does not suit the card is refused unless forced.
  const inputCheck = checkVolumeFit(card, v, opened.dicom?.chosen.modality, spec.force === true)
  if (!inputCheck.ok && !inputCheck.forced) {
    const message = `${inputCheck.reason}; use --force to run anyway`
    const where = file ?? `${c.input.length} inputs`
    const error = { code: 'E_MODALITY' as const, message, file: where }
    return { ...base, status: 'failed', error, inputCheck }
  }
  if (inputCheck.forced) {
    ctl.emit({
      kind: 'warning',
      index,
      message: `${file ?? c.id}: ${inputCheck.reason}; running anyway (--force)`,
    })
  }
  const result = await segmentVolume(v, card, session.runner, {
    tta: spec.tta,
    uncertainty: c.uncertaintyOutput !== undefined,
    ...(spec.batch === undefined ? {} : { batch: spec.batch }),
    // Plan for at most 60 % of the machine's memory unless told otherwise.
    maxBytes: spec.maxBytes ?? Math.floor(totalmem() * 0.6),
    ...(file === undefined ? {} : { file }),
    isCancelled: ctl.isCancelled,
    onProgress: (p) => ctl.emit({ kind: 'progress', index, ...p }),
    onPlan: (p) =>
      ctl.emit({
        kind: 'plan',
        index,
        plannedMemoryBytes: p.memory.totalBytes,
        modelShape: p.modelShape,
        tiles: p.tiles,
        networkRuns: p.networkRuns,
      }),
  })
  ctl.emit({ kind: 'progress', index, stage: 'write', done: 0, total: 0 })
  const tSeg = performance.now()
  const codes = opened.nifti
    ? {
        qform_code: opened.nifti.xforms.qform_code || 1,
        sform_code: opened.nifti.xforms.sform_code || 1,
      }
    : {}
  // Not overwriting: a file that appeared at an output while this case ran is never replaced.
  const noReplace = spec.skipExisting
  const maskOptions = {
    noReplace,
    path: c.output,
    labels: result.labels,
    geometry: v,
    sourceFiles: opened.files,
    ...codes,
    descrip: `VolSeg ${card.id} ${card.version}`,
  }
  const uncertainty = result.uncertainty
  const uncertaintyPath = c.uncertaintyOutput
  const { written, uncertaintyWritten } =
    uncertaintyPath !== undefined && uncertainty
      ? await publishTogether(
          c.output,
          () => writeMaskNifti(maskOptions),
          () =>
            writeMaskNifti({
              noReplace,
              path: uncertaintyPath,
              labels: uncertainty,
              geometry: v,
              sourceFiles: [...opened.files, c.output],
              ...codes,
              descrip: `VolSeg ${card.id} ${result.uncertaintyKind}`,
            }),
        ).then((w) => ({ written: w.mask, uncertaintyWritten: w.rest }))
      : { written: await writeMaskNifti(maskOptions), uncertaintyWritten: undefined }
  const voxelMl = (v.spacingMm[0] * v.spacingMm[1] * v.spacingMm[2]) / 1000
  return {
    ...base,
    status: 'ok',
    labels: card.labels.map((l, k) => ({
      value: l.value,
      name: l.name,
      voxels: result.labelVoxels[k] ?? 0,
      volumeMl: (result.labelVoxels[k] ?? 0) * voxelMl,
    })),
    ...(c.uncertaintyOutput === undefined ? {} : { uncertaintyOutput: c.uncertaintyOutput }),
    uncertaintyKind: result.uncertaintyKind,
    sizeIJK: v.sizeIJK,
    spacingMm: v.spacingMm,
    modelShape: result.modelShape,
    tiles: result.tiles,
    networkRuns: result.networkRuns,
    plannedMemoryBytes: result.memory.totalBytes,
    warnings: [
      ...opened.warnings,
      ...runWarnings(card, inputCheck, model, result.labelVoxels, 'cli'),
    ],
    inputCheck,
    timingsMs: {
      read: tRead - t0,
      ...result.timingsMs,
      write: performance.now() - tSeg,
      total: performance.now() - t0,
    },
    verification: written.verification,
    ...(uncertaintyWritten ? { uncertaintyVerification: uncertaintyWritten.verification } : {}),
  }
}

/** What ran: the pack's identity and the session's provider, device and rewrites; `t0` is when
 * loading the pack started (`performance.now()` ms). */
export function modelReport(card: ModelCard, session: ModelSession, t0: number): ModelReport {
  return {
    id: card.id,
    version: card.version,
    sha256: card.sha256,
    provider: session.provider,
    device: session.device,
    rewrites: session.rewrites,
    attempts: session.attempts,
    loadMs: performance.now() - t0,
  }
}

/** Runs a whole batch. Throws only for job-level failures (model, provider, cancellation). */
export async function runSegmentJob(spec: SegmentJobSpec, ctl: JobControl): Promise<BatchReport> {
  const t0 = performance.now()
  const pack = await loadModelPack(spec.model)
  const session = await openModelSession(pack.bytes, pack.card, spec.ep, pack.dir)
  const model = modelReport(pack.card, session, t0)
  ctl.emit({ kind: 'model', model })
  const cases: CaseReport[] = []
  try {
    for (const [index, c] of spec.cases.entries()) {
      if (ctl.isCancelled()) throw new AppError('E_CANCELLED', 'segmentation was cancelled')
      ctl.emit({ kind: 'case-start', index, id: c.id })
      let report: CaseReport
      try {
        report = await runCase(c, index, pack.card, session, model, spec, ctl)
      } catch (e) {
        const err = toAppError(e, 'E_INTERNAL', c.input.length === 1 ? c.input[0] : undefined)
        if (err.code === 'E_CANCELLED') throw err
        const error = {
          code: err.code,
          message: err.message,
          ...(err.file === undefined ? {} : { file: err.file }),
        }
        report = { id: c.id, input: c.input, output: c.output, status: 'failed', error }
      }
      cases.push(report)
      ctl.emit({ kind: 'case-end', index, report })
    }
  } finally {
    await session.release()
  }
  const batch: BatchReport = { model, tta: spec.tta, cases }
  if (spec.report) {
    // Atomic like the masks, and never over an input, whatever the output folder holds.
    const protect = spec.cases.flatMap((c) => c.input)
    const text = (t: string): Uint8Array => new TextEncoder().encode(t)
    await writeFileAtomic(spec.report.csv, text(reportCsv(batch)), { protect })
    await writeFileAtomic(spec.report.json, text(`${JSON.stringify(batch, null, 2)}\n`), {
      protect,
    })
  }
  return batch
}

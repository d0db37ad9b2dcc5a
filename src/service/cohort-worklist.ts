/**
 * The review worklist of `volseg serve --cohort <folder>` (architecture.md §5, S4/S5): the cases
 * of the cohort report in its order, addressed by id only. An id is looked up in the manifest,
 * which names the case's input (wherever the shards read it) and its mask inside the cohort
 * folder, so no path from the UI is ever resolved here. A save goes where `volseg cohort report`
 * reads reviews: `<cohort>/masks/<id>_seg-N.nii.gz` (N ≥ 1, the next free number: the model's
 * own `<id>_seg.nii.gz` is never written) with `<id>_seg-N.review.json` beside it; then the
 * report is written again with the case's state (the `cohort-reviews` job).
 */
import { realpath, stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import {
  err,
  ok,
  type OpenedLabels,
  type OpenedSource,
  type Result,
  type SaveMaskRequest,
  type SaveReport,
  type SourceRef,
  type VolumeId,
} from '../shared/api.js'
import type {
  CohortCaseRequest,
  CohortWorklist,
  OpenedCohortCase,
  SaveCohortCaseRequest,
  SavedCohortCase,
  WorklistCase,
} from '../shared/cohort-api.js'
import { isCaseReviewName, type CohortCase, type CohortManifest } from '../shared/cohort.js'
import type { CohortReport, CohortReportRow } from '../shared/cohort-report.js'
import { AppError } from '../shared/errors.js'
import { paletteColour } from '../shared/palette.js'
import { resolveUnder } from './confine.js'
import type { Holdings } from './holdings.js'
import type { SessionState } from './sessions.js'

/** The cohort a service serves: its folder (a real path), manifest and current report. */
export interface ServedCohort {
  readonly dir: string
  /** The folder's name, as the UI shows it. */
  readonly name: string
  readonly manifest: CohortManifest
  readonly report: CohortReport
}

/** What {@link cohortHandlers} needs from the service. */
export interface CohortDeps {
  readonly holdings: Holdings
  /** Makes a message client-safe (the service's `ClientPaths.text`). */
  readonly scrub: (text: string) => string
  /** Reads the case's image and holds it for `s` (the service's `openPath`). */
  readonly openImage: (
    s: SessionState,
    input: readonly string[],
    source: SourceRef,
    name: string,
    extra: { confineTo: string; caseId: string; seriesKey?: string },
  ) => Promise<Result<OpenedSource>>
  /** Reads the mask `abs` (confined under `root`) as labels of the volume (`openMaskOnto`). */
  readonly openMask: (
    s: SessionState,
    volumeId: VolumeId,
    root: string,
    abs: string,
  ) => Promise<Result<OpenedLabels>>
  /** Saves held labels into folder `dir` as `req.name` numbered from `from` (the `saveMask` step). */
  readonly saveMask: (
    s: SessionState,
    req: SaveMaskRequest,
    target: { readonly dir: string; readonly root: string; readonly from: number },
  ) => Promise<Result<SaveReport>>
  /** Runs the `cohort-reviews` job on the cohort folder. */
  readonly updateReport: (dir: string) => Promise<Result<CohortReport>>
}

/** The three cohort methods, given the calling session. */
export interface CohortHandlers {
  cohortWorklist(s: SessionState, req: Record<string, never>): Promise<Result<CohortWorklist>>
  openCohortCase(s: SessionState, req: CohortCaseRequest): Promise<Result<OpenedCohortCase>>
  saveCohortCase(s: SessionState, req: SaveCohortCaseRequest): Promise<Result<SavedCohortCase>>
}

/** The {@link VolumeId}'s source ref of case `id` (opaque to the UI; never resolved as a path). */
const caseSource = (id: string): SourceRef => `cohort:${id}` as SourceRef

/** The handlers; every one refuses when the service serves no cohort. */
export function cohortHandlers(cohort: ServedCohort | undefined, d: CohortDeps): CohortHandlers {
  const none = (): Result<never> =>
    err('E_ARGS', 'this VolSeg was not started with --cohort: there is no worklist')
  if (cohort === undefined) {
    return {
      cohortWorklist: async () => none(),
      openCohortCase: async () => none(),
      saveCohortCase: async () => none(),
    }
  }
  const c = cohort
  let report = c.report
  // One report update at a time: each reads every review again, so the last one has them all.
  let updating: Promise<unknown> = Promise.resolve()

  const caseOf = (id: string): CohortCase => {
    const found = c.manifest.cases.find((x) => x.id === id)
    if (!found) throw new AppError('E_NOT_FOUND', `no case "${id}" in the cohort ${c.name}`)
    return found
  }

  const entry = (r: CohortReportRow): WorklistCase => ({
    id: r.id,
    status: r.status,
    qc: r.qc.map((f) => ({ ...f, message: d.scrub(f.message) })),
    qcScore: r.qcScore,
    review: {
      status: r.review.status,
      ...(r.review.savedAt === undefined ? {} : { savedAt: r.review.savedAt }),
      ...(r.review.reasons === undefined ? {} : { reasons: r.review.reasons.map(d.scrub) }),
    },
    ...(r.error === undefined ? {} : { error: d.scrub(r.error) }),
  })

  /** The report's rows of the manifest's cases, in its order; cases it lacks go last, pending. */
  const worklist = (): CohortWorklist => {
    const known = new Set(c.manifest.cases.map((x) => x.id))
    const rows = report.cases.filter((r) => known.has(r.id))
    const listed = new Set(rows.map((r) => r.id))
    const cases = [
      ...rows.map(entry),
      ...c.manifest.cases
        .filter((x) => !listed.has(x.id))
        .map((x): WorklistCase => ({
          id: x.id,
          status: 'pending',
          qc: [],
          qcScore: 0,
          review: { status: 'pending' },
        })),
    ]
    return {
      name: c.name,
      model: { id: report.model.id, version: report.model.version },
      generatedAt: report.generatedAt,
      cases,
      reviewed: cases.filter((x) => x.review.status !== 'pending').length,
    }
  }

  /** The case's mask: that of its newest review when the report names one, else the model's. */
  const maskOf = async (k: CohortCase): Promise<string | undefined> => {
    const file = report.cases.find((r) => r.id === k.id)?.review.file
    const refs = [
      ...(file?.startsWith('masks/') === true && isCaseReviewName(k.id, file.slice(6))
        ? [file.replace(/\.review\.json$/, '.nii.gz')]
        : []),
      k.output,
    ]
    for (const ref of refs) {
      try {
        return await resolveUnder(c.dir, ref, 'mask')
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'E_NOT_FOUND')) throw e
      }
    }
    return undefined
  }

  return {
    cohortWorklist: async () => ok(worklist()),

    openCohortCase: async (s, req) => {
      const k = caseOf(req.caseId)
      // A detached data file (NRRD, MetaImage) stays beside the case's input (in its folder).
      const first = await realpath(k.input[0] as string).catch(() => {
        throw new AppError('E_NOT_FOUND', `case ${k.id}: its input is no longer there`, {
          file: basename(k.input[0] as string),
        })
      })
      const confineTo = (await stat(first)).isDirectory() ? first : dirname(first)
      const img = await d.openImage(s, k.input, caseSource(k.id), k.id, {
        confineTo,
        caseId: k.id,
        ...(k.seriesKey === undefined ? {} : { seriesKey: k.seriesKey }),
      })
      if (!img.ok) return img
      if (img.value.kind !== 'volume') {
        return err(
          'E_MULTIPLE_SERIES',
          `case ${k.id}: its input holds several series and the manifest names none`,
        )
      }
      const volume = img.value
      // The cohort's model names the labels (the report lists them), in the palette's colours.
      d.holdings.volume(volume.volumeId, s.key).styles = report.labels.map((l) => ({
        value: l.value,
        name: l.name,
        color: paletteColour(l.value),
      }))
      const mask = await maskOf(k)
      if (mask === undefined) {
        return ok({
          caseId: k.id,
          volume,
          warnings: [
            `case ${k.id} has no mask yet (the model's result is ${report.cases.find((r) => r.id === k.id)?.status ?? 'pending'})`,
          ],
        })
      }
      const labels = await d.openMask(s, volume.volumeId, c.dir, mask)
      if (!labels.ok) {
        return ok({
          caseId: k.id,
          volume,
          warnings: [`case ${k.id}: its mask was not opened: ${labels.error.message}`],
        })
      }
      return ok({ caseId: k.id, volume, labels: labels.value, warnings: [] })
    },

    saveCohortCase: async (s, req) => {
      const k = caseOf(req.caseId)
      const v = d.holdings.volume(req.volumeId, s.key)
      if (v.opened.caseId !== k.id) {
        return err(
          'E_ARGS',
          `refused to save ${v.name} as case ${k.id}: it is not that case's image`,
        )
      }
      const masks = await resolveUnder(c.dir, 'masks', 'masks folder')
      const saved = await d.saveMask(
        s,
        {
          volumeId: req.volumeId,
          labelsId: req.labelsId,
          name: `${k.id}_seg.nii.gz`,
          review: req.review,
        },
        { dir: masks, root: c.dir, from: 1 },
      )
      if (!saved.ok) return saved
      const next = updating.then(() => d.updateReport(c.dir))
      updating = next
      const r = await next
      if (r.ok) report = r.value
      const warnings = r.ok
        ? []
        : [`the review is saved, but the cohort report was not written again: ${r.error.message}`]
      return ok({ saved: saved.value, worklist: worklist(), warnings })
    },
  }
}

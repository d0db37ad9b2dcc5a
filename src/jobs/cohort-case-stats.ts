/**
 * The `cohort-stats` job (run in a short-lived worker: it parses images): for each finished case,
 * re-read its input and mask (and uncertainty map), compute the QC figures (`maskStats`), the
 * reader's warnings, and a PNG of one axial slice with the mask outline. One case failing to read
 * is reported for that case only.
 */
import type { CardLabel } from '../shared/model-card.js'
import { toAppError } from '../shared/errors.js'
import { maskStats, type MaskStats } from '../core/cohort/mask-stats.js'
import { sliceOverlay } from '../core/cohort/slice-overlay.js'
import { gridMismatch } from '../core/geometry/grid-match.js'
import { openVolume } from '../io/open-volume.js'
import { encodePngRgb } from '../io/png/encode-png.js'

export interface CohortStatsCase {
  readonly id: string
  readonly input: readonly string[]
  readonly seriesKey?: string
  /** Absolute mask path. */
  readonly mask: string
  readonly uncertainty?: string
}

export interface CohortStatsRequest {
  readonly kind: 'cohort-stats'
  readonly cases: readonly CohortStatsCase[]
  /** The card's labels, background first. */
  readonly labels: readonly CardLabel[]
}

export interface CohortStatsCaseValue {
  readonly id: string
  readonly ok: boolean
  readonly error?: { readonly code: string; readonly message: string; readonly file?: string }
  readonly readerWarnings?: readonly string[]
  readonly stats?: MaskStats
  /** PNG of the slice with the outline, base64. */
  readonly pngBase64?: string
}

export interface CohortStatsValue {
  readonly cases: readonly CohortStatsCaseValue[]
}

async function oneCase(
  c: CohortStatsCase,
  labels: readonly CardLabel[],
): Promise<CohortStatsCaseValue> {
  try {
    const img = await openVolume(
      c.input,
      c.seriesKey === undefined ? {} : { seriesKey: c.seriesKey },
    )
    const mask = await openVolume(c.mask)
    const g = img.volume
    const off = gridMismatch(g, mask.volume)
    if (off !== undefined) {
      return {
        id: c.id,
        ok: false,
        error: {
          code: 'E_VERIFY',
          message: `the mask is not on the input grid: ${off}`,
          file: c.mask,
        },
      }
    }
    let unc
    if (c.uncertainty !== undefined) {
      unc = await openVolume(c.uncertainty).catch(() => undefined)
      if (unc && gridMismatch(g, unc.volume) !== undefined) unc = undefined
    }
    const stats = maskStats({
      geometry: g,
      image: g.voxels,
      mask: mask.volume.voxels,
      ...(unc ? { uncertainty: unc.volume.voxels } : {}),
      labelValues: labels.slice(1).map((l) => l.value),
    })
    const png = encodePngRgb(
      sliceOverlay({
        geometry: g,
        image: g.voxels,
        mask: mask.volume.voxels,
        colors: new Map(labels.slice(1).map((l) => [l.value, l.color] as const)),
      }),
    )
    return {
      id: c.id,
      ok: true,
      readerWarnings: img.warnings,
      stats,
      pngBase64: png.toString('base64'),
    }
  } catch (e) {
    const err = toAppError(e, 'E_INTERNAL')
    return {
      id: c.id,
      ok: false,
      error: { code: err.code, message: err.message, ...(err.file ? { file: err.file } : {}) },
    }
  }
}

export async function runCohortStatsJob(req: CohortStatsRequest): Promise<CohortStatsValue> {
  const cases: CohortStatsCaseValue[] = []
  for (const c of req.cases) cases.push(await oneCase(c, req.labels))
  return { cases }
}

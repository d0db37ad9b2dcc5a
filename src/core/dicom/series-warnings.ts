/**
 * What the reader can tell about a series at scan time, before the user picks it from a list:
 * the warnings {@link checkStack} would give when it is opened, or why it cannot be opened
 * (gaps, duplicates, tilt, an unsupported pixel format), and whether its SeriesInstanceUID was
 * split into several stacks. Pure; works on parsed headers only.
 */
import { AppError } from '../../shared/errors.js'
import type { SeriesGroup } from './group-series.js'
import { checkMosaic, isMosaic } from './mosaic.js'
import { checkStack } from './stack-geometry.js'

/**
 * Warnings for `series`, one of `series` groups found (needed to tell a split UID). Never throws
 * for a bad series: its reason becomes a warning starting `cannot be opened:`.
 */
export function seriesWarnings(series: SeriesGroup, all: readonly SeriesGroup[]): string[] {
  const out: string[] = []
  const stacks = all.filter((s) => s.seriesInstanceUID === series.seriesInstanceUID).length
  // Volumes of a 4-D series share their UID by design; their description says "volume k of n".
  if (stacks > 1 && series.volume === undefined) {
    out.push(
      `its SeriesInstanceUID holds ${stacks} stacks (files differ in size, orientation, echo or time position); this is one of them`,
    )
  }
  try {
    const first = series.slices[0]
    // As the reader checks it: a mosaic is one file of many slices, not a single slice.
    out.push(...(first && isMosaic(first) ? checkMosaic(series) : checkStack(series)).warnings)
  } catch (e) {
    if (!(e instanceof AppError)) throw e
    out.push(`cannot be opened: ${e.message}`)
  }
  return out
}

/**
 * Robust z-scores within a cohort: `(x − median) / (1.4826 · MAD)`, so one bad case cannot hide
 * itself by inflating the spread (Iglewicz & Hoaglin's modified z-score uses 0.6745/MAD, the
 * same scale). Percentiles are the project's one definition (`src/shared/percentiles.ts`).
 */
import { percentileOf } from '../../shared/percentiles.js'

/** The scale that makes MAD estimate σ for normal data (1 / Φ⁻¹(3/4)). */
export const MAD_TO_SIGMA = 1.4826

/**
 * One z per value (NaN for a non-finite value). The scale is floored at 1 % of |median| (and
 * 1e-12): when most cases are (nearly) identical the MAD is ~0, and a difference of a rounding
 * error must not score as an infinite z. Fewer than 3 finite values: all NaN (no cohort).
 */
export function robustZ(values: readonly number[]): number[] {
  const finite = values.filter(Number.isFinite)
  if (finite.length < 3) return values.map(() => NaN)
  const med = percentileOf(finite, 50)
  const mad = percentileOf(
    finite.map((v) => Math.abs(v - med)),
    50,
  )
  const s = Math.max(MAD_TO_SIGMA * mad, 0.01 * Math.abs(med), 1e-12)
  return values.map((v) => (Number.isFinite(v) ? (v - med) / s : NaN))
}

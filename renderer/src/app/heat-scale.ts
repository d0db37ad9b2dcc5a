/**
 * The uncertainty heatmap's colour scale: one definition for the slice views that paint it and
 * the legend that explains it.
 */

/** Heat colour (black-body-like, sRGB 0–255) of `t` in [0, 1]. */
export function heat(t: number): [number, number, number] {
  return [
    Math.min(255, 255 * 3 * t),
    Math.max(0, Math.min(255, 255 * (3 * t - 1))),
    Math.max(0, 255 * (3 * t - 2)),
  ]
}

/** Below this fraction of the maximum the heatmap leaves the image uncoloured. */
export const HEAT_FLOOR = 0.02

/** A CSS gradient of the scale from {@link HEAT_FLOOR} to 1, left to right. */
export function heatGradientCss(stops = 8): string {
  const parts: string[] = []
  for (let s = 0; s <= stops; s++) {
    const t = HEAT_FLOOR + ((1 - HEAT_FLOOR) * s) / stops
    const [r, g, b] = heat(t).map((c) => Math.round(c))
    parts.push(`rgb(${r}, ${g}, ${b}) ${((100 * s) / stops).toFixed(1)}%`)
  }
  return `linear-gradient(to right, ${parts.join(', ')})`
}

/** What the heatmap's values are, in words, for the legend. */
export function heatKindText(kind: 'entropy' | 'tta-variance'): string {
  return kind === 'entropy'
    ? 'normalised entropy of the model output (0 = certain, 1 = undecided)'
    : 'variance of the probabilities over the TTA mirrors'
}

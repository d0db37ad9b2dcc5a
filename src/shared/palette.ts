/**
 * The one palette of labels nothing names (a card, a review, the user): the first eight of Sasha
 * Trubetskoy's distinct colours, repeating. The service's label statistics, the viewer's new labels
 * and the exports all colour label `value` alike. (The model importers keep their own 20-colour
 * table: a pack's colours are fixed when it is imported.)
 */

/** sRGB 0–255. */
export type Rgb = readonly [number, number, number]

export const LABEL_PALETTE: readonly Rgb[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
]

/** The palette colour of label `value` (1, 2, …; the palette repeats past its end). */
export function paletteColour(value: number): Rgb {
  return LABEL_PALETTE[(value - 1) % LABEL_PALETTE.length]!
}

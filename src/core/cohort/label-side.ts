/**
 * Which patient side a label is meant to lie on: the card's `side`, else its name (`left`/`right`
 * as a word, `_l`/`_r`/`-l`/`-r` suffixes, `l_`/`r_` prefixes, as in TotalSegmentator's
 * `kidney_left` or FreeSurfer's `Left-Hippocampus`).
 */
import type { CardLabel } from '../../shared/model-card.js'

export function labelSide(l: Pick<CardLabel, 'name' | 'side'>): 'left' | 'right' | undefined {
  if (l.side !== undefined) return l.side
  const n = l.name.toLowerCase()
  const left = /(^|[^a-z])left([^a-z]|$)|[_\s-]l$|^l[_\s-]/.test(n)
  const right = /(^|[^a-z])right([^a-z]|$)|[_\s-]r$|^r[_\s-]/.test(n)
  return left === right ? undefined : left ? 'left' : 'right'
}

/**
 * Whether a lateralised label lies on its side: in LPS, +x is the patient's Left, so a left
 * structure's centroid has a larger x than the body's centroid. `undefined` when the label is not
 * lateralised or the offset is within `marginMm` (too close to the midline to tell).
 */
export function onCorrectSide(
  side: 'left' | 'right' | undefined,
  labelCentroidXLPS: number,
  bodyCentroidXLPS: number,
  marginMm = 1,
): boolean | undefined {
  if (side === undefined) return undefined
  const dx = labelCentroidXLPS - bodyCentroidXLPS
  if (Math.abs(dx) <= marginMm) return undefined
  return side === 'left' ? dx > 0 : dx < 0
}

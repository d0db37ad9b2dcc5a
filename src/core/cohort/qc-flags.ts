/**
 * Cohort QC flags per case, from each case's mask statistics and the model card:
 * - `failed`: the case has no mask.
 * - `empty-mask`: no foreground voxel at all; `empty-label`: one label has none.
 * - `volume-outlier`: a label's volume has |robust z| > 3.5 within the cohort (Iglewicz &
 *   Hoaglin's cut-off for the modified z-score).
 * - `volume-range`: a label's volume is outside the card's `plausibleVolumeMl`.
 * - `outside-body`: a label's centroid is not inside the body (a mask in the air or the table).
 * - `wrong-side`: a lateralised label's centroid lies on the other side of the body's centroid
 *   along LPS x (+x = patient Left): the image was flipped left-right in storage while its header
 *   says otherwise, or the labels were swapped.
 * - `geometry`: the reader warned about the input's geometry (qform/sform, spacing, tilt…).
 * - `uncertain`: mean entropy inside the mask has robust z > 3.5 within the cohort.
 */
import type { Vec3 } from '../../shared/geometry.js'
import type { CardLabel } from '../../shared/model-card.js'
import { labelSide, onCorrectSide } from './label-side.js'
import type { LabelStats } from './mask-stats.js'
import { robustZ } from './robust-z.js'

export const OUTLIER_Z = 3.5

export type QcCode =
  | 'failed'
  | 'empty-mask'
  | 'empty-label'
  | 'volume-outlier'
  | 'volume-range'
  | 'outside-body'
  | 'wrong-side'
  | 'geometry'
  | 'uncertain'

export interface QcFlag {
  readonly code: QcCode
  /** Label name, when the flag is about one label. */
  readonly label?: string
  readonly message: string
}

export interface QcCase {
  readonly ok: boolean
  /** Per foreground label of the card, in card order. */
  readonly labels?: readonly LabelStats[]
  readonly bodyCentroidLPS?: Vec3
  readonly readerWarnings?: readonly string[]
  readonly meanUncertainty?: number
}

/** How bad a flag is, for ordering a worklist (worst first). */
export const QC_WEIGHT: Readonly<Record<QcCode, number>> = {
  failed: 100,
  'wrong-side': 50,
  'empty-mask': 40,
  'outside-body': 30,
  'volume-range': 20,
  'volume-outlier': 15,
  'empty-label': 10,
  uncertain: 8,
  geometry: 5,
}

/** The flags of every case (same order as `cases`); `fgLabels` are the card's labels but the background. */
export function qcFlags(
  cases: readonly QcCase[],
  fgLabels: readonly CardLabel[],
): { flags: QcFlag[][]; volumeZ: number[][]; uncertaintyZ: number[] } {
  const volumeZ = fgLabels.map((_, s) =>
    robustZ(cases.map((c) => (c.ok ? (c.labels?.[s]?.volumeMl ?? NaN) : NaN))),
  )
  const uncertaintyZ = robustZ(cases.map((c) => (c.ok ? (c.meanUncertainty ?? NaN) : NaN)))
  const flags = cases.map((c, ci) => {
    const f: QcFlag[] = []
    if (!c.ok) return [{ code: 'failed' as const, message: 'no mask (the case failed)' }]
    const labels = c.labels ?? []
    if (labels.every((l) => l.voxels === 0)) {
      f.push({ code: 'empty-mask', message: 'the mask has no foreground voxel' })
    }
    fgLabels.forEach((card, s) => {
      const l = labels[s]
      if (l === undefined) return
      const name = card.name
      if (l.voxels === 0) {
        if (fgLabels.length > 1) {
          f.push({ code: 'empty-label', label: name, message: `${name} is empty` })
        }
        return
      }
      const z = volumeZ[s]?.[ci] ?? NaN
      if (Math.abs(z) > OUTLIER_Z) {
        f.push({
          code: 'volume-outlier',
          label: name,
          message: `${name} ${l.volumeMl.toFixed(1)} mL, robust z ${Number.isFinite(z) ? z.toFixed(1) : z > 0 ? '+∞' : '−∞'}`,
        })
      }
      const range = card.plausibleVolumeMl
      if (range && (l.volumeMl < range[0] || l.volumeMl > range[1])) {
        f.push({
          code: 'volume-range',
          label: name,
          message: `${name} ${l.volumeMl.toFixed(1)} mL outside the card's ${range[0]}–${range[1]} mL`,
        })
      }
      if (l.centroidInBody === false) {
        f.push({
          code: 'outside-body',
          label: name,
          message: `${name}'s centroid is outside the body`,
        })
      }
      const side = labelSide(card)
      if (l.centroidLPS && c.bodyCentroidLPS) {
        const ok = onCorrectSide(side, l.centroidLPS[0], c.bodyCentroidLPS[0])
        if (ok === false) {
          const dx = l.centroidLPS[0] - c.bodyCentroidLPS[0]
          f.push({
            code: 'wrong-side',
            label: name,
            message: `${name} lies on the patient's ${dx > 0 ? 'left' : 'right'} (LPS x ${dx.toFixed(1)} mm from the body's centre): left-right flip?`,
          })
        }
      }
    })
    for (const w of c.readerWarnings ?? []) f.push({ code: 'geometry', message: w })
    const uz = uncertaintyZ[ci] ?? NaN
    if (uz > OUTLIER_Z) {
      f.push({
        code: 'uncertain',
        message: `mean entropy in the mask ${(c.meanUncertainty ?? NaN).toFixed(3)}, robust z ${Number.isFinite(uz) ? uz.toFixed(1) : '+∞'}`,
      })
    }
    return f
  })
  return { flags, volumeZ, uncertaintyZ }
}

/** Worklist order score: the sum of the flags' weights. */
export function qcScore(flags: readonly QcFlag[]): number {
  return flags.reduce((s, f) => s + QC_WEIGHT[f.code], 0)
}

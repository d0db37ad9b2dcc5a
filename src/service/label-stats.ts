/**
 * Per-label voxel counts and volumes (mL) of a label map, and model summaries from cards.
 */
import type { LabelStat, ModelId, ModelSummary } from '../shared/api.js'
import type { Vec3 } from '../shared/geometry.js'
import type { ModelListEntry } from '../shared/jobs.js'
import { paletteColour } from '../shared/palette.js'

/** A label's display name and colour (from a model card). */
export interface LabelStyle {
  readonly value: number
  readonly name: string
  readonly color: readonly [number, number, number]
}

/** Millilitres per voxel of a grid with `spacingMm`. */
export function voxelMl(spacingMm: Vec3): number {
  return (spacingMm[0] * spacingMm[1] * spacingMm[2]) / 1000
}

/** Name and colour of `value`: from `styles` when listed, else `label N` and a palette colour. */
function styleOf(value: number, styles: readonly LabelStyle[]): LabelStyle {
  const s = styles.find((x) => x.value === value)
  if (s) return s
  if (value === 0) return { value, name: 'background', color: [0, 0, 0] }
  return { value, name: `label ${value}`, color: paletteColour(value) }
}

/**
 * Counts each label value of `bytes` (uint8 or uint16, little-endian) and returns one stat per
 * value present, background included, sorted by value. One pass, O(voxels).
 */
export function countLabels(
  bytes: Uint8Array,
  dataType: 'uint8' | 'uint16',
  spacingMm: Vec3,
  styles: readonly LabelStyle[],
): LabelStat[] {
  const hist = new Float64Array(dataType === 'uint8' ? 256 : 65536)
  if (dataType === 'uint8') {
    for (let i = 0; i < bytes.length; i++) hist[bytes[i]!]!++
  } else {
    for (let i = 0; i + 1 < bytes.length; i += 2) hist[bytes[i]! | (bytes[i + 1]! << 8)]!++
  }
  const ml = voxelMl(spacingMm)
  const out: LabelStat[] = []
  hist.forEach((voxels, value) => {
    if (voxels === 0) return
    const s = styleOf(value, styles)
    out.push({ value, name: s.name, voxels, volumeMl: voxels * ml, color: s.color })
  })
  return out
}

/** Stats of a model result from the card's labels and the worker's per-label counts. */
export function modelLabelStats(
  styles: readonly LabelStyle[],
  counts: readonly number[],
  spacingMm: Vec3,
): LabelStat[] {
  const ml = voxelMl(spacingMm)
  return styles.map((l, k) => {
    const voxels = counts[k] ?? 0
    return { value: l.value, name: l.name, voxels, volumeMl: voxels * ml, color: l.color }
  })
}

/** What the UI shows of an installed pack. */
export function modelSummary(p: ModelListEntry): ModelSummary {
  const c = p.card
  return {
    id: c.id as ModelId,
    name: c.name,
    version: c.version,
    modality: c.modality,
    description: c.description,
    intendedUse: c.intendedUse,
    licence: c.licence,
    labels: c.labels.map((l) => ({ value: l.value, name: l.name, color: l.color })),
    patchSize: c.patchSize,
    spacingMm: c.spacingMm,
  }
}

/**
 * Island operations on a labelling: remove small components, keep the largest, split a label
 * into components. Linear time (one component pass, plus writing the changed voxels).
 * Sizes are in mm³ = voxel count × Π spacingMm.
 */
import type { LabelVolume } from './label-volume.js'
import { voxelVolumeMm3 } from './label-volume.js'
import { IndexList, writeIndexed, type LabelDelta } from './label-delta.js'
import { forEachComponent, type Connectivity } from './connected-components.js'

/** Options shared by the island operations. */
export interface IslandOptions {
  /** Neighbourhood; default 26. */
  readonly connectivity?: Connectivity
  /** Only this label; absent: every non-zero label, each on its own. */
  readonly label?: number
}

/** Result of an island operation. */
export interface IslandResult {
  readonly delta: LabelDelta
  /** Components set to 0 (remove/keep-largest) or given a new value (split). */
  readonly componentsChanged: number
}

/** Sets to 0 every component smaller than `minMm3` (mm³), in place. */
export function removeSmallIslands(
  vol: LabelVolume,
  minMm3: number,
  o: IslandOptions = {},
): IslandResult {
  const vv = voxelVolumeMm3(vol.geometry)
  const out = new IndexList()
  let changed = 0
  forEachComponent(
    vol,
    o.connectivity ?? 26,
    (_L, vox, count) => {
      if (count * vv >= minMm3) return
      changed++
      for (let x = 0; x < count; x++) out.push(vox[x]!)
    },
    o.label,
  )
  return { delta: writeIndexed(vol, out.data, out.length, 0), componentsChanged: changed }
}

/** Keeps only the largest component of each label (ties: the first in memory), in place. */
export function keepLargestIsland(vol: LabelVolume, o: IslandOptions = {}): IslandResult {
  const conn = o.connectivity ?? 26
  const best = new Map<number, { size: number; seed: number }>()
  forEachComponent(
    vol,
    conn,
    (L, vox, count) => {
      const b = best.get(L)
      if (!b || count > b.size) best.set(L, { size: count, seed: vox[0]! })
    },
    o.label,
  )
  const out = new IndexList()
  let changed = 0
  forEachComponent(
    vol,
    conn,
    (L, vox, count) => {
      if (best.get(L)!.seed === vox[0]) return
      changed++
      for (let x = 0; x < count; x++) out.push(vox[x]!)
    },
    o.label,
  )
  return { delta: writeIndexed(vol, out.data, out.length, 0), componentsChanged: changed }
}

/**
 * Splits `label` into its components: the largest keeps `label`, the others (by decreasing size,
 * ties in memory order) get the values of `freeValues` in order. Throws when there are fewer free
 * values than extra components (nothing is changed then). Result `assigned`: the values used.
 */
export function splitIslands(
  vol: LabelVolume,
  label: number,
  freeValues: readonly number[],
  o: { readonly connectivity?: Connectivity } = {},
): IslandResult & { readonly assigned: readonly number[] } {
  const comps: { size: number; voxels: Int32Array }[] = []
  forEachComponent(
    vol,
    o.connectivity ?? 26,
    (_L, vox, count) => comps.push({ size: count, voxels: vox.slice(0, count) }),
    label,
  )
  if (comps.length - 1 > freeValues.length) {
    throw new RangeError(
      `label ${label} has ${comps.length} components, only ${freeValues.length} free values`,
    )
  }
  const order = comps.map((_, x) => x).sort((a, b) => comps[b]!.size - comps[a]!.size || a - b)
  const out = new IndexList()
  const values = new IndexList()
  order.slice(1).forEach((c, x) => {
    for (const n of comps[c]!.voxels) {
      out.push(n)
      values.push(freeValues[x]!)
    }
  })
  let p = 0
  const delta = writeIndexed(vol, out.data, out.length, () => values.data[p++]!)
  return {
    delta,
    componentsChanged: order.length - 1,
    assigned: freeValues.slice(0, Math.max(0, order.length - 1)),
  }
}

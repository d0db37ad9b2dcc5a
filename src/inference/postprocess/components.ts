/**
 * 26-connected components of one label in a mask, and the card's post-processing rules built on
 * them (keep the largest component, remove small islands).
 *
 * Method: the label's voxels are read as runs along x; each run is unioned with the touching runs
 * of the four already-seen neighbour rows (y−1 in this slice; y−1, y, y+1 in the previous one),
 * which is exactly 26-connectivity once runs are widened by one voxel in x (6-connectivity, used
 * for hole filling, needs only rows y−1 and z−1 and no widening). Union-find over runs
 * (not voxels) keeps memory proportional to the number of runs, and the only per-voxel work is one
 * scan of the mask plus filling the output. O(n + runs·α). Pure: runs in Node and browsers.
 */
import { AppError } from '../../shared/errors.js'
import type { PostprocessRule } from '../../shared/model-card.js'

/** Label masks as the engine writes them. */
export type LabelMask = Uint8Array | Uint16Array

export interface Components {
  /**
   * Component id per voxel (same order as the mask): 0 where the mask is not `value`, else 1…count,
   * numbered in order of each component's first voxel (lowest flat index first).
   */
  readonly ids: Int32Array
  /** Voxels per id (`sizes[0]` counts the voxels that are not `value`); length `count + 1`. */
  readonly sizes: number[]
  /** Number of components. */
  readonly count: number
}

export interface PostprocessResult {
  /** Voxels set to the background, per rule label (0 for a rule that removed nothing). */
  readonly removedVoxels: Record<number, number>
}

/** Runs of one value along x, row by row (row `r = y + ny·z`), with their component ids. */
export interface Runs {
  /** Runs of row r are `rowStart[r] … rowStart[r + 1] − 1`. */
  readonly rowStart: Int32Array
  /** First x of each run. */
  readonly start: Int32Array
  /** One past the last x of each run. */
  readonly end: Int32Array
  /** Component id (1-based, ordered by first voxel) of each run. */
  readonly comp: Int32Array
  /** Voxels per component id; index 0 unused (0). */
  readonly sizes: Float64Array
  readonly count: number
}

/**
 * Labels the 26-connected components of the voxels equal to `value` in `mask` (size `sizeXYZ` in
 * voxels, first axis fastest). See {@link Components} for the numbering.
 */
export function labelComponents(
  mask: LabelMask,
  sizeXYZ: readonly [number, number, number],
  value: number,
): Components {
  checkSize(mask, sizeXYZ)
  const nx = sizeXYZ[0]
  const runs = labelRuns(mask, sizeXYZ, value, 26)
  const ids = new Int32Array(mask.length)
  const nRows = runs.rowStart.length - 1
  for (let r = 0; r < nRows; r++) {
    const base = r * nx
    for (let k = runs.rowStart[r]!; k < runs.rowStart[r + 1]!; k++) {
      ids.fill(runs.comp[k]!, base + runs.start[k]!, base + runs.end[k]!)
    }
  }
  const sizes = Array.from(runs.sizes)
  let labelled = 0
  for (let c = 1; c <= runs.count; c++) labelled += sizes[c]!
  sizes[0] = mask.length - labelled
  return { ids, sizes, count: runs.count }
}

/**
 * Applies the card's post-processing `rules`, in order, to `mask` in place; removed voxels become
 * `background`. Per rule, a component of `rule.label` is kept only if it passes every test the
 * rule sets: `largestComponent` (it is the largest; on a tie, the one whose first voxel has the
 * lowest flat index) and `minIslandMm3` (its volume, voxels × the product of `spacingMm` in mm,
 * is at least that many mm³). A rule for the background label changes nothing.
 *
 * `sizeXYZ` in voxels (first axis fastest), `spacingMm` in mm in the same axis order.
 */
export function applyPostprocess(
  mask: LabelMask,
  sizeXYZ: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  rules: readonly PostprocessRule[],
  background = 0,
): PostprocessResult {
  checkSize(mask, sizeXYZ)
  if (!spacingMm.every((s) => Number.isFinite(s) && s > 0)) {
    throw new AppError('E_ARGS', `voxel spacing ${spacingMm.join(' × ')} mm must be positive`)
  }
  const maxValue = mask instanceof Uint8Array ? 0xff : 0xffff
  const checkValue = (v: number, what: string): void => {
    if (!Number.isInteger(v) || v < 0 || v > maxValue) {
      throw new AppError('E_ARGS', `${what} ${v} does not fit this mask (0–${maxValue})`)
    }
  }
  checkValue(background, 'background value')
  const voxelMm3 = spacingMm[0] * spacingMm[1] * spacingMm[2]
  const nx = sizeXYZ[0]
  const removedVoxels: Record<number, number> = {}
  for (const rule of rules) {
    checkValue(rule.label, 'post-processing label')
    const minMm3 = rule.minIslandMm3
    if (minMm3 !== undefined && !(minMm3 >= 0 && Number.isFinite(minMm3))) {
      throw new AppError('E_ARGS', `minIslandMm3 ${minMm3} for label ${rule.label} must be ≥ 0`)
    }
    removedVoxels[rule.label] ??= 0
    const largest = rule.largestComponent === true
    if (rule.label === background || (!largest && minMm3 === undefined)) continue
    const runs = labelRuns(mask, sizeXYZ, rule.label, 26)
    if (runs.count === 0) continue
    // Largest first, ties to the lowest id: ids follow the first voxel's flat index.
    let best = 1
    for (let c = 2; c <= runs.count; c++) if (runs.sizes[c]! > runs.sizes[best]!) best = c
    const keep = new Uint8Array(runs.count + 1)
    for (let c = 1; c <= runs.count; c++) {
      const bigEnough = minMm3 === undefined || runs.sizes[c]! * voxelMm3 >= minMm3
      keep[c] = (!largest || c === best) && bigEnough ? 1 : 0
    }
    let removed = 0
    const nRows = runs.rowStart.length - 1
    for (let r = 0; r < nRows; r++) {
      const base = r * nx
      for (let k = runs.rowStart[r]!; k < runs.rowStart[r + 1]!; k++) {
        if (keep[runs.comp[k]!] === 1) continue
        mask.fill(background, base + runs.start[k]!, base + runs.end[k]!)
        removed += runs.end[k]! - runs.start[k]!
      }
    }
    removedVoxels[rule.label] = (removedVoxels[rule.label] ?? 0) + removed
  }
  return { removedVoxels }
}

function checkSize(mask: LabelMask, sizeXYZ: readonly [number, number, number]): void {
  if (!sizeXYZ.every((s) => Number.isSafeInteger(s) && s >= 1)) {
    throw new AppError('E_ARGS', `bad mask size ${sizeXYZ.join('×')}`)
  }
  const n = sizeXYZ[0] * sizeXYZ[1] * sizeXYZ[2]
  if (n !== mask.length) {
    throw new AppError(
      'E_ARGS',
      `mask size ${sizeXYZ.join('×')} does not match ${mask.length} voxels`,
    )
  }
  // Flat indices and run bookkeeping are Int32.
  if (n > 0x7fffffff) throw new AppError('E_TOO_LARGE', `mask of ${n} voxels is too large`)
}

/**
 * Finds the runs of `value` in `values` (size `sizeXYZ` in voxels, first axis fastest; not
 * checked here) and numbers their `connectivity`-connected components: 26 (faces, edges and
 * corners) or 6 (faces only). Shared with the hole filling of intensity normalisation.
 */
export function labelRuns(
  values: ArrayLike<number>,
  sizeXYZ: readonly [number, number, number],
  value: number,
  connectivity: 6 | 26,
): Runs {
  const [nx, ny, nz] = sizeXYZ
  const nRows = ny * nz
  // Pass 1 counts runs per row, so the run arrays are allocated once at their exact size
  // (growing them costs more than this scan on large, fragmented masks) and empty rows are skipped.
  const rowStart = new Int32Array(nRows + 1)
  let nRuns = 0
  for (let r = 0; r < nRows; r++) {
    rowStart[r] = nRuns
    const base = r * nx
    let prev = false
    for (let x = 0; x < nx; x++) {
      const hit = values[base + x] === value
      if (hit && !prev) nRuns++
      prev = hit
    }
  }
  rowStart[nRows] = nRuns
  const start = new Int32Array(nRuns)
  const end = new Int32Array(nRuns)
  const parent = new Int32Array(nRuns)
  let k = 0
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const r = y + ny * z
      const a0 = rowStart[r]!
      const a1 = rowStart[r + 1]!
      if (a0 === a1) continue
      const base = r * nx
      let x = 0
      while (k < a1) {
        while (values[base + x] !== value) x++
        start[k] = x
        while (x < nx && values[base + x] === value) x++
        end[k] = x
        parent[k] = k
        k++
      }
      // Neighbour rows, all earlier in scan order. 26: (y−1, z), (y−1, z−1), (y, z−1),
      // (y+1, z−1), runs touching diagonally in x too; 6: (y−1, z) and (y, z−1), overlap only.
      if (connectivity === 6) {
        if (y > 0) mergeRows(start, end, parent, a0, a1, rowStart[r - 1]!, a0, 0)
        const q = r - ny
        if (z > 0) mergeRows(start, end, parent, a0, a1, rowStart[q]!, rowStart[q + 1]!, 0)
        continue
      }
      if (y > 0) mergeRows(start, end, parent, a0, a1, rowStart[r - 1]!, a0, 1)
      if (z > 0) {
        const p = r - ny
        if (y > 0) mergeRows(start, end, parent, a0, a1, rowStart[p - 1]!, rowStart[p]!, 1)
        mergeRows(start, end, parent, a0, a1, rowStart[p]!, rowStart[p + 1]!, 1)
        if (y < ny - 1) mergeRows(start, end, parent, a0, a1, rowStart[p + 1]!, rowStart[p + 2]!, 1)
      }
    }
  }

  // Roots have the lowest index of their tree, so a root is met before its members: one pass
  // numbers components in order of first voxel.
  const comp = new Int32Array(nRuns)
  let count = 0
  for (let i = 0; i < nRuns; i++) {
    const root = find(parent, i)
    comp[i] = root === i ? ++count : comp[root]!
  }
  const sizes = new Float64Array(count + 1)
  for (let i = 0; i < nRuns; i++) sizes[comp[i]!]! += end[i]! - start[i]!
  return { rowStart, start, end, comp, sizes, count }
}

/**
 * Unions the runs of the current row `[a0, a1)` with those of a neighbour row `[b0, b1)` that
 * overlap them in x once widened by `slack` voxels (1: diagonal contact counts; 0: shared x only).
 * Two-pointer merge.
 */
function mergeRows(
  start: Int32Array,
  end: Int32Array,
  parent: Int32Array,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  slack: number,
): void {
  let i = a0
  let j = b0
  while (i < a1 && j < b1) {
    const ae = end[i]!
    const be = end[j]!
    if (start[j]! < ae + slack && start[i]! < be + slack) {
      // Link to the lower index, so each root is its component's first run in scan order.
      const ri = find(parent, i)
      const rj = find(parent, j)
      if (ri < rj) parent[rj] = ri
      else if (rj < ri) parent[ri] = rj
    }
    // The run that ends first cannot touch anything further right in the other row.
    if (ae < be) i++
    else j++
  }
}

/** Union-find root of `i`, with path halving (iterative; keeps the trees flat). */
function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    const g = parent[parent[i]!]!
    parent[i] = g
    i = g
  }
  return i
}

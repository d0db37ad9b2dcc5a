/**
 * Reorientation between a volume's stored voxel grid and the model's tensor grid, by axis
 * permutation and flips only (exact: no interpolation, every voxel keeps its value). Oblique
 * volumes go to the closest axis-aligned arrangement, as nibabel's `io_orientation` does; the
 * obliquity stays in the geometry and the mask is written back on the exact source grid.
 */
import { AppError } from '../../shared/errors.js'
import type { Vec3, VolumeGeometry } from '../../shared/geometry.js'
import type { AxisOrder } from '../../shared/model-card.js'

/** For each tensor dim D, H, W: the source voxel axis (0 = i, 1 = j, 2 = k) and whether it runs backwards. */
export interface TensorAxisPlan {
  readonly sourceAxis: readonly [number, number, number]
  readonly flip: readonly [boolean, boolean, boolean]
  /** Tensor grid size [D, H, W]. */
  readonly shape: readonly [number, number, number]
  /** Voxel size along D, H, W in mm. */
  readonly spacingMm: readonly [number, number, number]
  /** Orientation codes (nibabel letters) of the source axes i, j, k, for reports. */
  readonly sourceCodes: string
}

// nibabel letters → (LPS axis, sign of the LPS component when the index increases that way).
const LETTER: Readonly<Record<string, readonly [number, 1 | -1]>> = {
  L: [0, 1],
  R: [0, -1],
  P: [1, 1],
  A: [1, -1],
  S: [2, 1],
  I: [2, -1],
}

/**
 * Assigns each source voxel axis to its closest LPS axis (greedy on the largest |cosine|, so an
 * oblique grid still gets a one-to-one assignment), returning [lpsAxis, sign] per source axis.
 */
export function closestLpsAxes(directionLPS: VolumeGeometry['directionLPS']): [number, 1 | -1][] {
  const out: [number, 1 | -1][] = [
    [-1, 1],
    [-1, 1],
    [-1, 1],
  ]
  const usedRow = [false, false, false]
  const usedCol = [false, false, false]
  for (let n = 0; n < 3; n++) {
    let best = -1
    let br = 0
    let bc = 0
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        if (usedRow[r] || usedCol[c]) continue
        const v = Math.abs(directionLPS[r * 3 + c] as number)
        if (v > best) {
          best = v
          br = r
          bc = c
        }
      }
    }
    usedRow[br] = true
    usedCol[bc] = true
    out[bc] = [br, (directionLPS[br * 3 + bc] as number) >= 0 ? 1 : -1]
  }
  return out
}

function codesOf(axes: readonly [number, 1 | -1][]): string {
  const names = [
    ['L', 'R'],
    ['P', 'A'],
    ['S', 'I'],
  ] as const
  return axes.map(([a, s]) => (names[a] as readonly [string, string])[s > 0 ? 0 : 1]).join('')
}

/**
 * Plans how the source grid maps onto the model tensor: `orientation` (nibabel codes or
 * `'as-stored'`) fixes where the reoriented i′, j′, k′ point; `axisOrder` says which of them
 * are D, H, W.
 */
export function planTensorAxes(
  geometry: VolumeGeometry,
  orientation: string,
  axisOrder: AxisOrder,
): TensorAxisPlan {
  const src = closestLpsAxes(geometry.directionLPS)
  // reoriented axis a′ (0..2) → [source axis, flip]
  const reoriented: [number, boolean][] = []
  if (orientation === 'as-stored') {
    for (let a = 0; a < 3; a++) reoriented.push([a, false])
  } else {
    for (const letter of orientation) {
      const want = LETTER[letter]
      if (!want) throw new AppError('E_MODEL', `orientation "${orientation}" is not nibabel codes`)
      const s = src.findIndex(([axis]) => axis === want[0])
      if (s < 0) throw new AppError('E_INTERNAL', 'closestLpsAxes did not cover every axis')
      reoriented.push([s, (src[s] as [number, 1 | -1])[1] !== want[1]])
    }
  }
  const sourceAxis = [0, 0, 0] as [number, number, number]
  const flip = [false, false, false] as [boolean, boolean, boolean]
  for (let t = 0; t < 3; t++) {
    const letter = axisOrder[t] as 'i' | 'j' | 'k'
    const r = reoriented['ijk'.indexOf(letter)] as [number, boolean]
    sourceAxis[t] = r[0]
    flip[t] = r[1]
  }
  const at = (v: Vec3, t: number): number => v[sourceAxis[t] as number] as number
  return {
    sourceAxis,
    flip,
    shape: [0, 1, 2].map((t) => at(geometry.sizeIJK, t)) as [number, number, number],
    spacingMm: [0, 1, 2].map((t) => at(geometry.spacingMm, t)) as [number, number, number],
    sourceCodes: codesOf(src),
  }
}

/** Start offset and signed strides into the source array for tensor dims D, H, W. */
function strides(plan: TensorAxisPlan, sizeIJK: Vec3): { base: number; step: number[] } {
  const srcStride = [1, sizeIJK[0], sizeIJK[0] * sizeIJK[1]]
  let base = 0
  const step: number[] = []
  for (let t = 0; t < 3; t++) {
    const a = plan.sourceAxis[t] as number
    const s = srcStride[a] as number
    if (plan.flip[t]) {
      base += ((sizeIJK[a] as number) - 1) * s
      step.push(-s)
    } else step.push(s)
  }
  return { base, step }
}

/** Copies source voxels (i fastest) into a float32 tensor grid [D, H, W] (W fastest). */
export function toTensorGrid(
  voxels: ArrayLike<number>,
  sizeIJK: Vec3,
  plan: TensorAxisPlan,
): Float32Array {
  const [nd, nh, nw] = plan.shape
  const out = new Float32Array(nd * nh * nw)
  const { base, step } = strides(plan, sizeIJK)
  const [sd, sh, sw] = step as [number, number, number]
  let o = 0
  for (let d = 0; d < nd; d++) {
    for (let h = 0; h < nh; h++) {
      let s = base + d * sd + h * sh
      for (let w = 0; w < nw; w++, s += sw) out[o++] = voxels[s] as number
    }
  }
  return out
}

/** Inverse of {@link toTensorGrid}: scatters a tensor grid back into source order. */
export function fromTensorGrid<T extends Uint8Array | Uint16Array | Float32Array>(
  tensor: ArrayLike<number>,
  sizeIJK: Vec3,
  plan: TensorAxisPlan,
  out: T,
): T {
  const [nd, nh, nw] = plan.shape
  const { base, step } = strides(plan, sizeIJK)
  const [sd, sh, sw] = step as [number, number, number]
  let o = 0
  for (let d = 0; d < nd; d++) {
    for (let h = 0; h < nh; h++) {
      let s = base + d * sd + h * sh
      for (let w = 0; w < nw; w++, s += sw) out[s] = tensor[o++] as number
    }
  }
  return out
}

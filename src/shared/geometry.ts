/**
 * Geometry types. Frames and units are in the names:
 * - `LPS`: patient frame, +x towards patient Left, +y Posterior, +z Superior (DICOM, ITK).
 * - `RAS`: +x Right, +y Anterior, +z Superior (NIfTI, nibabel).
 * - `Mm`: millimetres.
 */

export type Vec3 = readonly [number, number, number]

/**
 * A 3×3 matrix stored row-major: element (row r, column c) is at index `r * 3 + c`.
 * For `directionLPS`, column c is the LPS unit vector of voxel axis c (i, j, k), as in ITK.
 */
export type Mat3 = readonly [number, number, number, number, number, number, number, number, number]

/** A 4×4 matrix stored row-major (index `r * 4 + c`), last row `0 0 0 1`. */
export type Mat4 = readonly number[]

/**
 * Where the voxel grid sits in the patient. The LPS position of voxel index (i, j, k) is
 * `originLPS + directionLPS · diag(spacingMm) · [i, j, k]ᵀ`. `originLPS` is the centre of voxel
 * (0, 0, 0).
 */
export interface VolumeGeometry {
  /** Number of voxels along i (fastest in memory), j and k. */
  readonly sizeIJK: Vec3
  /** Voxel size along i, j, k in millimetres (all > 0). */
  readonly spacingMm: Vec3
  /** Centre of voxel (0, 0, 0), in LPS millimetres. */
  readonly originLPS: Vec3
  /** Row-major 3×3; columns are unit LPS direction vectors of the i, j, k axes. */
  readonly directionLPS: Mat3
}

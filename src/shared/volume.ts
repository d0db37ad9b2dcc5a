import type { VolumeGeometry } from './geometry.js'

/** Voxel component types we keep in memory (64-bit integers are refused at read time). */
export type PixelType =
  'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64'

export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array

/**
 * A scalar 3-D image: a voxel buffer plus its geometry. Voxels are stored with i fastest, then j,
 * then k (`index = i + sizeI * (j + sizeJ * k)`), as real-world values (any rescale applied).
 */
export interface Volume extends VolumeGeometry {
  readonly pixelType: PixelType
  readonly voxels: VoxelArray
}

export const BYTES_PER_PIXEL: Readonly<Record<PixelType, number>> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  float64: 8,
}

/** Allocates a zeroed voxel array of the given type. */
export function allocateVoxels(pixelType: PixelType, count: number): VoxelArray {
  switch (pixelType) {
    case 'uint8':
      return new Uint8Array(count)
    case 'int8':
      return new Int8Array(count)
    case 'uint16':
      return new Uint16Array(count)
    case 'int16':
      return new Int16Array(count)
    case 'uint32':
      return new Uint32Array(count)
    case 'int32':
      return new Int32Array(count)
    case 'float32':
      return new Float32Array(count)
    case 'float64':
      return new Float64Array(count)
  }
}

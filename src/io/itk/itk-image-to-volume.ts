import type { Image } from 'itk-wasm'
import { AppError } from '../../shared/errors.js'
import type { Mat3, Vec3 } from '../../shared/geometry.js'
import type { PixelType, Volume, VoxelArray } from '../../shared/volume.js'

const ITK_TYPES: Readonly<Record<string, PixelType>> = {
  uint8: 'uint8',
  int8: 'int8',
  uint16: 'uint16',
  int16: 'int16',
  uint32: 'uint32',
  int32: 'int32',
  float32: 'float32',
  float64: 'float64',
}

/**
 * Converts an itk-wasm `Image` to a {@link Volume}. itk-wasm's `direction` is row-major with axis
 * directions in columns (checked against nibabel on an oblique file in the tests), which is
 * exactly `directionLPS`. 2-D images become one slice. Refuses vectors/RGB and 64-bit integers.
 */
export function itkImageToVolume(image: Image, file: string): Volume {
  const where = { file }
  const t = image.imageType
  if (t.components !== 1) {
    throw new AppError(
      'E_UNSUPPORTED',
      `pixels have ${t.components} components (${t.pixelType}); VolSeg opens scalar images`,
      where,
    )
  }
  const pixelType = ITK_TYPES[t.componentType]
  if (pixelType === undefined) {
    throw new AppError('E_UNSUPPORTED', `pixel type ${t.componentType} is not supported`, where)
  }
  if (image.data === null) {
    throw new AppError('E_DECODE', 'the decoder returned no pixel data', where)
  }
  const d = t.dimension
  if (d !== 2 && d !== 3) {
    throw new AppError('E_UNSUPPORTED', `a ${d}-D image; VolSeg opens 3-D images`, where)
  }
  const size = image.size
  const sizeIJK: Vec3 = [size[0] ?? 1, size[1] ?? 1, d === 3 ? (size[2] ?? 1) : 1]
  const spacingMm: Vec3 = [
    image.spacing[0] ?? 1,
    image.spacing[1] ?? 1,
    d === 3 ? (image.spacing[2] ?? 1) : 1,
  ]
  const originLPS: Vec3 = [
    image.origin[0] ?? 0,
    image.origin[1] ?? 0,
    d === 3 ? (image.origin[2] ?? 0) : 0,
  ]
  const dir = Array.from(image.direction as ArrayLike<number>)
  const directionLPS = (d === 3
    ? dir
    : [dir[0] ?? 1, dir[1] ?? 0, 0, dir[2] ?? 0, dir[3] ?? 1, 0, 0, 0, 1]) as unknown as Mat3
  return {
    sizeIJK,
    spacingMm,
    originLPS,
    directionLPS,
    pixelType,
    voxels: image.data as VoxelArray,
  }
}

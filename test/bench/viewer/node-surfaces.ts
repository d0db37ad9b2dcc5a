/**
 * The surface pipeline in Node, for the viewer bench's baselines: the worker's code
 * (renderer/src/workers/surfaces.ts) step by step, the vtk.js filters it replaced, and a naive
 * marching-cubes pass over the whole grid per label (no bounding box).
 */
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray.js'
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData.js'
import vtkImageMarchingCubes from '@kitware/vtk.js/Filters/General/ImageMarchingCubes.js'
import vtkWindowedSincPolyDataFilter from '@kitware/vtk.js/Filters/General/WindowedSincPolyDataFilter.js'
import {
  binaryBox,
  labelBoxes,
  marchingCubes,
  windowedSinc,
  type LabelBox,
} from '../../../renderer/src/workers/surfaces.js'

/** As the 3D view asks (three-d-view.ts). */
export const MAX_BOX_VOXELS = 2_000_000

export interface LabelTiming {
  readonly value: number
  readonly box: string
  readonly stride: number
  readonly points: number
  readonly triangles: number
  readonly binMs: number
  readonly mcMs: number
  readonly smoothMs: number
}

export interface PipelineTiming {
  readonly boxesMs: number
  readonly labels: readonly LabelTiming[]
  readonly totalMs: number
}

function strideOf(box: LabelBox): number {
  const voxels = [0, 1, 2].reduce((n, a) => n * (box.hi[a]! - box.lo[a]! + 1), 1)
  return Math.max(1, Math.ceil(Math.cbrt(voxels / MAX_BOX_VOXELS)))
}

/** The worker's pipeline (ours, or vtk.js's filters on the same sub-images), timed per step. */
export function runPipeline(
  labels: Uint8Array,
  size: [number, number, number],
  impl: 'ours' | 'vtk',
): PipelineTiming {
  const t0 = performance.now()
  const boxes = labelBoxes(labels, size)
  const boxesMs = performance.now() - t0
  const out: LabelTiming[] = []
  for (const [value, box] of [...boxes].sort((a, b) => a[0] - b[0])) {
    const stride = strideOf(box)
    let t = performance.now()
    const { bin, dims } = binaryBox(labels, size, value, box, stride)
    const binMs = performance.now() - t
    let points: number
    let triangles: number
    let mcMs: number
    let smoothMs: number
    if (impl === 'ours') {
      t = performance.now()
      const mesh = marchingCubes(bin, dims)
      mcMs = performance.now() - t
      t = performance.now()
      windowedSinc(mesh, 15, 0.1)
      smoothMs = performance.now() - t
      points = mesh.points.length / 3
      triangles = mesh.polys.length / 4
    } else {
      const quiet = silenceConsoleTime()
      try {
        t = performance.now()
        const image = vtkImageData.newInstance()
        image.setDimensions(dims[0], dims[1], dims[2])
        image.setSpacing([1, 1, 1])
        image.setOrigin([0, 0, 0])
        const scalars = vtkDataArray.newInstance({ numberOfComponents: 1, values: bin })
        image.getPointData().setScalars(scalars)
        const mc = vtkImageMarchingCubes.newInstance({
          contourValue: 0.5,
          computeNormals: false,
          mergePoints: true,
        })
        mc.setInputData(image)
        const raw = mc.getOutputData()
        mcMs = performance.now() - t
        t = performance.now()
        const smooth = vtkWindowedSincPolyDataFilter.newInstance({
          numberOfIterations: 15,
          passBand: 0.1,
          normalizeCoordinates: 1,
          nonManifoldSmoothing: 1,
        })
        smooth.setInputData(raw)
        smooth.getOutputData()
        smoothMs = performance.now() - t
        points = raw.getPoints().getNumberOfPoints()
        triangles = raw.getPolys().getNumberOfCells()
        smooth.delete()
        mc.delete()
        image.delete()
      } finally {
        quiet()
      }
    }
    out.push({
      value,
      box: [0, 1, 2].map((a) => box.hi[a]! - box.lo[a]! + 1).join('×'),
      stride,
      points,
      triangles,
      binMs,
      mcMs,
      smoothMs,
    })
  }
  return { boxesMs, labels: out, totalMs: performance.now() - t0 }
}

/**
 * The naive pass: for each label, a binary image of the whole grid and marching cubes over all
 * of it (no bounding box, no sampling, no smoothing), with our marching cubes.
 */
export function naiveFullGrid(
  labels: Uint8Array,
  size: [number, number, number],
  values: readonly number[],
): { readonly perLabelMs: readonly number[]; readonly totalMs: number } {
  const full: LabelBox = { lo: [0, 0, 0], hi: [size[0] - 1, size[1] - 1, size[2] - 1] }
  const t0 = performance.now()
  const perLabelMs = values.map((v) => {
    const t = performance.now()
    const { bin, dims } = binaryBox(labels, size, v, full, 1)
    marchingCubes(bin, dims)
    return performance.now() - t
  })
  return { perLabelMs, totalMs: performance.now() - t0 }
}

/**
 * Checks that our meshes are vtk.js's: identical marching-cubes points and triangles, and the
 * largest difference of the smoothed points, for the given labels.
 */
export function compareWithVtk(
  labels: Uint8Array,
  size: [number, number, number],
  values: readonly number[],
): { readonly identicalMeshes: boolean; readonly maxSmoothedDiff: number } {
  const boxes = labelBoxes(labels, size)
  let identical = true
  let maxDiff = 0
  const quiet = silenceConsoleTime()
  try {
    for (const v of values) {
      const box = boxes.get(v)
      if (!box) continue
      const { bin, dims } = binaryBox(labels, size, v, box, strideOf(box))
      const mesh = marchingCubes(bin, dims)
      const smoothed = windowedSinc(mesh, 15, 0.1)
      const image = vtkImageData.newInstance()
      image.setDimensions(dims[0], dims[1], dims[2])
      image
        .getPointData()
        .setScalars(vtkDataArray.newInstance({ numberOfComponents: 1, values: bin }))
      const mc = vtkImageMarchingCubes.newInstance({
        contourValue: 0.5,
        computeNormals: false,
        mergePoints: true,
      })
      mc.setInputData(image)
      const raw = mc.getOutputData()
      const smooth = vtkWindowedSincPolyDataFilter.newInstance({
        numberOfIterations: 15,
        passBand: 0.1,
        normalizeCoordinates: 1,
        nonManifoldSmoothing: 1,
      })
      smooth.setInputData(raw)
      const theirs = smooth.getOutputData().getPoints().getData()
      const rawPts = raw.getPoints().getData()
      const rawTris = raw.getPolys().getData()
      identical &&=
        rawPts.length === mesh.points.length &&
        rawPts.every((x, n) => x === mesh.points[n]) &&
        rawTris.length === mesh.polys.length &&
        rawTris.every((x, n) => x === mesh.polys[n])
      if (theirs.length !== smoothed.length) identical = false
      for (let n = 0; n < Math.min(theirs.length, smoothed.length); n++) {
        maxDiff = Math.max(maxDiff, Math.abs(theirs[n]! - smoothed[n]!))
      }
      smooth.delete()
      mc.delete()
      image.delete()
    }
  } finally {
    quiet()
  }
  return { identicalMeshes: identical, maxSmoothedDiff: maxDiff }
}

/** vtk.js ImageMarchingCubes logs `console.time('mcubes')`; mute it while it runs. */
function silenceConsoleTime(): () => void {
  const { time, timeEnd } = console
  console.time = () => undefined
  console.timeEnd = () => undefined
  return () => {
    console.time = time
    console.timeEnd = timeEnd
  }
}

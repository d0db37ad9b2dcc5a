/**
 * Web Worker: one smoothed surface per label, from that label's bounding box only (padded by one
 * voxel so the surface closes), with vtk.js ImageMarchingCubes then WindowedSincPolyDataFilter.
 * Points leave in LPS millimetres.
 */
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray'
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData'
import vtkImageMarchingCubes from '@kitware/vtk.js/Filters/General/ImageMarchingCubes'
import vtkWindowedSincPolyDataFilter from '@kitware/vtk.js/Filters/General/WindowedSincPolyDataFilter'
import type { SurfaceReply, SurfaceRequest } from './surface-protocol.js'

function reply(r: SurfaceReply, transfer: Transferable[] = []): void {
  postMessage(r, { transfer })
}

interface Box {
  lo: [number, number, number]
  hi: [number, number, number]
}

/** Bounding boxes of every label value, in one pass. */
function boxes(labels: Uint8Array | Uint16Array, size: readonly number[]): Map<number, Box> {
  const [ni, nj, nk] = size as [number, number, number]
  const out = new Map<number, Box>()
  let n = 0
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++, n++) {
        const v = labels[n]!
        if (v === 0) continue
        const b = out.get(v)
        if (!b) {
          out.set(v, { lo: [i, j, k], hi: [i, j, k] })
          continue
        }
        if (i < b.lo[0]) b.lo[0] = i
        if (i > b.hi[0]) b.hi[0] = i
        if (j < b.lo[1]) b.lo[1] = j
        if (j > b.hi[1]) b.hi[1] = j
        if (k < b.lo[2]) b.lo[2] = k
        if (k > b.hi[2]) b.hi[2] = k
      }
    }
  }
  return out
}

function surface(req: SurfaceRequest, value: number, box: Box): void {
  const [ni, nj] = req.sizeIJK
  const ext = [0, 1, 2].map((a) => box.hi[a]! - box.lo[a]! + 1)
  const voxels = ext[0]! * ext[1]! * ext[2]!
  const stride = Math.max(1, Math.ceil(Math.cbrt(voxels / req.maxBoxVoxels)))
  // padded, sampled binary sub-image: 1 inside the label
  const dims = ext.map((e) => Math.ceil(e / stride) + 2) as [number, number, number]
  const bin = new Uint8Array(dims[0] * dims[1] * dims[2])
  for (let z = 1; z < dims[2] - 1; z++) {
    const k = box.lo[2] + (z - 1) * stride
    for (let y = 1; y < dims[1] - 1; y++) {
      const j = box.lo[1] + (y - 1) * stride
      let src = box.lo[0] + ni * (j + nj * k)
      let dst = 1 + dims[0] * (y + dims[1] * z)
      for (let x = 1; x < dims[0] - 1; x++, src += stride, dst++) {
        if (req.labels[src] === value) bin[dst] = 1
      }
    }
  }
  const image = vtkImageData.newInstance()
  image.setDimensions(dims[0], dims[1], dims[2])
  image.setSpacing([1, 1, 1])
  image.setOrigin([0, 0, 0])
  const scalars = vtkDataArray.newInstance({ numberOfComponents: 1, values: bin, name: 'mask' })
  image.getPointData().setScalars(scalars)
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
  const poly = smooth.getOutputData()
  const src = poly.getPoints().getData() as Float32Array
  const polys = new Uint32Array(poly.getPolys().getData() as Uint32Array)
  // sub-image point (x, y, z) → voxel index lo + (p − 1)·stride → LPS
  const m = req.indexToLPS
  const o = req.originLPS
  const points = new Float32Array(src.length)
  for (let p = 0; p < src.length; p += 3) {
    const i = box.lo[0] + (src[p]! - 1) * stride
    const j = box.lo[1] + (src[p + 1]! - 1) * stride
    const k = box.lo[2] + (src[p + 2]! - 1) * stride
    points[p] = o[0] + m[0] * i + m[1] * j + m[2] * k
    points[p + 1] = o[1] + m[3] * i + m[4] * j + m[5] * k
    points[p + 2] = o[2] + m[6] * i + m[7] * j + m[8] * k
  }
  smooth.delete()
  mc.delete()
  image.delete()
  reply({ id: req.id, kind: 'surface', label: value, points, polys, stride }, [
    points.buffer,
    polys.buffer,
  ])
}

addEventListener('message', (ev: MessageEvent<SurfaceRequest>) => {
  const req = ev.data
  try {
    const all = boxes(req.labels, req.sizeIJK)
    for (const v of req.values) {
      const b = all.get(v)
      if (b) surface(req, v, b)
    }
    reply({ id: req.id, kind: 'done' })
  } catch (e) {
    reply({ id: req.id, kind: 'error', message: e instanceof Error ? e.message : String(e) })
  }
})

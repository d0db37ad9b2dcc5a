/**
 * Web Worker: one smoothed surface per label, from that label's bounding box only (padded by one
 * voxel so the surface closes; sampled every 2nd, 3rd… voxel when the box holds more than
 * `maxBoxVoxels`), by marching cubes then windowed-sinc smoothing (surfaces.ts: the algorithms
 * of vtk.js ImageMarchingCubes and WindowedSincPolyDataFilter on typed arrays). Points leave in
 * LPS millimetres.
 */
import type { SurfaceReply, SurfaceRequest } from './surface-protocol.js'
import { binaryBox, labelBoxes, marchingCubes, windowedSinc, type LabelBox } from './surfaces.js'

function reply(r: SurfaceReply, transfer: Transferable[] = []): void {
  postMessage(r, { transfer })
}

function surface(req: SurfaceRequest, value: number, box: LabelBox): void {
  const t0 = performance.now()
  const voxels = [0, 1, 2].reduce((n, a) => n * (box.hi[a]! - box.lo[a]! + 1), 1)
  const stride = Math.max(1, Math.ceil(Math.cbrt(voxels / req.maxBoxVoxels)))
  const { bin, dims } = binaryBox(req.labels, req.sizeIJK, value, box, stride)
  const mesh = marchingCubes(bin, dims)
  const points = windowedSinc(mesh, 15, 0.1)
  // sub-image point (x, y, z) → voxel index lo + (p − 1)·stride → LPS, in place
  const m = req.indexToLPS
  const o = req.originLPS
  for (let p = 0; p < points.length; p += 3) {
    const i = box.lo[0] + (points[p]! - 1) * stride
    const j = box.lo[1] + (points[p + 1]! - 1) * stride
    const k = box.lo[2] + (points[p + 2]! - 1) * stride
    points[p] = o[0] + m[0] * i + m[1] * j + m[2] * k
    points[p + 1] = o[1] + m[3] * i + m[4] * j + m[5] * k
    points[p + 2] = o[2] + m[6] * i + m[7] * j + m[8] * k
  }
  const polys = mesh.polys
  reply(
    {
      id: req.id,
      kind: 'surface',
      label: value,
      points,
      polys,
      stride,
      ms: performance.now() - t0,
    },
    [points.buffer, polys.buffer],
  )
}

addEventListener('message', (ev: MessageEvent<SurfaceRequest>) => {
  const req = ev.data
  const t0 = performance.now()
  try {
    const all = labelBoxes(req.labels, req.sizeIJK)
    for (const v of req.values) {
      const b = all.get(v)
      if (b) surface(req, v, b)
    }
    reply({ id: req.id, kind: 'done', ms: performance.now() - t0 })
  } catch (e) {
    reply({ id: req.id, kind: 'error', message: e instanceof Error ? e.message : String(e) })
  }
})

/**
 * Mesh export, one file per label, as STL (binary) or OBJ through `@itk-wasm/mesh-io`: the
 * label's surface as the 3-D view computes it (src/core/segmentation/label-surface.ts; smoothed
 * as the view, or raw marching cubes), in patient millimetres, LPS by default or RAS (x and y
 * negated: a rotation, so triangle winding is kept). The frame is written into the file where
 * the format has room (the STL header's 80 bytes, an OBJ comment) and into the sidecar.
 *
 * Before a mesh is published the temp file is read back with mesh-io: same vertex and triangle
 * counts, bounds within the format's precision.
 */
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  objReadMeshNode,
  objWriteMeshNode,
  stlReadMeshNode,
  stlWriteMeshNode,
} from '@itk-wasm/mesh-io'
import { FloatTypes, IntTypes, Mesh, MeshType, PixelTypes } from 'itk-wasm'
import { AppError } from '../../shared/errors.js'
import type { ExportedMesh } from '../../shared/export.js'
import type { Vec3, VolumeGeometry } from '../../shared/geometry.js'
import type { LabelArray } from '../../core/segmentation/label-volume.js'
import { labelSurfaceLPS, type SurfaceLPS } from '../../core/segmentation/label-surface.js'
import type { LabelBox } from '../../core/segmentation/surfaces.js'
import { muteWasmStdio } from '../itk/quiet.js'
import { publish, type ExportSink } from './export-files.js'

/** ITK cell type of a triangle (itk::CellGeometryEnum::TRIANGLE_CELL). */
const ITK_TRIANGLE = 2

/** Bounds a re-read mesh may differ by: OBJ is text (ITK writes ~6 significant digits), STL float32. */
export const MESH_BOUNDS_TOLERANCE_MM = 1e-3

/** Min and max of x, y, z over the points (mm). */
export function meshBounds(points: ArrayLike<number>): { min: Vec3; max: Vec3 } {
  const min = [Infinity, Infinity, Infinity]
  const max = [-Infinity, -Infinity, -Infinity]
  for (let p = 0; p < points.length; p += 3) {
    for (let a = 0; a < 3; a++) {
      const x = points[p + a]!
      if (x < min[a]!) min[a] = x
      if (x > max[a]!) max[a] = x
    }
  }
  return { min: min as unknown as Vec3, max: max as unknown as Vec3 }
}

/** An itk-wasm mesh of triangles from a surface (points copied; RAS negates x and y). */
function toItkMesh(s: SurfaceLPS, ras: boolean): Mesh {
  const type = new MeshType(
    3,
    FloatTypes.Float32,
    FloatTypes.Float32,
    PixelTypes.Scalar,
    1,
    IntTypes.UInt32,
    FloatTypes.Float32,
    PixelTypes.Scalar,
    1,
  )
  const m = new Mesh(type)
  const points = s.pointsLPS.slice()
  if (ras) {
    for (let p = 0; p < points.length; p += 3) {
      points[p] = -points[p]! + 0
      points[p + 1] = -points[p + 1]! + 0
    }
  }
  const triangles = s.polys.length / 4
  const cells = new Uint32Array(triangles * 5)
  for (let t = 0; t < triangles; t++) {
    cells[5 * t] = ITK_TRIANGLE
    cells[5 * t + 1] = 3
    cells[5 * t + 2] = s.polys[4 * t + 1]!
    cells[5 * t + 3] = s.polys[4 * t + 2]!
    cells[5 * t + 4] = s.polys[4 * t + 3]!
  }
  m.numberOfPoints = points.length / 3
  m.points = points
  m.numberOfCells = triangles
  m.cells = cells
  m.cellBufferSize = cells.length
  m.numberOfPointPixels = 0
  m.numberOfCellPixels = 0
  return m
}

/** The bytes mesh-io writes for `mesh` in `format` (through a private temp folder). */
async function encode(mesh: Mesh, format: 'stl' | 'obj', banner: string): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'volseg-mesh-'))
  try {
    const file = join(dir, `mesh.${format}`)
    await muteWasmStdio(async () => {
      if (format === 'stl') await stlWriteMeshNode(mesh, file, { binaryFileType: true })
      else await objWriteMeshNode(mesh, file)
    })
    const bytes = new Uint8Array(await readFile(file))
    if (format === 'stl') {
      // Binary STL: an 80-byte free header (ours must not start with "solid", the ASCII marker).
      const head = new TextEncoder().encode(banner.slice(0, 80).padEnd(80, ' '))
      bytes.set(head.subarray(0, 80), 0)
      return bytes
    }
    const comment = new TextEncoder().encode(`# ${banner}\n`)
    const out = new Uint8Array(comment.length + bytes.length)
    out.set(comment, 0)
    out.set(bytes, comment.length)
    return out
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Reads a mesh file back with mesh-io (a copy under the right extension, in a private folder). */
export async function readMeshBack(path: string, format: 'stl' | 'obj'): Promise<Mesh> {
  const dir = await mkdtemp(join(tmpdir(), 'volseg-mesh-'))
  try {
    const file = join(dir, `mesh.${format}`)
    await copyFile(path, file)
    const r = await muteWasmStdio(() =>
      format === 'stl' ? stlReadMeshNode(file) : objReadMeshNode(file),
    )
    if (!r.couldRead) throw new AppError('E_VERIFY', `mesh-io could not read the written ${format}`)
    return r.mesh
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export interface MeshExportOptions {
  readonly sink: ExportSink
  readonly name: string
  readonly format: 'stl' | 'obj'
  readonly labels: LabelArray
  readonly geometry: VolumeGeometry
  readonly value: number
  readonly labelName: string
  readonly box: LabelBox
  readonly ras: boolean
  readonly smooth: boolean
  readonly softwareVersion: string
}

/** Writes one label's surface as STL or OBJ; see the module comment. */
export async function exportMesh(
  o: MeshExportOptions,
): Promise<ExportedMesh & { bytes: number; sha256: string; check: string }> {
  const surface = labelSurfaceLPS(o.labels, o.geometry, o.value, o.box, o.smooth)
  const frame = o.ras ? 'RAS' : 'LPS'
  const mesh = toItkMesh(surface, o.ras)
  const vertices = mesh.numberOfPoints
  const triangles = mesh.numberOfCells
  const bounds = meshBounds(mesh.points as Float32Array)
  const banner = `VolSeg ${o.softwareVersion} label ${o.value} ${o.labelName.replace(/[^\x20-\x7e]/g, '_')}; ${frame} mm`
  const bytes = await encode(mesh, o.format, banner)
  const r = await publish(o.sink, o.name, bytes, async (temp) => {
    const back = await readMeshBack(temp, o.format)
    const b = meshBounds((back.points ?? new Float32Array(0)) as ArrayLike<number>)
    const err = Math.max(
      ...[0, 1, 2].map((a) =>
        Math.max(Math.abs(b.min[a]! - bounds.min[a]!), Math.abs(b.max[a]! - bounds.max[a]!)),
      ),
    )
    if (
      back.numberOfPoints !== vertices ||
      back.numberOfCells !== triangles ||
      !(err <= MESH_BOUNDS_TOLERANCE_MM)
    ) {
      throw new AppError(
        'E_VERIFY',
        `the written ${o.format.toUpperCase()} re-read as ${back.numberOfPoints} vertices and ${back.numberOfCells} triangles (written ${vertices} and ${triangles}), bounds off by ${err.toExponential(2)} mm; nothing was saved`,
        { file: o.name },
      )
    }
    return `re-read by mesh-io: ${vertices.toLocaleString('en-US')} vertices, ${triangles.toLocaleString('en-US')} triangles, bounds within ${err.toExponential(1)} mm`
  })
  return {
    label: o.value,
    format: o.format,
    path: r.path,
    frame,
    vertices,
    triangles,
    boundsMin: bounds.min,
    boundsMax: bounds.max,
    smoothed: o.smooth,
    bytes: r.bytes,
    sha256: r.sha256,
    check: r.check,
  }
}

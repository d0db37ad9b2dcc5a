/**
 * Label surfaces for the 3D view, on flat typed arrays (no DOM; runs in the surface worker and
 * in Node for the bench): bounding boxes of every label in one pass, marching cubes on a label's
 * binary box, and windowed-sinc smoothing.
 *
 * The two mesh steps are the algorithms of vtk.js `ImageMarchingCubes` (contour 0.5,
 * `mergePoints`, no normals) and `WindowedSincPolyDataFilter` (`nonManifoldSmoothing`,
 * `normalizeCoordinates`, boundary smoothing, no feature edges), with the same case table, the
 * same point numbering, the same vertex classification and the same float32 arithmetic, so the
 * output is that of vtk.js. What differs is the cost: vtk.js calls closures and allocates arrays
 * per voxel and per point (an object with an edge list per vertex, a filtered link list per
 * triangle edge); here every step is a loop over typed arrays, with edges cached per slice.
 */
// Lives in core (moved from renderer/src/workers) so that the 3-D view and the mesh export
// (src/io/export/export-mesh.ts) share one surface extraction.
import { EDGES, MARCHING_CUBE_CASES } from './marching-cubes-table.js'

export interface LabelBox {
  /** Smallest voxel index of the label along i, j, k. */
  readonly lo: [number, number, number]
  /** Largest voxel index, inclusive. */
  readonly hi: [number, number, number]
}

/** Bounding boxes of every label value present, in one pass over the map (runs, not voxels). */
export function labelBoxes(
  labels: Uint8Array | Uint16Array,
  size: readonly [number, number, number],
): Map<number, LabelBox> {
  const [ni, nj, nk] = size
  const values = labels instanceof Uint8Array ? 256 : 65536
  const lo = new Int32Array(3 * values).fill(0x7fffffff)
  const hi = new Int32Array(3 * values).fill(-1)
  let p = 0
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      let prev = 0
      for (let i = 0; i < ni; i++, p++) {
        const v = labels[p]!
        if (v === prev) continue
        if (prev !== 0 && i - 1 > hi[3 * prev]!) hi[3 * prev] = i - 1
        if (v !== 0) {
          const b = 3 * v
          if (i < lo[b]!) lo[b] = i
          if (j < lo[b + 1]!) lo[b + 1] = j
          if (j > hi[b + 1]!) hi[b + 1] = j
          if (k < lo[b + 2]!) lo[b + 2] = k
          hi[b + 2] = k
        }
        prev = v
      }
      if (prev !== 0 && ni - 1 > hi[3 * prev]!) hi[3 * prev] = ni - 1
    }
  }
  const out = new Map<number, LabelBox>()
  for (let v = 1; v < values; v++) {
    const b = 3 * v
    if (hi[b]! < 0) continue
    out.set(v, { lo: [lo[b]!, lo[b + 1]!, lo[b + 2]!], hi: [hi[b]!, hi[b + 1]!, hi[b + 2]!] })
  }
  return out
}

/** Binary sub-image of one label: its box sampled every `stride` voxels, padded by one voxel. */
export function binaryBox(
  labels: Uint8Array | Uint16Array,
  size: readonly [number, number, number],
  value: number,
  box: LabelBox,
  stride: number,
): { readonly bin: Uint8Array; readonly dims: [number, number, number] } {
  const [ni, nj] = size
  const dims = [0, 1, 2].map((a) => Math.ceil((box.hi[a]! - box.lo[a]! + 1) / stride) + 2) as [
    number,
    number,
    number,
  ]
  const bin = new Uint8Array(dims[0] * dims[1] * dims[2])
  for (let z = 1; z < dims[2] - 1; z++) {
    const k = box.lo[2] + (z - 1) * stride
    for (let y = 1; y < dims[1] - 1; y++) {
      const j = box.lo[1] + (y - 1) * stride
      let src = box.lo[0] + ni * (j + nj * k)
      let dst = 1 + dims[0] * (y + dims[1] * z)
      for (let x = 1; x < dims[0] - 1; x++, src += stride, dst++) {
        if (labels[src] === value) bin[dst] = 1
      }
    }
  }
  return { bin, dims }
}

/** A triangle mesh: xyz triples, and a vtk cell array `3, a, b, c, 3, …`. */
export interface Mesh {
  readonly points: Float32Array
  readonly polys: Uint32Array
}

// vtk.js ImageMarchingCubes: corner n of a cell is (n & 1, (n >> 1) & 1, n >> 2); case bit b is
// set when corner VERT_MAP[b] is inside; edge e joins corners EDGES[e] (lower corner first).
const VERT_MAP = [0, 1, 3, 2, 4, 5, 7, 6]
const CASES: Int8Array[] = Array.from({ length: 256 }, (_, c) => {
  return Int8Array.from(MARCHING_CUBE_CASES[c]!)
})
const EDGE_CORNER = Int8Array.from({ length: 12 }, (_, e) => EDGES[e]![0])
const EDGE_AXIS = Int8Array.from({ length: 12 }, (_, e) => {
  const [a, b] = EDGES[e]!
  const d = b - a
  return d === 1 ? 0 : d === 2 ? 1 : 2
})

/** A growable typed buffer. */
class Grow<T extends Float32Array | Uint32Array> {
  data: T
  length = 0
  constructor(readonly make: (n: number) => T) {
    this.data = make(1024)
  }
  reserve(n: number): T {
    if (this.length + n > this.data.length) {
      const bigger = this.make(Math.max(2 * this.data.length, this.length + n))
      bigger.set(this.data.subarray(0, this.length))
      this.data = bigger
    }
    return this.data
  }
  result(): T {
    return this.data.slice(0, this.length) as T
  }
}

/**
 * Marching cubes of the 0.5 level of a binary image (`dims`, i fastest; spacing 1, origin 0), as
 * vtk.js `ImageMarchingCubes` with `mergePoints`: identical triangles and point numbering.
 */
export function marchingCubes(bin: Uint8Array, dims: readonly [number, number, number]): Mesh {
  const [nx, ny, nz] = dims
  const plane = nx * ny
  // point id per grid edge: x and y edges of the slices below (a) and above (b) the cell layer,
  // z edges of the layer; -1 = none yet
  let a = new Int32Array(2 * plane).fill(-1)
  let b = new Int32Array(2 * plane).fill(-1)
  const zEdges = new Int32Array(plane)
  const points = new Grow((n) => new Float32Array(n))
  const polys = new Grow((n) => new Uint32Array(n))
  const corner = new Uint8Array(8)
  for (let z = 0; z < nz - 1; z++) {
    zEdges.fill(-1)
    for (let y = 0; y < ny - 1; y++) {
      let p = z * plane + y * nx
      for (let x = 0; x < nx - 1; x++, p++) {
        const c0 = bin[p]!
        const c1 = bin[p + 1]!
        const c2 = bin[p + nx]!
        const c3 = bin[p + nx + 1]!
        const c4 = bin[p + plane]!
        const c5 = bin[p + plane + 1]!
        const c6 = bin[p + plane + nx]!
        const c7 = bin[p + plane + nx + 1]!
        const any = c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7
        if (any === 0 || (c0 & c1 & c2 & c3 & c4 & c5 & c6 & c7) === 1) continue
        corner[0] = c0
        corner[1] = c1
        corner[2] = c2
        corner[3] = c3
        corner[4] = c4
        corner[5] = c5
        corner[6] = c6
        corner[7] = c7
        let index = 0
        for (let n = 0; n < 8; n++) if (corner[VERT_MAP[n]!]! !== 0) index |= 1 << n
        const tris = CASES[index]!
        const out = polys.reserve((tris.length / 3) * 4)
        for (let t = 0; t < tris.length; t += 3) {
          out[polys.length++] = 3
          for (let v = 0; v < 3; v++) {
            const e = tris[t + v]!
            const c = EDGE_CORNER[e]!
            const axis = EDGE_AXIS[e]!
            const gx = x + (c & 1)
            const gy = y + ((c >> 1) & 1)
            const g = gx + nx * gy
            let cache: Int32Array
            let slot: number
            if (axis === 2) {
              cache = zEdges
              slot = g
            } else {
              cache = c >> 2 ? b : a
              slot = 2 * g + axis
            }
            let id = cache[slot]!
            if (id < 0) {
              id = points.length / 3
              const pts = points.reserve(3)
              pts[points.length] = gx + (axis === 0 ? 0.5 : 0)
              pts[points.length + 1] = gy + (axis === 1 ? 0.5 : 0)
              pts[points.length + 2] = z + (c >> 2) + (axis === 2 ? 0.5 : 0)
              points.length += 3
              cache[slot] = id
            }
            out[polys.length++] = id
          }
        }
      }
    }
    const t = a
    a = b
    b = t
    b.fill(-1)
  }
  return { points: points.result(), polys: polys.result() }
}

const SIMPLE = 0
const FIXED = 1
const FEATURE = 2
const BOUNDARY = 3

/**
 * vtk.js `WindowedSincPolyDataFilter` on a triangle mesh with `nonManifoldSmoothing: 1`,
 * `normalizeCoordinates: 1` and the defaults otherwise (boundary smoothing on, edge angle 15°,
 * no feature-edge smoothing): the same vertex classification, neighbour order, coefficients and
 * float32 iterates. Returns the smoothed points; the triangles are unchanged.
 *
 * Each step is its own small function with one hot loop, so that V8 optimises it early and
 * keeps it for the next label.
 */
export function windowedSinc(mesh: Mesh, iterations: number, passBand: number): Float32Array {
  const numPts = mesh.points.length / 3
  if (iterations <= 0 || numPts === 0) return mesh.points.slice()
  const polys = mesh.polys
  for (let c = 0; c < polys.length; c += 4) {
    if (polys[c] !== 3) throw new Error('windowedSinc: triangles only')
  }
  const edges = halfEdges(polys, numPts)
  sharedEdges(edges, numPts)
  const lists = edgeLists(polys, numPts, edges)
  fixSharpChains(lists, mesh.points)
  const { off, adj } = toCsr(lists)
  const type = lists.type
  const { centre, length, p0 } = normalised(mesh.points)
  const cf = sincCoefficients(iterations, passBand)
  const bufs = [p0, new Float32Array(3 * numPts), new Float32Array(3 * numPts)]
  const p3 = new Float32Array(3 * numPts)
  firstPass(off, adj, type, p0, bufs[1]!, p3, cf[0]!, cf[1]!)
  let zero = 0
  let one = 1
  let two = 2
  for (let it = 2; it <= iterations; it++) {
    chebyshevPass(off, adj, type, bufs[zero]!, bufs[one]!, bufs[two]!, p3, cf[it]!)
    zero = (zero + 1) % 3
    one = (one + 1) % 3
    two = (two + 1) % 3
  }
  denormalise(p3, centre, length)
  return p3
}

interface HalfEdges {
  /** Smaller and larger vertex of half-edge h = 3·cell + i (from corner i to corner i+1). */
  readonly near: Int32Array
  readonly far: Int32Array
  /** Half-edges grouped by `near`: those of vertex v are bucket[start[v] … start[v+1]). */
  readonly start: Int32Array
  readonly bucket: Int32Array
  /** Per half-edge: how many other cells share its edge, and the smallest of them (or -1). */
  readonly shared: Int32Array
  readonly firstOther: Int32Array
}

function halfEdges(polys: Uint32Array, numPts: number): HalfEdges {
  const half = (3 * polys.length) / 4
  const near = new Int32Array(half)
  const far = new Int32Array(half)
  const start = new Int32Array(numPts + 1)
  for (let h = 0, c = 0; c < polys.length; c += 4) {
    const a = polys[c + 1]!
    const b = polys[c + 2]!
    const d = polys[c + 3]!
    near[h] = a < b ? a : b
    far[h++] = a < b ? b : a
    near[h] = b < d ? b : d
    far[h++] = b < d ? d : b
    near[h] = d < a ? d : a
    far[h++] = d < a ? a : d
  }
  for (let h = 0; h < half; h++) start[near[h]! + 1]!++
  for (let v = 0; v < numPts; v++) start[v + 1]! += start[v]!
  const fill = start.slice(0, numPts)
  const bucket = new Int32Array(half)
  for (let h = 0; h < half; h++) bucket[fill[near[h]!]!++] = h
  return {
    near,
    far,
    start,
    bucket,
    shared: new Int32Array(half),
    firstOther: new Int32Array(half).fill(-1),
  }
}

/** Fills `shared` and `firstOther`: matches half-edges by their larger end within a bucket. */
function sharedEdges(e: HalfEdges, numPts: number): void {
  const { far, start, bucket, shared, firstOther } = e
  for (let v = 0; v < numPts; v++) {
    const s0 = start[v]!
    const s1 = start[v + 1]!
    for (let s = s0; s < s1; s++) {
      const h = bucket[s]!
      const c = (h / 3) | 0
      const f = far[h]!
      let n = 0
      let first = -1
      for (let t = s0; t < s1; t++) {
        const g = bucket[t]!
        if (far[g] !== f) continue
        const d = (g / 3) | 0
        if (d === c) continue
        n++
        if (first < 0 || d < first) first = d
      }
      shared[h] = n
      firstOther[h] = first
    }
  }
}

/** Per-vertex type and edge list (linked lists appended at the tail, as vtk.js pushes). */
interface EdgeLists {
  readonly type: Uint8Array
  readonly hasEdges: Uint8Array
  readonly head: Int32Array
  readonly tail: Int32Array
  readonly count: Int32Array
  readonly next: Int32Array
  readonly nbr: Int32Array
  used: number
}

function pushEdge(l: EdgeLists, p: number, q: number): void {
  const u = l.used++
  l.nbr[u] = q
  l.next[u] = -1
  if (l.head[p]! < 0) l.head[p] = u
  else l.next[l.tail[p]!] = u
  l.tail[p] = u
  l.count[p]!++
}

/** vtk.js's update of vertex `p` for its edge to `q` of kind `edge`. */
function visitEdge(l: EdgeLists, p: number, q: number, edge: number): void {
  const t = l.type[p]!
  if (edge !== SIMPLE && t === SIMPLE) {
    // the first boundary edge replaces the vertex's list
    l.head[p] = -1
    l.tail[p] = -1
    l.count[p] = 0
    pushEdge(l, p, q)
    l.type[p] = edge
  } else if (
    (edge !== SIMPLE && (t === BOUNDARY || t === FEATURE)) ||
    (edge === SIMPLE && t === SIMPLE)
  ) {
    pushEdge(l, p, q)
    if (t !== SIMPLE && edge === BOUNDARY) l.type[p] = BOUNDARY
  }
}

function edgeLists(polys: Uint32Array, numPts: number, e: HalfEdges): EdgeLists {
  const half = e.shared.length
  const l: EdgeLists = {
    type: new Uint8Array(numPts),
    hasEdges: new Uint8Array(numPts),
    head: new Int32Array(numPts).fill(-1),
    tail: new Int32Array(numPts).fill(-1),
    count: new Int32Array(numPts),
    next: new Int32Array(2 * half),
    nbr: new Int32Array(2 * half),
    used: 0,
  }
  const { shared, firstOther } = e
  for (let c = 0, h = 0; h < half; c++) {
    for (let i = 0; i < 3; i++, h++) {
      const p1 = polys[4 * c + 1 + i]!
      const p2 = polys[4 * c + 1 + (i === 2 ? 0 : i + 1)]!
      l.hasEdges[p1] = 1
      l.hasEdges[p2] = 1
      const n = shared[h]!
      // an edge between two cells is visited once, from the first of them
      if (n === 1 && firstOther[h]! < c) continue
      const edge = n === 0 ? BOUNDARY : SIMPLE
      visitEdge(l, p1, p2, edge)
      visitEdge(l, p2, p1, edge)
    }
  }
  return l
}

/** Boundary (and feature) vertices stay fixed unless on a straight-enough chain of 2 edges. */
function fixSharpChains(l: EdgeLists, pts: Float32Array): void {
  const cosEdgeAngle = Math.cos((15 * Math.PI) / 180)
  const n = l.type.length
  for (let i = 0; i < n; i++) {
    const t = l.type[i]!
    if (t !== FEATURE && t !== BOUNDARY) continue
    if (l.count[i] !== 2) {
      l.type[i] = FIXED
      continue
    }
    const e0 = l.nbr[l.head[i]!]!
    const e1 = l.nbr[l.next[l.head[i]!]!]!
    let ax = pts[3 * i]! - pts[3 * e0]!
    let ay = pts[3 * i + 1]! - pts[3 * e0 + 1]!
    let az = pts[3 * i + 2]! - pts[3 * e0 + 2]!
    let bx = pts[3 * e1]! - pts[3 * i]!
    let by = pts[3 * e1 + 1]! - pts[3 * i + 1]!
    let bz = pts[3 * e1 + 2]! - pts[3 * i + 2]!
    const na = Math.sqrt(ax * ax + ay * ay + az * az)
    const nb = Math.sqrt(bx * bx + by * by + bz * bz)
    if (na > 0) {
      ax /= na
      ay /= na
      az /= na
    }
    if (nb > 0) {
      bx /= nb
      by /= nb
      bz /= nb
    }
    if (ax * bx + ay * by + az * bz < cosEdgeAngle) l.type[i] = FIXED
  }
}

/** Edge lists → compressed rows, in list order (no row for a vertex outside every cell). */
function toCsr(l: EdgeLists): { readonly off: Int32Array; readonly adj: Int32Array } {
  const n = l.type.length
  const off = new Int32Array(n + 1)
  for (let i = 0; i < n; i++) off[i + 1] = off[i]! + (l.hasEdges[i] ? l.count[i]! : 0)
  const adj = new Int32Array(off[n]!)
  for (let i = 0; i < n; i++) {
    if (!l.hasEdges[i]) continue
    let o = off[i]!
    for (let e = l.head[i]!; e >= 0; e = l.next[e]!) adj[o++] = l.nbr[e]!
  }
  return { off, adj }
}

/** Points moved to the bounding-box centre and scaled by its diagonal (float32, as vtk.js). */
function normalised(pts: Float32Array): {
  readonly centre: [number, number, number]
  readonly length: number
  readonly p0: Float32Array
} {
  let x0 = Infinity
  let y0 = Infinity
  let z0 = Infinity
  let x1 = -Infinity
  let y1 = -Infinity
  let z1 = -Infinity
  for (let q = 0; q < pts.length; q += 3) {
    const x = pts[q]!
    const y = pts[q + 1]!
    const z = pts[q + 2]!
    if (x < x0) x0 = x
    if (x > x1) x1 = x
    if (y < y0) y0 = y
    if (y > y1) y1 = y
    if (z < z0) z0 = z
    if (z > z1) z1 = z
  }
  const cx = 0.5 * (x0 + x1)
  const cy = 0.5 * (y0 + y1)
  const cz = 0.5 * (z0 + z1)
  const length = Math.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2 + (z1 - z0) ** 2)
  const p0 = new Float32Array(pts.length)
  for (let q = 0; q < pts.length; q += 3) {
    p0[q] = (pts[q]! - cx) / length
    p0[q + 1] = (pts[q + 1]! - cy) / length
    p0[q + 2] = (pts[q + 2]! - cz) / length
  }
  return { centre: [cx, cy, cz], length, p0 }
}

function denormalise(p: Float32Array, centre: readonly number[], length: number): void {
  const [cx, cy, cz] = centre as [number, number, number]
  for (let q = 0; q < p.length; q += 3) {
    p[q] = p[q]! * length + cx
    p[q + 1] = p[q + 1]! * length + cy
    p[q + 2] = p[q + 2]! * length + cz
  }
}

/** The windowed-sinc filter's Chebyshev coefficients c[0…N] (vtk.js, verbatim). */
function sincCoefficients(N: number, kPb: number): number[] {
  const thetaPb = Math.acos(1 - 0.5 * kPb)
  const w: number[] = []
  const cf: number[] = []
  const cprime: number[] = []
  for (let i = 0; i <= N; i++) w[i] = 0.54 + 0.46 * Math.cos((i * Math.PI) / (N + 1))
  let fKpb = 0
  let fPrimeKpb = 0
  let done = false
  let sigma = 0
  for (let j = 0; !done && j < 500; ++j) {
    cf[0] = (w[0]! * (thetaPb + sigma)) / Math.PI
    for (let i = 1; i <= N; i++) {
      cf[i] = (2 * w[i]! * Math.sin(i * (thetaPb + sigma))) / (i * Math.PI)
    }
    cprime[N] = 0
    cprime[N - 1] = 0
    if (N > 1) cprime[N - 2] = 2 * (N - 1) * cf[N - 1]!
    for (let i = N - 3; i >= 0; --i) cprime[i] = cprime[i + 2]! + 2 * (i + 1) * cf[i + 1]!
    fKpb = cf[0]!
    fPrimeKpb = cprime[0]!
    for (let i = 1; i <= N; i++) {
      const t = i === 1 ? 1 - 0.5 * kPb : Math.cos(i * Math.acos(1 - 0.5 * kPb))
      fKpb += cf[i]! * t
      fPrimeKpb += cprime[i]! * t
    }
    if (N > 1) {
      if (Math.abs(fKpb - 1) >= 0.001) sigma -= (fKpb - 1) / fPrimeKpb
      else done = true
    } else {
      done = true
      sigma = 0
    }
  }
  return cf
}

/** p1 = x − ½·(x − mean of the neighbours); p3 = c0·x + c1·p1 (x for fixed vertices). */
function firstPass(
  off: Int32Array,
  adj: Int32Array,
  type: Uint8Array,
  p0: Float32Array,
  p1: Float32Array,
  p3: Float32Array,
  c0: number,
  c1: number,
): void {
  const n = type.length
  for (let i = 0; i < n; i++) {
    const a = off[i]!
    const e = off[i + 1]!
    const npts = e - a
    const q = 3 * i
    const x = p0[q]!
    const y = p0[q + 1]!
    const z = p0[q + 2]!
    if (npts > 0) {
      let dx = 0
      let dy = 0
      let dz = 0
      for (let j = a; j < e; j++) {
        const r = 3 * adj[j]!
        dx += (x - p0[r]!) / npts
        dy += (y - p0[r + 1]!) / npts
        dz += (z - p0[r + 2]!) / npts
      }
      dx = x - 0.5 * dx
      dy = y - 0.5 * dy
      dz = z - 0.5 * dz
      p1[q] = dx
      p1[q + 1] = dy
      p1[q + 2] = dz
      if (type[i] === FIXED) {
        p3[q] = x
        p3[q + 1] = y
        p3[q + 2] = z
      } else {
        p3[q] = c0 * x + c1 * dx
        p3[q + 1] = c0 * y + c1 * dy
        p3[q + 2] = c0 * z + c1 * dz
      }
    } else {
      p1[q] = 0
      p1[q + 1] = 0
      p1[q + 2] = 0
      p3[q] = x
      p3[q + 1] = y
      p3[q + 2] = z
    }
  }
}

/** One Chebyshev step: x2 = 2·x1 − x0 − (x1 − mean of the neighbours' x1); p3 += c·x2. */
function chebyshevPass(
  off: Int32Array,
  adj: Int32Array,
  type: Uint8Array,
  x0: Float32Array,
  x1: Float32Array,
  x2: Float32Array,
  p3: Float32Array,
  c: number,
): void {
  const n = type.length
  for (let i = 0; i < n; i++) {
    const a = off[i]!
    const e = off[i + 1]!
    const npts = e - a
    const q = 3 * i
    if (npts > 0) {
      const x = x1[q]!
      const y = x1[q + 1]!
      const z = x1[q + 2]!
      let dx = 0
      let dy = 0
      let dz = 0
      for (let j = a; j < e; j++) {
        const r = 3 * adj[j]!
        dx += (x - x1[r]!) / npts
        dy += (y - x1[r + 1]!) / npts
        dz += (z - x1[r + 2]!) / npts
      }
      dx = x - x0[q]! + x - dx
      dy = y - x0[q + 1]! + y - dy
      dz = z - x0[q + 2]! + z - dz
      x2[q] = dx
      x2[q + 1] = dy
      x2[q + 2] = dz
      if (type[i] !== FIXED) {
        p3[q] = p3[q]! + c * dx
        p3[q + 1] = p3[q + 1]! + c * dy
        p3[q + 2] = p3[q + 2]! + c * dz
      }
    } else {
      x1[q] = 0
      x1[q + 1] = 0
      x1[q + 2] = 0
      x2[q] = 0
      x2[q + 1] = 0
      x2[q + 2] = 0
    }
  }
}

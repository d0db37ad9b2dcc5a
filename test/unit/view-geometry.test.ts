/**
 * The slice views' geometry (renderer/src/app/view-geometry.ts, no DOM): orientation letters for
 * identity, flipped, permuted and oblique directions, the radiological display convention, the
 * screen ↔ LPS ↔ voxel mappings, and over all 48 signed permutations that each edge letter
 * names the LPS direction of its screen axis.
 *
 * LPS: +x Left, +y Posterior, +z Superior. Display convention (radiological): axial seen from the
 * feet (patient's right on the screen's left, anterior up), coronal from the front (right on the
 * left, superior up), sagittal from the patient's left (anterior on the left, superior up).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Mat3, Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import {
  sliceIndex,
  sliceStepMm,
  PATIENT_FRAMES,
  VIEW_NAMES,
  add,
  column,
  cross,
  directionLetters,
  viewFromName,
  dot,
  edgeLetters,
  gridTransform,
  scale,
  sub,
  viewFrame,
  type Alignment,
  type ViewFrame,
  type ViewName,
} from '../../renderer/src/app/view-geometry.js'
import { signedPermutations } from '../helpers.js'

/** A RAS-stored NIfTI with an identity direction: i → R, j → A, k → S. */
const RAS_IDENTITY: Mat3 = [-1, 0, 0, 0, -1, 0, 0, 0, 1]
/** `flipped.nii.gz` (test/fixtures/derive_nifti.py): reoriented to PSR. */
const PSR: Mat3 = [0, 0, -1, 1, 0, 0, 0, 1, 0]

const RADIOLOGICAL: Record<ViewName, Record<'left' | 'right' | 'top' | 'bottom', string>> = {
  axial: { left: 'R', right: 'L', top: 'A', bottom: 'P' },
  coronal: { left: 'R', right: 'L', top: 'S', bottom: 'I' },
  sagittal: { left: 'A', right: 'P', top: 'S', bottom: 'I' },
}

function matmul(a: Mat3, b: Mat3): Mat3 {
  const out: number[] = []
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out.push(a[3 * r]! * b[c]! + a[3 * r + 1]! * b[3 + c]! + a[3 * r + 2]! * b[6 + c]!)
    }
  }
  return out as unknown as Mat3
}

const deg = (d: number): number => (d * Math.PI) / 180
const rotX = (a: number): Mat3 => [
  1,
  0,
  0,
  0,
  Math.cos(a),
  -Math.sin(a),
  0,
  Math.sin(a),
  Math.cos(a),
]
const rotY = (a: number): Mat3 => [
  Math.cos(a),
  0,
  Math.sin(a),
  0,
  1,
  0,
  -Math.sin(a),
  0,
  Math.cos(a),
]
const rotZ = (a: number): Mat3 => [
  Math.cos(a),
  -Math.sin(a),
  0,
  Math.sin(a),
  Math.cos(a),
  0,
  0,
  0,
  1,
]

/** `oblique.nii.gz`: RAS affine Rz(15°)·Rx(20°)·diag(+), in LPS. */
const OBLIQUE: Mat3 = matmul(RAS_IDENTITY, matmul(rotZ(deg(15)), rotX(deg(20))))

const voxelAxisLetters = (d: Mat3): string[] => [0, 1, 2].map((c) => directionLetters(column(d, c)))

function close(a: readonly number[], b: readonly number[], eps = 1e-9): boolean {
  return a.every((x, n) => Math.abs(x - b[n]!) <= eps)
}

/** The single patient letter of an axis-aligned unit vector, computed independently. */
function axisLetter(v: Vec3): string {
  const a = [0, 1, 2].find((c) => v[c] !== 0)!
  const positive = v[a]! > 0
  return (positive ? ['L', 'P', 'S'] : ['R', 'A', 'I'])[a]!
}

function assertOrthonormalRightHanded(f: ViewFrame): void {
  assert.ok(Math.abs(dot(f.right, f.right) - 1) < 1e-12)
  assert.ok(Math.abs(dot(f.down, f.down) - 1) < 1e-12)
  assert.ok(Math.abs(dot(f.right, f.down)) < 1e-12)
  assert.ok(close(f.normal, cross(f.right, f.down), 1e-12))
}

test('LPS basics: +x is L, +y is P, +z is S; the opposite ends are R, A, I', () => {
  assert.equal(directionLetters([1, 0, 0]), 'L')
  assert.equal(directionLetters([0, 1, 0]), 'P')
  assert.equal(directionLetters([0, 0, 1]), 'S')
  assert.equal(directionLetters([-1, 0, 0]), 'R')
  assert.equal(directionLetters([0, -1, 0]), 'A')
  assert.equal(directionLetters([0, 0, -1]), 'I')
  // oblique: dominant letter first, then components of at least 0.3
  assert.equal(directionLetters([0.8, -0.6, 0]), 'LA')
  assert.equal(directionLetters([0.97, 0.26, 0]), 'L')
  assert.equal(directionLetters([-0.24, 0.91, -0.34]), 'PI')
  assert.equal(directionLetters([0.97, 0.26, 0], 0.25), 'LP')
})

test('radiological convention in patient alignment: right on the left, anterior/superior up', () => {
  for (const view of VIEW_NAMES) {
    for (const d of [RAS_IDENTITY, PSR, OBLIQUE]) {
      const f = viewFrame(view, 'patient', d)
      assertOrthonormalRightHanded(f)
      assert.deepEqual(edgeLetters(f), RADIOLOGICAL[view], `${view}, direction ${d.join(',')}`)
    }
  }
  // where the viewer stands: the normal points away from them
  const normal = (v: ViewName): Vec3 => viewFrame(v, 'patient', RAS_IDENTITY).normal
  assert.ok(close(normal('axial'), [0, 0, 1]), 'axial is seen from the feet')
  assert.ok(close(normal('coronal'), [0, 1, 0]), 'coronal is seen from the front')
  assert.ok(close(normal('sagittal'), [-1, 0, 0]), "sagittal is seen from the patient's left")
  // screen +x goes to the patient's left in axial and coronal, posterior in sagittal
  assert.deepEqual(PATIENT_FRAMES.axial.right, [1, 0, 0])
  assert.deepEqual(PATIENT_FRAMES.sagittal.right, [0, 1, 0])
})

test('identity (RAS-stored NIfTI): voxel axes i→R j→A k→S; acquisition = patient frames', () => {
  assert.deepEqual(voxelAxisLetters(RAS_IDENTITY), ['R', 'A', 'S'])
  for (const view of VIEW_NAMES) {
    const acq = viewFrame(view, 'acquisition', RAS_IDENTITY)
    const pat = viewFrame(view, 'patient', RAS_IDENTITY)
    assert.ok(close(acq.right, pat.right) && close(acq.down, pat.down), view)
    assert.deepEqual(edgeLetters(acq), RADIOLOGICAL[view])
  }
})

test('flipped and permuted (PSR): i→P j→S k→R; letters stay in their places in both modes', () => {
  assert.deepEqual(voxelAxisLetters(PSR), ['P', 'S', 'R'])
  for (const view of VIEW_NAMES) {
    for (const alignment of ['patient', 'acquisition'] as const) {
      assert.deepEqual(edgeLetters(viewFrame(view, alignment, PSR)), RADIOLOGICAL[view])
    }
  }
  // the axial slice steps along j (the voxel axis closest to S) in acquisition mode
  const axial = viewFrame('axial', 'acquisition', PSR)
  assert.ok(close(axial.normal, column(PSR, 1)))
  // a flip alone (i → L) changes the voxel letters, not the view letters
  const flippedI: Mat3 = [1, 0, 0, 0, -1, 0, 0, 0, 1]
  assert.deepEqual(voxelAxisLetters(flippedI), ['L', 'A', 'S'])
  assert.deepEqual(edgeLetters(viewFrame('axial', 'acquisition', flippedI)), RADIOLOGICAL.axial)
})

test('oblique (Rz 15°·Rx 20°): acquisition letters follow the tilted voxel axes', () => {
  assert.deepEqual(voxelAxisLetters(OBLIQUE), ['R', 'AS', 'SP'])
  assert.deepEqual(edgeLetters(viewFrame('axial', 'acquisition', OBLIQUE)), {
    left: 'R',
    right: 'L',
    top: 'AS',
    bottom: 'PI',
  })
  assert.deepEqual(edgeLetters(viewFrame('coronal', 'acquisition', OBLIQUE)), {
    left: 'R',
    right: 'L',
    top: 'SP',
    bottom: 'IA',
  })
  for (const view of VIEW_NAMES) {
    const f = viewFrame(view, 'acquisition', OBLIQUE)
    assertOrthonormalRightHanded(f)
    // each screen axis is a (signed) voxel axis
    for (const axis of [f.right, f.down]) {
      assert.ok(
        [0, 1, 2].some((c) => Math.abs(Math.abs(dot(axis, column(OBLIQUE, c))) - 1) < 1e-12),
      )
    }
  }
})

test('48 signed permutations: every edge letter names the LPS direction of its screen axis', () => {
  const perms = signedPermutations()
  assert.equal(perms.length, 48)
  const seen = new Set<string>()
  for (const d of perms) {
    seen.add(voxelAxisLetters(d).join(''))
    // the header's voxel letters name the LPS direction of each voxel axis
    for (let c = 0; c < 3; c++) assert.equal(voxelAxisLetters(d)[c], axisLetter(column(d, c)))
    for (const view of VIEW_NAMES) {
      for (const alignment of ['patient', 'acquisition'] as Alignment[]) {
        const f = viewFrame(view, alignment, d)
        assertOrthonormalRightHanded(f)
        const l = edgeLetters(f)
        const where = `${view} ${alignment} ${d.join(',')}`
        assert.equal(l.right, axisLetter(f.right), where)
        assert.equal(l.left, axisLetter(scale(f.right, -1)), where)
        assert.equal(l.bottom, axisLetter(f.down), where)
        assert.equal(l.top, axisLetter(scale(f.down, -1)), where)
        // axis-aligned volumes are shown the same way in both modes: radiologically
        assert.deepEqual(l, RADIOLOGICAL[view], where)
        if (alignment === 'acquisition') {
          assert.ok(
            [0, 1, 2].some(
              (c) => close(f.normal, column(d, c)) || close(f.normal, scale(column(d, c), -1)),
            ),
            `${where}: the slice normal is a voxel axis`,
          )
        }
      }
    }
  }
  assert.equal(seen.size, 48, 'the 48 orientations have 48 distinct voxel-letter triples')
})

/** Screen pixel (x, y) of a w×h view at `mmPerPx` around `centre` ↔ LPS, as slice-view.ts. */
const screenToLPS =
  (f: ViewFrame, centre: Vec3, mmPerPx: number, w: number, h: number) =>
  (x: number, y: number): Vec3 =>
    add(centre, add(scale(f.right, (x - w / 2) * mmPerPx), scale(f.down, (y - h / 2) * mmPerPx)))
const lpsToScreen =
  (f: ViewFrame, centre: Vec3, mmPerPx: number, w: number, h: number) =>
  (p: Vec3): [number, number] => {
    const d = sub(p, centre)
    return [w / 2 + dot(d, f.right) / mmPerPx, h / 2 + dot(d, f.down) / mmPerPx]
  }

const unitAngles = fc.tuple(
  fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
  fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
  fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
)
const rotation = ([a, b, c]: [number, number, number]): Mat3 =>
  matmul(rotZ(a), matmul(rotY(b), rotX(c)))

test('screen ↔ LPS round trip, and on-plane points keep the slice position (any direction)', () => {
  fc.assert(
    fc.property(
      unitAngles,
      fc.constantFrom(...VIEW_NAMES),
      fc.constantFrom<Alignment>('patient', 'acquisition'),
      fc.double({ min: 0.05, max: 5, noNaN: true }),
      fc.integer({ min: -500, max: 1500 }),
      fc.integer({ min: -500, max: 1500 }),
      (angles, view, alignment, mmPerPx, x, y) => {
        const f = viewFrame(view, alignment, rotation(angles))
        const centre: Vec3 = [12.5, -40, 7]
        const [w, h] = [640, 480]
        const p = screenToLPS(f, centre, mmPerPx, w, h)(x, y)
        const [x2, y2] = lpsToScreen(f, centre, mmPerPx, w, h)(p)
        assert.ok(Math.abs(x2 - x) < 1e-6 && Math.abs(y2 - y) < 1e-6, `${x},${y} → ${x2},${y2}`)
        assert.ok(Math.abs(dot(sub(p, centre), f.normal)) < 1e-9, 'left the slice plane')
        // screen right/down move the point towards the letters shown on the right/bottom edge
        const q = screenToLPS(f, centre, mmPerPx, w, h)(x + 1, y + 1)
        assert.ok(dot(sub(q, p), f.right) > 0 && dot(sub(q, p), f.down) > 0)
      },
    ),
    { numRuns: 300 },
  )
})

test('voxel index ↔ LPS round trip for oblique, flipped and anisotropic grids', () => {
  fc.assert(
    fc.property(
      unitAngles,
      fc.constantFrom(...signedPermutations()),
      fc.tuple(
        fc.double({ min: 0.2, max: 5, noNaN: true }),
        fc.double({ min: 0.2, max: 5, noNaN: true }),
        fc.double({ min: 0.2, max: 5, noNaN: true }),
      ),
      fc.tuple(
        fc.double({ min: -300, max: 300, noNaN: true }),
        fc.double({ min: -300, max: 300, noNaN: true }),
        fc.double({ min: -300, max: 300, noNaN: true }),
      ),
      fc.tuple(
        fc.double({ min: -10, max: 600, noNaN: true }),
        fc.double({ min: -10, max: 600, noNaN: true }),
        fc.double({ min: -10, max: 600, noNaN: true }),
      ),
      (angles, perm, spacingMm, originLPS, ijk) => {
        const g: VolumeGeometry = {
          sizeIJK: [512, 512, 300],
          spacingMm,
          originLPS,
          directionLPS: matmul(rotation(angles), perm),
        }
        const t = gridTransform(g)
        const p = t.toLPS(ijk)
        assert.ok(close(t.toIJK(p), ijk, 1e-7), `${ijk.join(',')} → ${t.toIJK(p).join(',')}`)
        // one voxel step along i moves spacing[0] mm along the first direction column
        const step = sub(t.toLPS([ijk[0] + 1, ijk[1], ijk[2]]), p)
        assert.ok(close(step, scale(column(g.directionLPS, 0), spacingMm[0]), 1e-9))
      },
    ),
    { numRuns: 300 },
  )
})

test('sliceStepMm: one slice of a 7 mm series is 7 mm; oblique views never skip a voxel', () => {
  const g: VolumeGeometry = {
    sizeIJK: [64, 64, 20],
    spacingMm: [0.9, 0.9, 7],
    originLPS: [0, 0, 0],
    directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  }
  assert.equal(sliceStepMm(g, [0, 0, 1]), 7)
  assert.equal(sliceStepMm(g, [0, 0, -1]), 7)
  assert.equal(sliceStepMm(g, [0, 1, 0]), 0.9)
  // 45° between j (0.9 mm) and k (7 mm): one voxel of j is 0.9 / cos 45° along the normal
  const n45: Vec3 = [0, Math.SQRT1_2, Math.SQRT1_2]
  assert.ok(Math.abs(sliceStepMm(g, n45) - 0.9 * Math.SQRT2) < 1e-9)
  // the counter: k index + 1 of 20, clamped to the grid
  assert.deepEqual(sliceIndex(g, [0, 0, 1], [10, 10, 7 * 11]), { index: 12, count: 20 })
  assert.deepEqual(sliceIndex(g, [0, 0, 1], [10, 10, -50]), { index: 1, count: 20 })
  assert.deepEqual(sliceIndex(g, [0, 0, 1], [10, 10, 1e4]), { index: 20, count: 20 })
})

test('3-D view names follow the camera: anterior, left, superior, then oblique', () => {
  // The camera position minus the focal point, LPS: anterior is −y.
  assert.equal(viewFromName([0, -500, 0]), 'anterior view')
  assert.equal(viewFromName([0, 3, 0]), 'posterior view')
  assert.equal(viewFromName([10, 0, 0]), 'left view')
  assert.equal(viewFromName([-1, 0, 0]), 'right view')
  assert.equal(viewFromName([0, 0, 2]), 'superior view')
  assert.equal(viewFromName([0, 0, -2]), 'inferior view')
  // 15° off anterior still reads anterior; 45° towards the right is oblique, from AR.
  const r15 = (15 * Math.PI) / 180
  assert.equal(viewFromName([-Math.sin(r15), -Math.cos(r15), 0]), 'anterior view')
  assert.equal(viewFromName([-1, -1.01, 0]), 'oblique view from AR')
  assert.equal(viewFromName([0, 0, 0]), 'view')
})

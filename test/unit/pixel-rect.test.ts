/**
 * Partial redraw after an edit (renderer/src/views/pixel-rect.ts, renderer/src/app/edit-extent.ts):
 * the rectangle a view redraws holds every pixel that samples an edited voxel — checked pixel by
 * pixel against the sampling rule of the slice views (nearest voxel of the pixel's LPS point), on
 * an axis-aligned and an oblique, anisotropic grid — and a plane that misses the box redraws
 * nothing; the recent-edit log merges boxes and falls back to a full redraw when it must.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Mat3, Vec3, VolumeGeometry } from '../../src/shared/geometry.js'
import type { IndexBox } from '../../src/core/segmentation/label-volume.js'
import {
  add,
  centreLPS,
  gridTransform,
  scale,
  viewFrame,
  type ViewName,
} from '../../renderer/src/app/view-geometry.js'
import { firstPixelLPS, pixelRectOfBox } from '../../renderer/src/views/pixel-rect.js'
import {
  editedSince,
  nextEdit,
  NO_VOXELS,
  RECENT_EDITS,
} from '../../renderer/src/app/edit-extent.js'

function rotation(degZ: number, degX: number): Mat3 {
  const [z, x] = [(degZ * Math.PI) / 180, (degX * Math.PI) / 180]
  const rz = [Math.cos(z), -Math.sin(z), 0, Math.sin(z), Math.cos(z), 0, 0, 0, 1]
  const rx = [1, 0, 0, 0, Math.cos(x), -Math.sin(x), 0, Math.sin(x), Math.cos(x)]
  const m = new Array<number>(9).fill(0)
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < 3; k++) m[3 * r + c]! += rz[3 * r + k]! * rx[3 * k + c]!
    }
  }
  return m as unknown as Mat3
}

const GRIDS: Record<string, VolumeGeometry> = {
  identity: {
    sizeIJK: [40, 36, 30],
    spacingMm: [1, 1, 1],
    originLPS: [0, 0, 0],
    directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  },
  'oblique, anisotropic': {
    sizeIJK: [40, 36, 30],
    spacingMm: [0.8, 1.1, 2.5],
    originLPS: [-12, 7, 30],
    directionLPS: rotation(15, 20),
  },
}

/** The voxel pixel (x, y) samples, as the slice views sample (nearest voxel of its LPS point). */
function sampled(g: ReturnType<typeof gridTransform>, p: Vec3): Vec3 {
  return g.toIJK(p).map((c) => Math.floor(c + 0.5)) as unknown as Vec3
}

const inBox = (v: Vec3, b: IndexBox): boolean =>
  v[0] >= b[0] && v[1] >= b[1] && v[2] >= b[2] && v[0] < b[3] && v[1] < b[4] && v[2] < b[5]

for (const [name, geometry] of Object.entries(GRIDS)) {
  for (const alignment of ['patient', 'acquisition'] as const) {
    test(`${name}, ${alignment}: the redrawn rectangle holds every pixel of the edited voxels`, () => {
      const g = gridTransform(geometry)
      const box: IndexBox = [14, 10, 12, 21, 17, 16]
      const [w, h, pxMm] = [90, 80, 0.7]
      let checked = 0
      for (const view of ['axial', 'coronal', 'sagittal'] as ViewName[]) {
        const f = viewFrame(view, alignment, geometry.directionLPS)
        // the view centred on the box's middle voxel: its plane crosses the box
        const centre = g.toLPS([17, 13, 14])
        const p0 = firstPixelLPS(centre, f, pxMm, w, h)
        const rect = pixelRectOfBox(g, f, p0, pxMm, w, h, box, 0)
        assert.notEqual(rect, 'none', view)
        if (rect === 'none') continue
        let hits = 0
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const p = add(p0, add(scale(f.right, x * pxMm), scale(f.down, y * pxMm)))
            if (!inBox(sampled(g, p), box)) continue
            hits++
            assert.ok(
              x >= rect.x0 && x < rect.x1 && y >= rect.y0 && y < rect.y1,
              `${view}: pixel (${x}, ${y}) shows an edited voxel outside ${JSON.stringify(rect)}`,
            )
          }
        }
        assert.ok(hits > 0, `${view}: the plane shows the box`)
        // and the rectangle is small: a fraction of the view, not all of it
        assert.ok((rect.x1 - rect.x0) * (rect.y1 - rect.y0) < 0.5 * w * h, `${view} rect size`)
        checked++
        // a plane 10 voxels beyond the box's far side misses it: nothing to redraw
        const far = add(centre, scale(f.normal, 10 * Math.max(...geometry.spacingMm) + 20))
        const miss = pixelRectOfBox(g, f, firstPixelLPS(far, f, pxMm, w, h), pxMm, w, h, box, 0)
        assert.equal(miss, 'none', `${view}: a plane beyond the box`)
      }
      assert.equal(checked, 3)
    })
  }
}

test('padding grows the rectangle, clipped to the canvas; an empty box redraws nothing', () => {
  const geometry = GRIDS.identity!
  const g = gridTransform(geometry)
  const f = viewFrame('axial', 'patient', geometry.directionLPS)
  const p0 = firstPixelLPS(centreLPS(geometry), f, 1, 40, 36)
  const tight = pixelRectOfBox(g, f, p0, 1, 40, 36, [10, 10, 14, 12, 12, 16], 0)
  const padded = pixelRectOfBox(g, f, p0, 1, 40, 36, [10, 10, 14, 12, 12, 16], 3)
  assert.ok(tight !== 'none' && padded !== 'none')
  assert.deepEqual(
    [padded.x0, padded.y0, padded.x1, padded.y1],
    [tight.x0 - 3, tight.y0 - 3, tight.x1 + 3, tight.y1 + 3],
  )
  const edge = pixelRectOfBox(g, f, p0, 1, 40, 36, [0, 0, 14, 40, 36, 16], 5)
  assert.deepEqual(edge, { x0: 0, y0: 0, x1: 40, y1: 36 }, 'clipped to the canvas')
  assert.equal(pixelRectOfBox(g, f, p0, 1, 40, 36, [5, 5, 5, 5, 9, 9], 2), 'none')
})

test('recent edits: boxes since a version merge; unknown or too old means all; none is empty', () => {
  let st = { editVersion: 0, recentEdits: [] as ReturnType<typeof nextEdit>['recentEdits'] }
  st = nextEdit(st, [1, 2, 3, 4, 5, 6])
  st = nextEdit(st, NO_VOXELS)
  st = nextEdit(st, [0, 4, 5, 2, 9, 7])
  assert.deepEqual(editedSince(st.recentEdits, 0, 3), [0, 2, 3, 4, 9, 7])
  assert.deepEqual(editedSince(st.recentEdits, 1, 2), NO_VOXELS, 'a status change: no voxel')
  assert.deepEqual(editedSince(st.recentEdits, 3, 3), NO_VOXELS, 'nothing since')
  st = nextEdit(st, 'all')
  assert.equal(editedSince(st.recentEdits, 2, 4), 'all')
  for (let n = 0; n < RECENT_EDITS + 5; n++) st = nextEdit(st, [0, 0, 0, 1, 1, 1])
  assert.equal(st.recentEdits.length, RECENT_EDITS, 'bounded')
  assert.equal(editedSince(st.recentEdits, 4, st.editVersion), 'all', 'too far behind')
  assert.deepEqual(
    editedSince(st.recentEdits, st.editVersion - 3, st.editVersion),
    [0, 0, 0, 1, 1, 1],
  )
})

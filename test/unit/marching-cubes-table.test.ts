// The root tsconfig does not include renderer/src/types.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../renderer/src/types/vtk-untyped.d.ts" />
import assert from 'node:assert/strict'
import { test } from 'node:test'
import caseTable from '@kitware/vtk.js/Filters/General/ImageMarchingCubes/caseTable.js'
import { EDGES, MARCHING_CUBE_CASES } from '../../src/core/segmentation/marching-cubes-table.js'

test('the core marching-cubes table is vtk.js ImageMarchingCubes caseTable', () => {
  for (let c = 0; c < 256; c++) {
    const theirs = (caseTable.getCase(c) as number[]).filter((e) => e >= 0)
    assert.deepEqual(MARCHING_CUBE_CASES[c], theirs, `case ${c}`)
  }
  for (let e = 0; e < 12; e++) assert.deepEqual(EDGES[e], caseTable.getEdge(e), `edge ${e}`)
})

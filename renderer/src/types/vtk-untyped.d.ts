/**
 * Types for the vtk.js modules we use that ship no declarations. Only what we call, typed from
 * the sources in node_modules/@kitware/vtk.js (v37).
 */
declare module '@kitware/vtk.js/Filters/General/ImageMarchingCubes/caseTable.js' {
  /** Triangles per marching-cubes case (edge ids, -1 terminated) and the corner pair per edge. */
  const caseTable: {
    getCase(index: number): readonly number[]
    getEdge(edge: number): readonly [number, number]
  }
  export default caseTable
}

/**
 * The vtk.js modules the viewer bench loads in Node (by their `.js` paths, which Node's resolver
 * needs), typed only as far as node-surfaces.ts uses them.
 */
declare module '@kitware/vtk.js/Common/Core/DataArray.js' {
  interface VtkDataArray {
    getData(): Float32Array | Uint32Array
  }
  const vtkDataArray: {
    newInstance(init: { numberOfComponents: number; values: Uint8Array }): VtkDataArray
  }
  export default vtkDataArray
}

declare module '@kitware/vtk.js/Common/DataModel/ImageData.js' {
  interface VtkImageData {
    setDimensions(i: number, j: number, k: number): void
    setSpacing(s: readonly number[]): void
    setOrigin(o: readonly number[]): void
    getPointData(): { setScalars(a: unknown): void }
    delete(): void
  }
  const vtkImageData: { newInstance(): VtkImageData }
  export default vtkImageData
}

declare module '@kitware/vtk.js/Filters/General/ImageMarchingCubes.js' {
  interface VtkPolyDataLike {
    getPoints(): { getData(): Float32Array; getNumberOfPoints(): number }
    getPolys(): { getData(): Uint32Array; getNumberOfCells(): number }
  }
  interface VtkImageMarchingCubes {
    setInputData(image: unknown): void
    getOutputData(): VtkPolyDataLike
    delete(): void
  }
  const vtkImageMarchingCubes: {
    newInstance(init: {
      contourValue: number
      computeNormals: boolean
      mergePoints: boolean
    }): VtkImageMarchingCubes
  }
  export default vtkImageMarchingCubes
}

declare module '@kitware/vtk.js/Filters/General/WindowedSincPolyDataFilter.js' {
  interface VtkWindowedSinc {
    setInputData(poly: unknown): void
    getOutputData(): { getPoints(): { getData(): Float32Array } }
    delete(): void
  }
  const vtkWindowedSincPolyDataFilter: {
    newInstance(init: {
      numberOfIterations: number
      passBand: number
      normalizeCoordinates: number
      nonManifoldSmoothing: number
    }): VtkWindowedSinc
  }
  export default vtkWindowedSincPolyDataFilter
}

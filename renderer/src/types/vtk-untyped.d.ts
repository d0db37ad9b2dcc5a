/**
 * Types for the vtk.js modules we use that ship no declarations. Only what we call, typed from
 * the sources in node_modules/@kitware/vtk.js (v37).
 */
declare module '@kitware/vtk.js/Filters/General/ImageMarchingCubes' {
  import type { vtkAlgorithm, vtkObject } from '@kitware/vtk.js/interfaces'
  import type vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData'
  import type vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData'

  export interface vtkImageMarchingCubes extends vtkObject, vtkAlgorithm {
    setInputData(data: vtkImageData): void
    getOutputData(): vtkPolyData
    setContourValue(v: number): boolean
    setComputeNormals(v: boolean): boolean
    setMergePoints(v: boolean): boolean
  }
  const vtkImageMarchingCubes: {
    newInstance(initial?: {
      contourValue?: number
      computeNormals?: boolean
      mergePoints?: boolean
    }): vtkImageMarchingCubes
  }
  export default vtkImageMarchingCubes
}

declare module '@kitware/vtk.js/Filters/General/WindowedSincPolyDataFilter' {
  import type { vtkAlgorithm, vtkObject } from '@kitware/vtk.js/interfaces'
  import type vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData'

  export interface vtkWindowedSincPolyDataFilter extends vtkObject, vtkAlgorithm {
    setInputData(data: vtkPolyData): void
    getOutputData(): vtkPolyData
  }
  const vtkWindowedSincPolyDataFilter: {
    newInstance(initial?: {
      numberOfIterations?: number
      passBand?: number
      featureAngle?: number
      boundarySmoothing?: number
      nonManifoldSmoothing?: number
      normalizeCoordinates?: number
    }): vtkWindowedSincPolyDataFilter
  }
  export default vtkWindowedSincPolyDataFilter
}

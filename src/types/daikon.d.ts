// Minimal typing for the parts of daikon (CommonJS, untyped) that src/io/dicom uses.
declare module 'daikon' {
  interface DaikonTag {
    value: unknown
    offsetStart: number
    offsetValue: number
    offsetEnd: number
  }
  interface DaikonImage {
    tags: Record<string, DaikonTag | undefined>
    inflated?: unknown
    getRows(): number | null
    getCols(): number | null
    getSeriesDescription(): string | null
    getSeriesInstanceUID(): string | null
    getSeriesNumber(): number | null
    getEchoNumber(): number | null
    getTemporalPosition(): number | null
    getImagePosition(): number[] | null
    getImageDirections(): number[] | null
    getPixelSpacing(): number[] | null
    getSliceThickness(): number | null
    getDataScaleSlope(): number | null
    getDataScaleIntercept(): number | null
    getBitsAllocated(): number | null
    getBitsStored(): number | null
    getPixelRepresentation(): number | null
    getNumberOfFrames(): number | null
    getNumberOfSamplesPerPixel(): number | null
    getModality(): string | null
    getTransferSyntax(): string | null
    getPixelData(): DaikonTag | undefined
  }
  interface DaikonSeriesStatic {
    parseImage(data: DataView): DaikonImage | null
    parserError: { message?: string } | string | null
  }
  const daikon: { Series: DaikonSeriesStatic }
  export default daikon
}

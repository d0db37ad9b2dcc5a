/* eslint-disable @typescript-eslint/no-explicit-any */
// Minimal typing for the parts of dcmjs (untyped) that src/io/export uses. Datasets are
// "naturalized": attribute keywords as keys, sequences as arrays (or one object).
declare module 'dcmjs' {
  /** A naturalized DICOM dataset. */
  export type NaturalDataset = Record<string, any>
  export const data: {
    DicomMessage: {
      readFile(
        buffer: ArrayBuffer,
        options?: Record<string, unknown>,
      ): {
        dict: Record<string, unknown>
        meta: Record<string, unknown>
      }
    }
    DicomMetaDictionary: {
      /** Keyword → dictionary entry, e.g. `{ tag: '(0020,0032)', vr: 'DS', vm: '3' }`. */
      nameMap: Record<string, { tag: string; vr: string; vm: string } | undefined>
      naturalizeDataset(dict: Record<string, unknown>): NaturalDataset
      namifyDataset(dict: Record<string, unknown>): NaturalDataset
      uid(): string
      date(): string
      time(): string
    }
    datasetToBuffer(dataset: NaturalDataset): Buffer
    ValueRepresentation: {
      createByTypeString(vr: string): { convertToString(value: unknown): string }
    }
  }
  export const normalizers: {
    Normalizer: { normalizeToDataset(datasets: NaturalDataset[]): NaturalDataset | undefined }
  }
  export const derivations: {
    Segmentation: new (
      datasets: NaturalDataset[],
      options?: { includeSliceSpacing?: boolean },
    ) => {
      dataset: NaturalDataset
      setNumberOfFrames(n: number): void
      addSegmentFromLabelmap(
        segment: NaturalDataset,
        labelmaps: ArrayLike<number>[],
        segmentIndexInLabelmap: number,
        referencedFrameNumbers: number[],
      ): void
      bitPackPixelData(): void
    }
  }
  export const log: { setLevel(level: string): void }
  const dcmjs: {
    data: typeof data & { Colors: { rgb2DICOMLAB(rgb01: number[]): number[] } }
    normalizers: typeof normalizers
    derivations: typeof derivations
    log: typeof log
  }
  export default dcmjs
}

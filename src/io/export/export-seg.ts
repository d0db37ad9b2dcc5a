/**
 * DICOM Segmentation (SEG) export with dcmjs: a BINARY segmentation of the source series, one
 * segment per label, only non-empty frames, each frame referencing the source instance at its
 * plane, in the source's Frame of Reference.
 *
 * Frame → plane mapping: dcmjs' normalizer re-sorts the source images (e.g. superior to inferior)
 * before the SEG is derived from it, and `dciodvfy` cannot see a frame assigned to the wrong
 * plane (issue 17's probe). So the voxel slice of each frame is found from the normalized
 * dataset's own per-frame ImagePositionPatient, projected on our grid (LPS mm), never from the
 * order the files were given in; and each frame's source-instance reference is set from our
 * instance at that plane. The written file is re-read with dcmjs and its frames placed by plane
 * position: its voxels must be exactly the label map's before it is published.
 *
 * Speed (issue 17: SEG ÷ NIfTI write time ≤ 3): dcmjs builds the dataset and writes its small
 * elements, but the per-frame functional groups and the pixel data are encoded by seg-encode.ts
 * (dcmjs' writer took ~70 µs an element, most of the time); the bits are packed from the labels
 * in one pass; the re-read check counts instead of building a second label map.
 */
import { readFile } from 'node:fs/promises'
import dcmjs, { type NaturalDataset } from 'dcmjs'
import { AppError } from '../../shared/errors.js'
import type { Vec3, VolumeGeometry } from '../../shared/geometry.js'
import { affineLPS } from '../../core/geometry/affine.js'
import type { LabelArray } from '../../core/segmentation/label-volume.js'
import { publish, type ExportSink } from './export-files.js'
import { segFileBytes } from './seg-encode.js'

dcmjs.log.setLevel('error')

/** DICOM SEG SOP Class. */
export const SEG_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.66.4'

/** The transfer syntax every SEG is written in. */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1'

/** Largest distance (in voxels) between a frame's plane and the grid slice it is put on. */
const PLANE_TOLERANCE_VOXELS = 0.05

/** Attributes dcmjs' derivation copies from an enhanced MR/CT image that a SEG does not have. */
const NOT_IN_SEG = [
  'FrameType',
  'PixelPresentation',
  'VolumetricProperties',
  'VolumeBasedCalculationTechnique',
  'ComplexImageComponent',
  'AcquisitionContrast',
]

/** The source series as dcmjs reads it: one naturalized dataset per file, pixel data dropped. */
export interface DicomSourceSeries {
  /** Datasets in our voxel k order (the order the reader stacked the files in). */
  readonly datasets: readonly NaturalDataset[]
  readonly files: readonly string[]
}

/** Reads the headers of `files` (k order) with dcmjs; pixel data is not kept. */
export async function readDicomSeries(files: readonly string[]): Promise<DicomSourceSeries> {
  const datasets: NaturalDataset[] = []
  for (const f of files) {
    const buf = await readFile(f)
    let ds: NaturalDataset
    try {
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
      const msg = dcmjs.data.DicomMessage.readFile(ab, { untilTag: '7FE00010' })
      ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(msg.dict)
      ds._meta = dcmjs.data.DicomMetaDictionary.namifyDataset(msg.meta)
    } catch (e) {
      throw new AppError(
        'E_DECODE',
        `dcmjs could not read this DICOM file: ${(e as Error).message}`,
        {
          file: f,
        },
      )
    }
    delete ds.PixelData
    datasets.push(ds)
  }
  return { datasets, files }
}

/** Study/series/frame-of-reference and per-k instance UIDs of the source. */
export function dicomSourceUIDs(s: DicomSourceSeries): {
  studyInstanceUID: string
  seriesInstanceUID: string
  frameOfReferenceUID?: string
  sopInstanceUIDs: string[]
} {
  const first = s.datasets[0] ?? {}
  return {
    studyInstanceUID: String(first.StudyInstanceUID ?? ''),
    seriesInstanceUID: String(first.SeriesInstanceUID ?? ''),
    ...(first.FrameOfReferenceUID
      ? { frameOfReferenceUID: String(first.FrameOfReferenceUID) }
      : {}),
    sopInstanceUIDs: s.datasets.map((d) => String(d.SOPInstanceUID)),
  }
}

/** One segment of the SEG: a label value and how to describe it. */
export interface SegSegment {
  readonly value: number
  readonly label: string
  readonly description?: string
  readonly colourRGB: readonly [number, number, number]
  readonly algorithmType: 'AUTOMATIC' | 'SEMIAUTOMATIC' | 'MANUAL'
  /** Required unless MANUAL: the model id (or "VolSeg"). */
  readonly algorithmName: string
  readonly algorithmVersion?: string
  /** SNOMED CT concept id of the structure (from the model card), else a generic pair is used. */
  readonly snomed?: string
}

export interface WriteSegOptions {
  readonly sink: ExportSink
  readonly name: string
  readonly source: DicomSourceSeries
  /** The grid the labels are on (the source series as our reader stacked it; LPS mm). */
  readonly geometry: VolumeGeometry
  readonly labels: LabelArray
  readonly segments: readonly SegSegment[]
  readonly seriesDescription: string
  readonly softwareVersion: string
  /** Free text (≤ 1024 chars) put in the SEG's ImageComments: provenance in brief. */
  readonly comments?: string
}

/** What {@link writeSeg} wrote. */
export interface SegWriteReport {
  readonly path: string
  readonly bytes: number
  readonly sha256: string
  readonly frames: number
  readonly check: string
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!

/** A sequence attribute as an array (dcmjs gives one item as an object). */
function items(x: unknown): NaturalDataset[] {
  if (x === undefined || x === null) return []
  return Array.isArray(x) ? (x as NaturalDataset[]) : [x as NaturalDataset]
}

/**
 * Voxel slice k of a plane at `ipp` (LPS mm) with row/column directions `iop`, on `g`; throws
 * E_UNSUPPORTED when the plane is not one of the grid's k slices (other orientation, offset in
 * plane, between slices).
 */
export function sliceOfPlane(
  g: VolumeGeometry,
  ipp: ArrayLike<number>,
  iop: ArrayLike<number>,
): number {
  const A = affineLPS(g)
  const col = (c: number): Vec3 => [A[c]!, A[4 + c]!, A[8 + c]!]
  const d: Vec3 = [ipp[0]! - A[3]!, ipp[1]! - A[7]!, ipp[2]! - A[11]!]
  const unit = (v: Vec3): Vec3 => {
    const n = Math.hypot(...v)
    return [v[0] / n, v[1] / n, v[2] / n]
  }
  const row = [iop[0]!, iop[1]!, iop[2]!]
  const column = [iop[3]!, iop[4]!, iop[5]!]
  if (dot(row, unit(col(0))) < 0.9999 || dot(column, unit(col(1))) < 0.9999) {
    throw new AppError(
      'E_UNSUPPORTED',
      `a source plane's orientation (${Array.from(iop).join('\\')}) is not the grid's i/j axes`,
    )
  }
  // Solve d = A·ijk for the voxel index (columns of A are the grid axes in mm).
  const n = [col(0), col(1), col(2)]
  const g2 = n.map((c) => c.map((x) => x / dot(c, c)))
  // Grid axes are orthogonal for a DICOM stack (tilt is refused before), so projection solves it.
  const ijk = g2.map((c) => dot(d, c))
  const k = Math.round(ijk[2]!)
  if (
    Math.abs(ijk[0]!) > PLANE_TOLERANCE_VOXELS ||
    Math.abs(ijk[1]!) > PLANE_TOLERANCE_VOXELS ||
    Math.abs(ijk[2]! - k) > PLANE_TOLERANCE_VOXELS ||
    k < 0 ||
    k >= g.sizeIJK[2]
  ) {
    throw new AppError(
      'E_UNSUPPORTED',
      `a source plane at ${Array.from(ipp).join('\\')} mm is not a slice of the grid (index ${ijk.map((x) => x.toFixed(3)).join(', ')})`,
    )
  }
  return k
}

/** The normalized multiframe's frames → our k, from its per-frame plane positions. */
function framesToSlices(multiframe: NaturalDataset, g: VolumeGeometry): number[] {
  const shared = items(multiframe.SharedFunctionalGroupsSequence)[0] ?? {}
  const sharedIop = items(shared.PlaneOrientationSequence)[0]?.ImageOrientationPatient as
    number[] | undefined
  return items(multiframe.PerFrameFunctionalGroupsSequence).map((f) => {
    const ipp = items(f.PlanePositionSequence)[0]?.ImagePositionPatient as number[] | undefined
    const iop =
      (items(f.PlaneOrientationSequence)[0]?.ImageOrientationPatient as number[] | undefined) ??
      sharedIop
    if (!ipp || !iop) {
      throw new AppError('E_UNSUPPORTED', 'a normalized source frame has no plane position')
    }
    return sliceOfPlane(g, ipp.map(Number), iop.map(Number))
  })
}

/** Generic codes when the card names no structure (issue 17): SNOMED CT Tissue / Anatomical structure. */
function propertyCodes(s: SegSegment): { category: NaturalDataset; type: NaturalDataset } {
  if (s.snomed !== undefined) {
    return {
      category: {
        CodeValue: '123037004',
        CodingSchemeDesignator: 'SCT',
        CodeMeaning: 'Anatomical Structure',
      },
      type: {
        CodeValue: s.snomed,
        CodingSchemeDesignator: 'SCT',
        CodeMeaning: s.label.slice(0, 64),
      },
    }
  }
  return {
    category: { CodeValue: '85756007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Tissue' },
    type: {
      CodeValue: '91723000',
      CodingSchemeDesignator: 'SCT',
      CodeMeaning: 'Anatomical Structure',
    },
  }
}

function dicomLab(rgb: readonly [number, number, number]): number[] {
  return dcmjs.data.Colors.rgb2DICOMLAB(rgb.map((c) => c / 255)).map((x) =>
    Math.min(65535, Math.max(0, Math.round(x))),
  )
}

/** Builds the SEG dataset (naturalized) and the frame count. Pure apart from new UIDs. */
export function buildSegDataset(o: Omit<WriteSegOptions, 'sink' | 'name'>): {
  dataset: NaturalDataset
  frames: number
  /** Label value of SEG segment number n at index n − 1. */
  segmentValues: number[]
} {
  const [ni, nj, nk] = o.geometry.sizeIJK
  const first = o.source.datasets[0]
  if (!first || o.source.datasets.length !== nk) {
    throw new AppError(
      'E_UNSUPPORTED',
      `the source has ${o.source.datasets.length} DICOM images for ${nk} slices; a SEG needs one image per slice`,
    )
  }
  if (Number(first.Rows) !== nj || Number(first.Columns) !== ni) {
    throw new AppError(
      'E_UNSUPPORTED',
      `the source images are ${first.Columns}×${first.Rows}, the grid ${ni}×${nj}`,
    )
  }
  const multiframe = dcmjs.normalizers.Normalizer.normalizeToDataset(
    o.source.datasets.map((d) => ({ ...d, PixelData: new ArrayBuffer(0) })),
  )
  if (!multiframe) {
    throw new AppError(
      'E_UNSUPPORTED',
      `dcmjs has no normalizer for SOP class ${first.SOPClassUID}`,
    )
  }
  const sliceOfFrame = framesToSlices(multiframe, o.geometry)
  if (new Set(sliceOfFrame).size !== nk) {
    throw new AppError(
      'E_UNSUPPORTED',
      'the normalized source frames do not cover every slice once',
    )
  }
  const plane = ni * nj
  // Which values each slice holds, in one pass over the labels (not one per segment).
  const segCount = o.segments.length
  const indexOf = new Int32Array(o.labels instanceof Uint8Array ? 256 : 65536).fill(-1)
  o.segments.forEach((s, n) => (indexOf[s.value] = n))
  const holds = new Uint8Array(nk * segCount)
  const labels = o.labels
  for (let k = 0, q = 0; k < nk; k++) {
    for (let end = q + plane; q < end; q++) {
      const v = labels[q]!
      if (v === 0) continue
      const n = indexOf[v]!
      if (n >= 0) holds[k * segCount + n] = 1
    }
  }
  // Non-empty slices per segment, in normalized frame order (so frames follow the normalizer).
  const plan = o.segments.map((_, n) => {
    const frames: number[] = []
    for (let f = 0; f < nk; f++) {
      if (holds[sliceOfFrame[f]! * o.segments.length + n]) frames.push(f + 1)
    }
    return frames
  })
  const total = plan.reduce((n, p) => n + p.length, 0)
  if (total === 0) {
    throw new AppError('E_ARGS', 'no voxel of the chosen labels is set: nothing to put in a SEG')
  }
  const seg = new dcmjs.derivations.Segmentation([multiframe], { includeSliceSpacing: true })
  // dcmjs would hold every frame unpacked (a byte per pixel, ~470 MB for 1,800 frames of 512²) and
  // scan each twice; it is given no pixels here (only the frame records are its work), and the
  // bits are packed straight from the labels below, in the frame order its records have.
  seg.dataset.NumberOfFrames = total
  o.segments.forEach((s, n) => {
    const frames = plan[n]!
    if (frames.length === 0) return
    const { category, type } = propertyCodes(s)
    seg.addSegmentFromLabelmap(
      {
        SegmentLabel: s.label.slice(0, 64),
        ...(s.description ? { SegmentDescription: s.description.slice(0, 64) } : {}),
        SegmentAlgorithmType: s.algorithmType,
        ...(s.algorithmType === 'MANUAL'
          ? {}
          : { SegmentAlgorithmName: s.algorithmName.slice(0, 64) }),
        SegmentedPropertyCategoryCodeSequence: category,
        SegmentedPropertyTypeCodeSequence: type,
        RecommendedDisplayCIELabValue: dicomLab(s.colourRGB),
      },
      [],
      s.value,
      frames,
    )
  })
  // BINARY pixel data: frame after frame, bit b of the stream in byte b >> 3 at bit b & 7
  // (little-endian bit order, PS3.5 8.1.1), pixels row by row (i fastest), padded to a byte.
  const packed = new Uint8Array(Math.ceil((total * plane) / 8))
  // Frame (0-based) of segment n on slice k, or -1: frames run segment by segment, planes in plan order.
  const frameOf = new Int32Array(nk * segCount).fill(-1)
  let frame = 0
  plan.forEach((frames, n) => {
    for (const f of frames) frameOf[sliceOfFrame[f - 1]! * segCount + n] = frame++
  })
  for (let k = 0, q = 0; k < nk; k++) {
    for (let p = 0; p < plane; p++, q++) {
      const v = labels[q]!
      if (v === 0) continue
      const n = indexOf[v]!
      if (n < 0) continue
      const bit = frameOf[k * segCount + n]! * plane + p
      packed[bit >> 3]! |= 1 << (bit & 7)
    }
  }
  seg.dataset.PixelData = packed.buffer
  const ds = seg.dataset
  // Each frame's source reference: our instance at the frame's plane (not the normalizer's list).
  const segByNumber = new Map<number, SegSegment>()
  o.segments.forEach((s, n) => {
    if (plan[n]!.length > 0) segByNumber.set(segByNumber.size + 1, s)
  })
  for (const f of items(ds.PerFrameFunctionalGroupsSequence)) {
    const frameNumber = Number(items(f.FrameContentSequence)[0]?.DimensionIndexValues?.[1])
    const k = sliceOfFrame[frameNumber - 1]
    const src = k === undefined ? undefined : o.source.datasets[k]
    const deriv = items(f.DerivationImageSequence)[0]
    const image = deriv && items(deriv.SourceImageSequence)[0]
    if (!src || !image) {
      throw new AppError('E_INTERNAL', `SEG frame ${frameNumber} has no source image`)
    }
    image.ReferencedSOPClassUID = src.SOPClassUID
    image.ReferencedSOPInstanceUID = src.SOPInstanceUID
    delete image.ReferencedFrameNumber
  }
  // The instances referenced, in k order.
  ds.ReferencedSeriesSequence = {
    SeriesInstanceUID: first.SeriesInstanceUID,
    ReferencedInstanceSequence: o.source.datasets.map((d) => ({
      ReferencedSOPClassUID: d.SOPClassUID,
      ReferencedSOPInstanceUID: d.SOPInstanceUID,
    })),
  }
  const now = new Date()
  const date = now.toISOString().slice(0, 10).replace(/-/g, '')
  const time = now.toISOString().slice(11, 19).replace(/:/g, '')
  Object.assign(ds, {
    SOPClassUID: SEG_SOP_CLASS_UID,
    Manufacturer: 'VolSeg',
    ManufacturerModelName: 'VolSeg',
    DeviceSerialNumber: '1',
    SoftwareVersions: o.softwareVersion,
    SeriesDescription: o.seriesDescription.slice(0, 64),
    SeriesNumber: 300 + (Number(first.SeriesNumber) || 0),
    InstanceNumber: 1,
    ContentLabel: 'VOLSEG',
    ContentDescription: 'Segmentation exported by VolSeg',
    // Type 2, a person's name: empty (software is named in Manufacturer and SoftwareVersions).
    ContentCreatorName: '',
    ContentDate: date,
    ContentTime: time,
    SeriesDate: date,
    SeriesTime: time,
    FrameOfReferenceUID: first.FrameOfReferenceUID,
    StudyInstanceUID: first.StudyInstanceUID,
    ...(o.comments ? { ImageComments: o.comments.slice(0, 10240) } : {}),
  })
  // Copied from the MR image by the derivation, but not part of the Segmentation IOD.
  for (const key of NOT_IN_SEG) delete ds[key]
  for (const g of [
    ...items(ds.SharedFunctionalGroupsSequence),
    ...items(ds.PerFrameFunctionalGroupsSequence),
  ]) {
    delete g.MRImageFrameTypeSequence
    delete g.CTImageFrameTypeSequence
  }
  const algorithmic = o.segments.find((s) => s.algorithmType !== 'MANUAL')
  if (algorithmic) {
    for (const s of items(ds.SegmentSequence)) {
      const mine = segByNumber.get(Number(s.SegmentNumber))
      if (!mine || mine.algorithmType === 'MANUAL') continue
      s.SegmentationAlgorithmIdentificationSequence = {
        AlgorithmFamilyCodeSequence: {
          CodeValue: '123110',
          CodingSchemeDesignator: 'DCM',
          CodeMeaning: 'Artificial Intelligence',
        },
        AlgorithmName: mine.algorithmName.slice(0, 64),
        AlgorithmVersion: (mine.algorithmVersion ?? 'unknown').slice(0, 64),
      }
    }
  }
  return {
    dataset: ds,
    frames: total,
    segmentValues: [...segByNumber.values()].map((s) => s.value),
  }
}

/** A SEG read back by dcmjs: each frame's voxel slice (by its plane position) and segment. */
interface SegFramesRead {
  readonly dataset: NaturalDataset
  /** Per frame: slice k on the grid and the referenced segment number. */
  readonly frames: readonly { readonly k: number; readonly segment: number }[]
  /** The BINARY pixel data: frame after frame, `plane` bits each (PS3.5 8.1.1). */
  readonly bits: Uint8Array
  readonly plane: number
}

/**
 * Reads a SEG with dcmjs and places each frame on `geometry` by its plane position (LPS mm);
 * throws `E_VERIFY` on frames of another size, frame records that do not match the frame count,
 * pixel data shorter than the frames, a frame without a position, or (`E_UNSUPPORTED`) a frame
 * off the grid's slices.
 */
function readSegFrames(bytes: Uint8Array, geometry: VolumeGeometry): SegFramesRead {
  // The file's own buffer when it is all of it (a read file is), else a copy; dcmjs reads the
  // pixel data as a view of it (noCopy), not as a second copy of it.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
  const ab = whole ? (bytes.buffer as ArrayBuffer) : new Uint8Array(bytes).buffer
  const msg = dcmjs.data.DicomMessage.readFile(ab, {
    ignoreErrors: false,
    untilTag: null,
    includeUntilTagValue: false,
    noCopy: true,
  })
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(msg.dict)
  const [ni, nj] = geometry.sizeIJK
  const plane = ni * nj
  if (Number(ds.Rows) !== nj || Number(ds.Columns) !== ni) {
    throw new AppError('E_VERIFY', `the SEG's frames are ${ds.Columns}×${ds.Rows}, not ${ni}×${nj}`)
  }
  const raw = items(ds.PixelData)[0] as unknown as ArrayBuffer | undefined
  const bits = new Uint8Array(raw ?? new ArrayBuffer(0))
  const shared = items(ds.SharedFunctionalGroupsSequence)[0] ?? {}
  const sharedIop = items(shared.PlaneOrientationSequence)[0]?.ImageOrientationPatient as
    number[] | undefined
  const records = items(ds.PerFrameFunctionalGroupsSequence)
  if (records.length !== Number(ds.NumberOfFrames)) {
    throw new AppError(
      'E_VERIFY',
      `the SEG has ${records.length} frame records for ${ds.NumberOfFrames} frames`,
    )
  }
  if (bits.length * 8 < records.length * plane) {
    throw new AppError('E_VERIFY', 'the SEG pixel data is shorter than its frames')
  }
  const frames = records.map((f, n) => {
    const ipp = items(f.PlanePositionSequence)[0]?.ImagePositionPatient as number[]
    const iop =
      (items(f.PlaneOrientationSequence)[0]?.ImageOrientationPatient as number[] | undefined) ??
      sharedIop
    if (!ipp || !iop) throw new AppError('E_VERIFY', `SEG frame ${n + 1} has no plane position`)
    return {
      k: sliceOfPlane(geometry, ipp.map(Number), iop.map(Number)),
      segment: Number(items(f.SegmentIdentificationSequence)[0]?.ReferencedSegmentNumber),
    }
  })
  return { dataset: ds, frames, bits, plane }
}

/** Calls `set(p)` for every set pixel p (0 … plane − 1, i fastest) of frame `n` of `bits`. */
function forEachSetPixel(
  bits: Uint8Array,
  n: number,
  plane: number,
  set: (p: number) => void,
): void {
  const first = n * plane
  if (first % 8 === 0 && plane % 8 === 0) {
    // Frames start on a byte (planes of a multiple of 8 pixels): a byte at a time; most of a
    // frame is empty, so a zero byte costs one test.
    for (let b = 0, at = first >> 3, end = plane >> 3; b < end; b++) {
      const byte = bits[at + b]!
      if (byte === 0) continue
      for (let t = 0; t < 8; t++) if ((byte >> t) & 1) set(8 * b + t)
    }
    return
  }
  for (let p = 0; p < plane; p++) {
    const bit = first + p
    const byte = bits[bit >> 3]!
    // Jump over a zero byte (to the next byte boundary).
    if (byte === 0) {
      p += 7 - (bit & 7)
      continue
    }
    if ((byte >> (bit & 7)) & 1) set(p)
  }
}

/**
 * Reassembles a SEG's frames onto `geometry` by each frame's plane position (LPS mm): the value
 * of segment n's voxels is `valueOfSegment(n)`. Throws on a frame off the grid or overlapping
 * segments. Returns the label map (i fastest) and the frame count.
 */
export function reassembleSeg(
  bytes: Uint8Array,
  geometry: VolumeGeometry,
  valueOfSegment: (segmentNumber: number) => number,
): { labels: Uint16Array; frames: number; dataset: NaturalDataset } {
  const { dataset, frames, bits, plane } = readSegFrames(bytes, geometry)
  const out = new Uint16Array(plane * geometry.sizeIJK[2])
  frames.forEach(({ k, segment }, n) => {
    const value = valueOfSegment(segment)
    forEachSetPixel(bits, n, plane, (p) => {
      const q = k * plane + p
      if (out[q] !== 0 && out[q] !== value) {
        throw new AppError('E_VERIFY', `SEG segments overlap at voxel ${q}`)
      }
      out[q] = value
    })
  })
  return { labels: out, frames: frames.length, dataset }
}

/**
 * Checks a SEG read back (`bytes`) against the label map it was written from, without building a
 * second map: every set pixel of every frame, placed by the frame's plane position, must lie on a
 * voxel of its segment's label value (`numbers[segment − 1]`), each (segment, slice) once, and
 * each exported value must have as many set pixels as voxels. Together: the SEG's voxels of each
 * label are exactly the map's. Returns the frame count and segment voxels; `E_VERIFY` otherwise.
 */
export function checkSegAgainst(
  bytes: Uint8Array,
  geometry: VolumeGeometry,
  labels: LabelArray,
  numbers: readonly number[],
): { frames: number; voxels: number } {
  const { frames, bits, plane } = readSegFrames(bytes, geometry)
  const nk = geometry.sizeIJK[2]
  const fail = (why: string): never => {
    throw new AppError('E_VERIFY', `the written SEG did not re-read as written (${why})`)
  }
  const seen = new Uint8Array((numbers.length + 1) * nk)
  const found = new Uint32Array(65536)
  let off = 0
  frames.forEach(({ k, segment }, n) => {
    const value = numbers[segment - 1]
    if (value === undefined) return fail(`frame ${n + 1} names segment ${segment}`)
    const at = segment * nk + k
    if (seen[at] === 1) fail(`segment ${segment} has two frames on slice ${k}`)
    seen[at] = 1
    const base = k * plane
    forEachSetPixel(bits, n, plane, (p) => {
      if (labels[base + p] === value) found[value]!++
      else off++
    })
  })
  if (off > 0) fail(`${off} segment voxels lie on other labels`)
  const present = new Uint32Array(65536)
  for (let q = 0, end = labels.length; q < end; q++) present[labels[q]!]!++
  let voxels = 0
  for (const v of numbers) {
    if (found[v] !== present[v]) fail(`label ${v}: ${present[v]} voxels, ${found[v]} in the SEG`)
    voxels += present[v]!
  }
  return { frames: frames.length, voxels }
}

/**
 * Writes the SEG as `name` in the sink's folder (atomic, never over a source); before publishing,
 * the temp file is re-read with dcmjs and its frames placed by plane position: the voxels of
 * every exported segment must be exactly the label map's (E_VERIFY otherwise, nothing published).
 */
export async function writeSeg(o: WriteSegOptions): Promise<SegWriteReport> {
  const { dataset, frames, segmentValues: numbers } = buildSegDataset(o)
  // The derivation keeps the source's transfer syntax (JPEG-LS, big endian, ...), but these
  // bytes are written uncompressed: always Explicit VR Little Endian.
  dataset._meta = { TransferSyntaxUID: { Value: [EXPLICIT_VR_LITTLE_ENDIAN] } }
  // dcmjs' bytes, its per-frame groups and pixel data encoded without its slow writer (seg-encode.ts).
  const bytes = segFileBytes(dataset)
  const r = await publish(o.sink, o.name, bytes, async (temp) => {
    const back = await readFile(temp)
    let n: number
    let voxels: number
    try {
      ;({ frames: n, voxels } = checkSegAgainst(back, o.geometry, o.labels, numbers))
    } catch (e) {
      if (e instanceof AppError && e.code === 'E_VERIFY') {
        throw new AppError('E_VERIFY', `${e.message}; nothing was saved`, { file: o.name })
      }
      throw e
    }
    if (n !== frames) {
      throw new AppError(
        'E_VERIFY',
        `the written SEG did not re-read as written (${n} of ${frames} frames); nothing was saved`,
        { file: o.name },
      )
    }
    return `re-read by dcmjs, frames placed by plane position: ${n} frames, ${voxels.toLocaleString('en-US')} segment voxels, each on a voxel of its label and none missing`
  })
  return { path: r.path, bytes: r.bytes, sha256: r.sha256, frames, check: r.check }
}

/**
 * What the service holds for its connections: open volumes and the label maps on their grids.
 * Each volume belongs to one session (a connection, architecture.md §7); a session sees only its
 * own, and closing a volume releases its admission grants (slot, bytes) and its label maps.
 */
import type {
  HeldItems,
  LabelsHeader,
  LabelsId,
  OpenedVolume,
  RunInfo,
  SessionKey,
  VolumeId,
} from '../shared/api.js'
import { AppError } from '../shared/errors.js'
import type { GantryTilt } from '../shared/gantry-tilt.js'
import type { ExportJobSpec } from '../shared/export.js'
import type { VolumeGeometry } from '../shared/geometry.js'
import type { PixelType } from '../shared/volume.js'
import type { Grant } from './admission.js'
import type { LabelStyle } from './label-stats.js'
import type { StoredUpload } from './uploads.js'
import type { VolumeLoading } from './volume-loading.js'

/** An open volume as the service holds it. */
export interface HeldVolume {
  readonly id: VolumeId
  readonly source: string
  readonly name: string
  readonly geometry: VolumeGeometry
  readonly dataType: PixelType
  readonly bytes: Uint8Array
  /** Absolute input files: never overwritten by a save. */
  readonly files: readonly string[]
  readonly xformCodes?: { readonly qform_code: number; readonly sform_code: number }
  /** DICOM gantry tilt resampled away on open: the source's sheared geometry, for exports. */
  readonly gantryTilt?: GantryTilt
  /** DICOM Modality of the source (DICOM input): checked against the model card. */
  readonly modality?: string
  /**
   * What `openSource`/`openUpload` answered (`listHeld` answers it again); replaced by the
   * final answer once a volume answered early is read to the end.
   */
  opened: OpenedVolume
  /** Set while the voxels are still being read (an early answer, see volume-loading.ts). */
  readonly loading?: VolumeLoading
  /** Label maps on this grid, oldest first. */
  readonly labels: Set<LabelsId>
  /** Label names and colours of the last model run on this volume (for uploads). */
  styles: readonly LabelStyle[]
  /** The session it belongs to; changes when a reloaded page resumes its session. */
  owner: SessionKey
  /** Its open-volume slot and held bytes, released on close. */
  readonly grants: readonly Grant[]
  /** The private copy of a dropped file, removed on close. */
  readonly upload?: StoredUpload
}

/**
 * Where a held label map came from, for the AI-vs-final delta of its exports: a model run of this
 * session (with the model's labels as produced), a mask file, a backup, or nothing known.
 */
export type LabelsOrigin =
  | {
      readonly kind: 'model'
      /** The model result's own map: its `bytes` are the model's output, never edited. */
      readonly labelsId: LabelsId
      readonly run: RunInfo
      readonly dataType: 'uint8' | 'uint16'
      /**
       * The result's bytes by reference (not a copy): held, and counted by its grant, as long as
       * the result is, which is as long as its volume (Holdings drops maps only with it).
       */
      readonly bytes: Uint8Array
    }
  | { readonly kind: 'file'; readonly name: string }
  | { readonly kind: 'backup' }
  /** Handed over without a map it was edited from (`why` in words). */
  | { readonly kind: 'unknown'; readonly why: string }

/** A label map the service holds (a model result or an upload). */
export interface HeldLabels {
  readonly header: LabelsHeader
  readonly bytes: Uint8Array
  /** Where it came from (see {@link LabelsOrigin}); absent: unknown. */
  readonly origin?: LabelsOrigin
  readonly uncertainty?: {
    readonly bytes: Uint8Array
    readonly kind: 'entropy' | 'tta-variance'
    readonly range: readonly [number, number]
  }
  /** Its held bytes, released when the map is dropped. */
  readonly grant?: Grant
}

/** The volumes and label maps of every session. */
export class Holdings {
  readonly #volumes = new Map<VolumeId, HeldVolume>()
  readonly #labels = new Map<LabelsId, HeldLabels>()

  add(v: HeldVolume): void {
    this.#volumes.set(v.id, v)
  }

  /** Volume `id` of session `owner`; `E_ARGS` when closed, never opened or another's. */
  volume(id: VolumeId, owner: SessionKey): HeldVolume {
    const v = this.#volumes.get(id)
    if (!v || v.owner !== owner) {
      throw new AppError('E_ARGS', `no open volume ${id} (closed, or never opened)`)
    }
    return v
  }

  /** Label map `id` on volume `v` of its owner, or undefined (never held, dropped, another's). */
  labelsOn(id: LabelsId, v: HeldVolume): HeldLabels | undefined {
    const l = this.#labels.get(id)
    return l && l.header.volumeId === v.id && this.#volumes.get(v.id) === v ? l : undefined
  }

  /** Label map `id` on a volume of session `owner`; `E_ARGS` otherwise. */
  labels(id: LabelsId, owner: SessionKey): HeldLabels {
    const l = this.#labels.get(id)
    const v = l && this.#volumes.get(l.header.volumeId)
    if (!l || !v || v.owner !== owner) throw new AppError('E_ARGS', `no label map ${id}`)
    return l
  }

  /** Keeps `l` on the grid of `v` (which must still be held; else its grant is released). */
  addLabels(v: HeldVolume, l: HeldLabels): boolean {
    if (this.#volumes.get(v.id) !== v) {
      l.grant?.release()
      return false
    }
    this.#labels.set(l.header.labelsId, l)
    v.labels.add(l.header.labelsId)
    return true
  }

  /** Forgets volume `id` and its label maps, releasing their grants; answers what it was. */
  drop(id: VolumeId): HeldVolume | undefined {
    const v = this.#volumes.get(id)
    if (!v) return undefined
    for (const lid of v.labels) {
      this.#labels.get(lid)?.grant?.release()
      this.#labels.delete(lid)
    }
    this.#volumes.delete(id)
    // Still being read: stop the reader (its worker) before the bytes are let go.
    if (v.loading && !v.loading.ended) v.loading.cancel()
    for (const g of v.grants) g.release()
    return v
  }

  /** The volumes of session `owner`, in the order they were opened. */
  ownedBy(owner: SessionKey): HeldVolume[] {
    return [...this.#volumes.values()].filter((v) => v.owner === owner)
  }

  /** What session `owner` holds, for `listHeld` (jobs are added by the caller). */
  items(owner: SessionKey): HeldItems['volumes'] {
    return this.ownedBy(owner).map((v) => ({
      volume: v.opened,
      labels: [...v.labels].flatMap((lid) => {
        const l = this.#labels.get(lid)
        return l ? [l.header] : []
      }),
    }))
  }

  /** Every held volume id (for shutdown). */
  ids(): VolumeId[] {
    return [...this.#volumes.keys()]
  }
}

/**
 * The origin of labels uploaded for `v` as edited from `derivedFrom`: that map's origin (a model
 * result's own, kept by reference), or `unknown` saying why.
 */
export function originOf(
  holdings: Holdings,
  v: HeldVolume,
  derivedFrom: LabelsId | undefined,
): LabelsOrigin {
  if (derivedFrom === undefined) {
    return {
      kind: 'unknown',
      why: 'the labels were handed over without the map they were edited from',
    }
  }
  const from = holdings.labelsOn(derivedFrom, v)
  if (!from) {
    return {
      kind: 'unknown',
      why: 'the map they were edited from is not held here (a new labelling, or a map from before a restart)',
    }
  }
  return (
    from.origin ?? {
      kind: 'unknown',
      why: 'the map they were edited from has no record of its origin',
    }
  )
}

/** The model run behind `l`: its own (a result), or its origin's (edited from a result). */
export function modelRunOf(l: HeldLabels): RunInfo | undefined {
  return l.header.run ?? (l.origin?.kind === 'model' ? l.origin.run : undefined)
}

/**
 * What an export of `l` compares with the model's output: the model's labels as produced (a result
 * of this session, or the one `l` was edited from), or why there is none, in words.
 */
export function aiOutputOf(
  l: HeldLabels,
): { readonly ai: NonNullable<ExportJobSpec['held']>['ai'] } | { readonly absent: string } {
  const o = l.origin
  if (o?.kind === 'model') {
    return {
      ai: {
        name: `output of ${o.run.modelId} (${o.run.jobId})`,
        dataType: o.dataType,
        bytes: o.bytes,
      },
    }
  }
  if (o?.kind === 'file') {
    return {
      absent: `the labels were opened from the mask file ${o.name}, not made by a model run in this session: the model's own output is not held (volseg export --ai takes it)`,
    }
  }
  if (o?.kind === 'backup') {
    return {
      absent:
        "the labels were restored from a backup of unsaved edits: the model's own output is not held",
    }
  }
  return {
    absent: `no model output is known for these labels: ${o?.why ?? 'their origin was not recorded'}`,
  }
}

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
  SessionKey,
  VolumeId,
} from '../shared/api.js'
import { AppError } from '../shared/errors.js'
import type { GantryTilt } from '../shared/gantry-tilt.js'
import type { VolumeGeometry } from '../shared/geometry.js'
import type { PixelType } from '../shared/volume.js'
import type { Grant } from './admission.js'
import type { LabelStyle } from './label-stats.js'
import type { StoredUpload } from './uploads.js'

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
  /** What `openSource`/`openUpload` answered (`listHeld` answers it again). */
  readonly opened: OpenedVolume
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

/** A label map the service holds (a model result or an upload). */
export interface HeldLabels {
  readonly header: LabelsHeader
  readonly bytes: Uint8Array
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

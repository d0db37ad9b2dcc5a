/**
 * Opening an image for a session: the read runs in a worker, and the volume is held for the
 * session once its voxels are there, or, for a big NIfTI, as soon as an eighth of its slices are
 * (issue 14): the rest keeps arriving into the same buffer while the viewer reads it, and
 * `readVoxels` waits for slices not yet in (`VolumeLoading`).
 */
import {
  err,
  ok,
  type OpenedSource,
  type OpenedVolume,
  type Result,
  type SourceRef,
  type VolumeId,
} from '../shared/api.js'
import type { OpenEarly, OpenJobRequest, ServiceJobValue } from '../shared/jobs.js'
import type { Admission } from './admission.js'
import type { Holdings, HeldVolume } from './holdings.js'
import type { RunOptions } from './job-runner.js'
import { newId } from './new-id.js'
import type { Sessions, SessionState } from './sessions.js'
import type { StoredUpload } from './uploads.js'
import { VolumeLoading } from './volume-loading.js'

type OpenValue = ServiceJobValue['open']
type VolumeValue = Extract<OpenValue, { kind: 'volume' }>

/** What opening needs of the service. */
export interface OpenPathDeps {
  readonly admission: Admission
  readonly holdings: Holdings
  readonly sessions: Sessions
  /** `--data`: where detached data files must stay unless a grant says otherwise. */
  readonly dataRoot: string
  readonly openTimeoutMs: number
  /** Paths in a text made relative to the roots. */
  readonly scrub: (text: string) => string
  /** Runs the open job on a granted worker; `onStart` receives it (to cancel it). */
  run(
    req: OpenJobRequest,
    options: RunOptions,
    what: string,
    onStart: (job: { cancel(): void }) => void,
  ): Promise<Result<OpenValue>>
  /** Forgets a held volume (its jobs, labels, upload). */
  closeHeld(id: VolumeId): Promise<void>
}

/** Options of one open (see {@link openPathFor}). */
export interface OpenExtra {
  readonly seriesKey?: string
  readonly upload?: StoredUpload
  readonly hide?: (t: string) => string
  readonly confineTo?: string
  readonly caseId?: string
}

/**
 * `openPath(s, abs, source, base, extra)`: reads `abs` in a worker and holds the volume for
 * session `s` as `source`, shown as `base` (plus the series description for DICOM). A volume
 * slot is reserved before the read, its bytes counted once their size is known. Shared by
 * `openSource`, `openUpload` (`upload`, `hide`) and `openCohortCase` (`caseId`; `abs` then lists
 * the case's inputs).
 */
export function openPathFor(d: OpenPathDeps) {
  return async function openPath(
    s: SessionState,
    abs: string | readonly string[],
    source: SourceRef,
    base: string,
    extra: OpenExtra = {},
  ): Promise<Result<OpenedSource>> {
    const slot = d.admission.reserveVolume()
    let early: ((e: OpenEarly) => void) | undefined
    const earlyAnswer = new Promise<OpenEarly>((resolve) => (early = resolve))
    let job: { cancel(): void } | undefined
    // Used only if the answer comes early; counts the bytes read from then on.
    const loading = new VolumeLoading(0, () => job?.cancel())
    const reply = d.run(
      {
        kind: 'open',
        input: typeof abs === 'string' ? [abs] : abs,
        // Detached data files stay under --data (a dropped file has none: uploads.ts refuses them).
        confineTo: extra.confineTo ?? d.dataRoot,
        early: true,
        ...(extra.seriesKey === undefined ? {} : { seriesKey: extra.seriesKey }),
      },
      {
        timeoutMs: d.openTimeoutMs,
        onOpenEarly: (e) => early?.(e),
        onOpenBytes: (n) => loading.advance(n),
      },
      `opening ${base}`,
      (j) => (job = j),
    )
    let first: { reply: Result<OpenValue> } | { early: OpenEarly }
    try {
      first = await Promise.race([
        reply.then((r) => ({ reply: r })),
        earlyAnswer.then((e) => ({ early: e })),
      ])
    } catch (x) {
      slot.release()
      throw x
    }
    if ('reply' in first) {
      const r = first.reply
      if (!r.ok || r.value.kind === 'series-choice') slot.release()
      if (!r.ok) return r
      const v = r.value
      if (v.kind === 'series-choice') {
        const hide = extra.hide ?? d.scrub
        const series = v.series.map((c) => ({ ...c, warnings: c.warnings.map(hide) }))
        return ok({ kind: 'series-choice', source, series })
      }
      return hold(s, v, source, base, extra, slot, undefined).result
    }
    // Early: held now; the rest of the voxels, the final figures (or the failure) follow.
    loading.advance(first.early.readBytes)
    const held = hold(s, first.early.value, source, base, extra, slot, loading)
    void reply.then(
      (r) => finishLoading(held.volume, loading, r, source, extra),
      (x: unknown) => loading.end(err('E_INTERNAL', String(x))),
    )
    return held.result
  }

  /** Holds `v` for `s` (released again when the page has gone meanwhile). */
  function hold(
    s: SessionState,
    v: VolumeValue,
    source: SourceRef,
    base: string,
    extra: OpenExtra,
    slot: { release(): void },
    loading: VolumeLoading | undefined,
  ): { volume: HeldVolume | undefined; result: Promise<Result<OpenedVolume>> } {
    const name = v.seriesDescription ? `${base} (${v.seriesDescription})` : base
    let bytes
    try {
      bytes = d.admission.holdBytes(v.volume.voxels.byteLength, `opening ${name}`)
    } catch (x) {
      slot.release()
      loading?.cancel()
      throw x
    }
    const id = newId<VolumeId>('vol')
    const opened = openedOf(v, id, source, name, extra)
    // The page may have gone (and its grace ended) while the file was read: hold nothing then.
    const owner = d.sessions.live(s)
    const volume: HeldVolume = {
      id,
      source,
      name,
      geometry: v.volume.geometry,
      dataType: v.volume.dataType,
      bytes: v.volume.voxels,
      files: v.files,
      labels: new Set(),
      styles: [],
      opened,
      owner: owner?.key ?? s.key,
      grants: [slot, bytes],
      ...(loading ? { loading } : {}),
      ...(extra.upload ? { upload: extra.upload } : {}),
      ...(v.xformCodes ? { xformCodes: v.xformCodes } : {}),
      ...(v.gantryTilt ? { gantryTilt: v.gantryTilt } : {}),
      ...(v.modality === undefined ? {} : { modality: v.modality }),
    }
    d.holdings.add(volume)
    if (!owner) {
      return {
        volume: undefined,
        result: d
          .closeHeld(id)
          .then(() => err('E_CANCELLED', `${name}: the page that opened it has gone`)),
      }
    }
    return { volume, result: Promise.resolve(ok(opened)) }
  }

  /** The reader of an early-held volume is done: final figures into it, or its failure. */
  function finishLoading(
    volume: HeldVolume | undefined,
    loading: VolumeLoading,
    r: Result<OpenValue>,
    source: SourceRef,
    extra: OpenExtra,
  ): void {
    if (loading.ended) return
    if (!r.ok) {
      loading.end(r)
      return
    }
    if (!volume || r.value.kind !== 'volume') {
      loading.end(err('E_INTERNAL', 'the reader answered no volume at the end'))
      return
    }
    const whole = openedOf(r.value, volume.id, source, volume.name, extra)
    volume.opened = whole
    loading.advance(volume.bytes.byteLength)
    loading.end(ok(whole))
  }

  function openedOf(
    v: VolumeValue,
    id: VolumeId,
    source: SourceRef,
    name: string,
    extra: Pick<OpenExtra, 'hide' | 'caseId'>,
  ): OpenedVolume {
    const hide = extra.hide ?? d.scrub
    return {
      kind: 'volume',
      volumeId: id,
      source,
      name,
      geometry: v.volume.geometry,
      dataType: v.volume.dataType,
      intensityRange: v.intensityRange,
      percentiles: v.percentiles,
      signature: v.signature,
      warnings: v.warnings.map(hide),
      ...(v.modality === undefined ? {} : { modality: v.modality }),
      ...(v.study === undefined ? {} : { study: v.study }),
      ...(extra.caseId === undefined ? {} : { caseId: extra.caseId }),
      ...(v.partial ? { partial: v.partial } : {}),
    }
  }
}

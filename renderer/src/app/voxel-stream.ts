/**
 * A volume's voxels read in slabs of whole k slices: the slab holding the middle slice first
 * (the axial view shows it), then outwards, so the views draw after one slab's round trip rather
 * than after the last byte of the volume. Each slab is copied once, into its place in the grid.
 * A volume the core answered while still reading its file (`partial`) is read in file order
 * after its middle slab instead, the first of those asked for at once: the core decodes in k
 * order, so they cross the socket while the middle slab is still being decoded.
 */
import type { OpenedVolume, Result, VolsegApi, VoxelBlock } from '../../../src/shared/api.js'
import { slabOrder, slabSlices, type Slab } from '../../../src/core/volume/slab-order.js'
import { allocateVoxels, BYTES_PER_PIXEL, type VoxelArray } from '../../../src/shared/volume.js'
import { asTypedArray } from '../../../src/shared/wire.js'

/** While a volume streams in: which k slices have arrived (1 = here), and how many of how many. */
export interface VoxelsLoading {
  readonly loadedK: Uint8Array
  readonly doneK: number
  readonly totalK: number
}

/** The volume being filled (the store's `LoadedVolume`, as far as streaming needs it). */
interface StreamedVolume {
  readonly info: OpenedVolume
  readonly voxels: VoxelArray
}

/** What streaming reads and writes of the viewer's store (`Store` fits it). */
export interface StreamStore {
  readonly state: { readonly volume?: StreamedVolume }
  set(patch: { voxelsLoading?: VoxelsLoading | undefined }): void
}

/** Bytes of the first slab read: about 8 MiB (a 512×512 int16 CT: 16 slices; ch2 fits in one). */
export const SLAB_BYTES = 8 << 20
/**
 * Bytes of each later slab: about 32 MiB. Each request costs the browser a round trip of its
 * own: a 512×512×300 CT took 4 s in 8 MiB slabs after its first, 1.2 s in 32 MiB ones.
 */
export const REST_SLAB_BYTES = 32 << 20

/** Requests for the slabs after the first, sent with it (a `partial` volume). */
export const AHEAD_SLABS = 2

/**
 * The slabs of `info`'s grid in reading order (the rest in k order when `partial`), and the
 * bytes of one k slice.
 */
export function planSlabs(
  info: OpenedVolume,
  slabBytes = SLAB_BYTES,
  restBytes = Math.max(slabBytes, REST_SLAB_BYTES),
): { order: Slab[]; sliceBytes: number } {
  const [ni, nj, nk] = info.geometry.sizeIJK
  const sliceBytes = ni * nj * BYTES_PER_PIXEL[info.dataType]
  const order = slabOrder(
    nk,
    slabSlices(sliceBytes, slabBytes),
    Math.floor((nk - 1) / 2),
    slabSlices(sliceBytes, restBytes),
  )
  if (info.partial) {
    const [first, ...rest] = order
    if (first) return { order: [first, ...rest.sort((a, b) => a.firstK - b.firstK)], sliceBytes }
  }
  return { order, sliceBytes }
}

/** The first slab read, in a zeroed grid of the whole volume, and the slabs still to read. */
export interface FirstSlab {
  readonly voxels: VoxelArray
  readonly loadedK: Uint8Array
  /** What the store's `voxelsLoading` starts as (absent: the volume came whole). */
  readonly loading: VoxelsLoading | undefined
  readonly rest: readonly Slab[]
  /** Reads of `rest[0…]` already sent (a `partial` volume), to be placed in their turn. */
  readonly ahead: readonly Promise<Result<VoxelBlock>>[]
}

/**
 * Reads the slab of `info` holding its middle slice (a volume of one slab: all of it, without a
 * copy) into a grid of the whole volume, allocated once; the rest is planned in `restBytes` slabs
 * (default: {@link planSlabs}'s).
 */
export async function readFirstSlab(
  api: Pick<VolsegApi, 'readVoxels'>,
  info: OpenedVolume,
  slabBytes = SLAB_BYTES,
  restBytes?: number,
): Promise<Result<FirstSlab>> {
  const [ni, nj, nk] = info.geometry.sizeIJK
  const { order, sliceBytes } = planSlabs(info, slabBytes, restBytes)
  const [first, ...rest] = order
  const whole = rest.length === 0 || !first
  const reading = api.readVoxels(
    whole ? { volumeId: info.volumeId } : { volumeId: info.volumeId, slab: first },
  )
  const ahead = (info.partial ? rest.slice(0, AHEAD_SLABS) : []).map((slab) =>
    api.readVoxels({ volumeId: info.volumeId, slab }),
  )
  const r = await reading
  if (!r.ok) {
    for (const a of ahead) void a.catch(() => undefined)
    return r
  }
  const loadedK = new Uint8Array(nk)
  let voxels: VoxelArray
  if (whole) {
    voxels = asTypedArray(r.value.bytes, r.value.dataType)
    loadedK.fill(1)
  } else {
    voxels = allocateVoxels(info.dataType, ni * nj * nk)
    placeSlab(voxels, loadedK, sliceBytes, r.value)
  }
  const loading = whole ? undefined : { loadedK, doneK: first.countK, totalK: nk }
  return { ok: true, value: { voxels, loadedK, loading, rest, ahead } }
}

/** Copies one slab's bytes into the whole grid (k slices are contiguous, i fastest). */
export function placeSlab(
  voxels: VoxelArray,
  loadedK: Uint8Array,
  sliceBytes: number,
  b: VoxelBlock,
): void {
  if (b.byteLength !== b.countK * sliceBytes || b.bytes.byteLength !== b.byteLength) {
    throw new Error(`a slab of ${b.bytes.byteLength} bytes for ${b.countK} slices of ${sliceBytes}`)
  }
  new Uint8Array(voxels.buffer, voxels.byteOffset, voxels.byteLength).set(
    b.bytes,
    b.firstK * sliceBytes,
  )
  loadedK.fill(1, b.firstK, b.firstK + b.countK)
}

/**
 * Reads the slabs `start.rest` of `volume` into its voxels, two requests in flight (one crossing the
 * socket while the other is copied), and updates `voxelsLoading` after each. Stops, quietly, as
 * soon as another volume is shown; resolves with the failed answer if a read fails (the slices
 * that did arrive stay, the others stay black), else with `undefined`.
 */
export async function streamSlabs(
  api: Pick<VolsegApi, 'readVoxels'>,
  store: StreamStore,
  volume: StreamedVolume,
  start: FirstSlab,
): Promise<Result<VoxelBlock> | undefined> {
  const { rest, loadedK, ahead } = start
  const [ni, nj, totalK] = volume.info.geometry.sizeIJK
  const sliceBytes = ni * nj * BYTES_PER_PIXEL[volume.info.dataType]
  const shown = (): boolean => store.state.volume === volume
  const read = (n: number): Promise<Result<VoxelBlock>> | undefined => {
    const slab = rest[n]
    return slab ? (ahead[n] ?? api.readVoxels({ volumeId: volume.info.volumeId, slab })) : undefined
  }
  let doneK = loadedK.reduce((n, x) => n + x, 0)
  let next = read(0)
  for (let n = 0; next; n++) {
    const r = await next
    next = shown() ? read(n + 1) : undefined
    if (!shown()) {
      // Another volume replaced this one: let the reads already asked for settle unobserved.
      for (const a of [next, ...ahead.slice(n + 1)]) void a?.catch(() => undefined)
      return undefined
    }
    if (!r.ok) {
      store.set({ voxelsLoading: undefined })
      return r
    }
    placeSlab(volume.voxels, loadedK, sliceBytes, r.value)
    doneK += r.value.countK
    store.set({ voxelsLoading: doneK < totalK ? { loadedK, doneK, totalK } : undefined })
  }
  return undefined
}

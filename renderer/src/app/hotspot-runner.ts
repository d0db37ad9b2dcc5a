/**
 * The review hotspots of the result on screen, found in their own worker
 * (`workers/hotspot-worker.ts`) so the views stay responsive; only the newest request's answer
 * is shown.
 */
import type { HotspotReply, HotspotRequest } from '../workers/hotspot-protocol.js'
import type { Store } from './state.js'

export class HotspotRunner {
  readonly #store: Store
  #worker: Worker | undefined
  #request = 0

  constructor(store: Store) {
    this.#store = store
  }

  /** Finds the hotspots of the labels and uncertainty map on screen (the newest call wins). */
  run(): void {
    const s = this.#store.state
    if (!s.volume || !s.labels || !s.uncertainty) return
    const g = s.volume.info.geometry
    const id = ++this.#request
    this.#worker ??= new Worker(new URL('../workers/hotspot-worker.ts', import.meta.url), {
      type: 'module',
    })
    this.#worker.onmessage = (ev: MessageEvent<HotspotReply>) => {
      const r = ev.data
      if (r.id !== this.#request) return
      if (r.kind === 'error') this.#store.notify('error', `Hotspots failed: ${r.message}`)
      else this.#store.set({ hotspots: r.hotspots })
    }
    const req: HotspotRequest = {
      id,
      sizeIJK: g.sizeIJK,
      indexToLPS: s.volume.grid.matrix,
      originLPS: g.originLPS,
      uncertainty: s.uncertainty.voxels.slice(),
      labels: s.labels.voxels.slice(),
      perLabel: 5,
    }
    this.#worker.postMessage(req, [req.uncertainty.buffer, req.labels.buffer])
  }
}

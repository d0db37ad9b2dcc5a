/** Web Worker computing review hotspots off the UI thread (see hotspots.ts). */
import type { HotspotReply, HotspotRequest } from './hotspot-protocol.js'
import { findHotspots } from './hotspots.js'

addEventListener('message', (ev: MessageEvent<HotspotRequest>) => {
  const r = ev.data
  let reply: HotspotReply
  try {
    reply = { id: r.id, kind: 'done', ...findHotspots(r) }
  } catch (e) {
    reply = { id: r.id, kind: 'error', message: e instanceof Error ? e.message : String(e) }
  }
  postMessage(reply)
})

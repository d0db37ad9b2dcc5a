/**
 * Web Worker: morphological contour interpolation of a binary sub-image (fill between slices,
 * issue 14), by `@itk-wasm/morphological-contour-interpolation` with `webWorker: false`, so the
 * wasm pipeline runs in this worker (off the UI thread) and no second worker is spawned. The
 * pipeline (`.js` + `.wasm.zst`) is fetched from `pipelinesUrl`, the renderer bundle's
 * `pipelines/` folder (renderer/vite.config.ts copies it there); it is compiled once and kept
 * for later requests. Options: SLICE_FILL_OPTIONS (label 1 on the binary input, axis z).
 */
import {
  morphologicalContourInterpolation,
  setPipelinesBaseUrl,
} from '@itk-wasm/morphological-contour-interpolation'
import { SLICE_FILL_OPTIONS } from '../../../src/core/segmentation/slice-fill.js'
import type { SliceFillReply, SliceFillRequest } from './slice-fill-protocol.js'

type McImage = Parameters<typeof morphologicalContourInterpolation>[0]

let loaded = false

/**
 * itk-wasm decodes the `.wasm.zst` with zstddec, which loads its own small wasm by
 * `fetch('data:application/wasm;base64,…')`; the page's `connect-src 'self'` refuses data: URLs
 * ("Failed to fetch"). Such URLs are decoded here instead, so the CSP stays as it is; every other
 * request goes to the real fetch.
 */
const networkFetch = globalThis.fetch.bind(globalThis)
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
  const prefix = 'data:application/wasm;base64,'
  if (!url.startsWith(prefix)) return networkFetch(input, init)
  const bytes = Uint8Array.from(atob(url.slice(prefix.length)), (c) => c.charCodeAt(0))
  return Promise.resolve(new Response(bytes, { headers: { 'Content-Type': 'application/wasm' } }))
}

function reply(r: SliceFillReply, transfer: Transferable[] = []): void {
  postMessage(r, { transfer })
}

/** A 3-D uint8 scalar itk-wasm Image of the sub-image (identity direction, origin 0). */
function image(req: SliceFillRequest): McImage {
  return {
    imageType: { dimension: 3, componentType: 'uint8', pixelType: 'Scalar', components: 1 },
    name: 'slice-fill',
    origin: [0, 0, 0],
    spacing: [...req.spacingMm],
    direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]),
    size: [...req.sizeXYZ],
    data: req.binary,
    metadata: new Map(),
  } as McImage
}

async function run(req: SliceFillRequest): Promise<void> {
  const t0 = performance.now()
  setPipelinesBaseUrl(req.pipelinesUrl)
  reply({ id: req.id, kind: 'progress', stage: loaded ? 'running' : 'loading' })
  const { outputImage } = await morphologicalContourInterpolation(image(req), {
    ...SLICE_FILL_OPTIONS,
    webWorker: false,
    noCopy: true,
  })
  loaded = true
  const out = outputImage.data
  if (!(out instanceof Uint8Array) || out.length !== req.binary.length) {
    throw new Error(`unexpected filter output (${out?.constructor.name}, ${out?.length} values)`)
  }
  // a copy out of the wasm heap: transferable unless it is a SharedArrayBuffer
  const transfer = out.buffer instanceof ArrayBuffer ? [out.buffer] : []
  reply({ id: req.id, kind: 'done', output: out, ms: performance.now() - t0 }, transfer)
}

addEventListener('message', (ev: MessageEvent<SliceFillRequest>) => {
  const req = ev.data
  run(req).catch((e: unknown) => {
    const why = e instanceof Error ? e.message : String(e)
    // Before the first success the likely cause is the pipeline files: say where they were sought.
    const message = loaded
      ? why
      : `could not load the interpolation filter from ${req.pipelinesUrl} (${why})`
    reply({ id: req.id, kind: 'error', message })
  })
})

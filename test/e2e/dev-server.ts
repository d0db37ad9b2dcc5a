/**
 * THROWAWAY development server for the viewer, used only until `volseg serve` (src/serve) exists,
 * and by `viewer.test.ts` when `VOLSEG_E2E_SERVER=dev`. It speaks the real wire format
 * (src/shared/wire.ts) and reads images with the real reader (src/io/open-volume.ts), but its
 * "segmentation" is a fake threshold with fake progress, so it proves the UI, not the core.
 *
 * Usage: node --import tsx test/e2e/dev-server.ts --data DIR --out DIR [--port 0]
 * Prints `VolSeg serving at http://127.0.0.1:<port>/?token=<hex>` like `volseg serve`.
 */
import { randomBytes } from 'node:crypto'
import { readFile, readdir, stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { basename, extname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocketServer, type WebSocket } from 'ws'
import {
  API_VERSION,
  err,
  errorResult,
  ok,
  requestGuards,
  type ApiEvent,
  type ApiMethod,
  type ApiRequest,
  type JobId,
  type LabelsId,
  type ModelSummary,
  type Result,
  type SourceEntry,
  type SourceRef,
  type VolumeId,
} from '../../src/shared/api.js'
import { decodeMessage, encodeEvent, encodeResponse } from '../../src/shared/wire.js'
import { openVolume } from '../../src/io/open-volume.js'
import { writeMaskNifti } from '../../src/io/nifti/write-nifti-mask.js'
import { AppError } from '../../src/shared/errors.js'
import type { Volume } from '../../src/shared/volume.js'

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const DIST = join(REPO, 'renderer', 'dist')

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name)
  const v = i >= 0 ? process.argv[i + 1] : fallback
  if (v === undefined) throw new Error(`missing ${name}`)
  return v
}

const dataRoot = resolve(arg('--data'))
const outDir = resolve(arg('--out'))
const token = randomBytes(32).toString('hex')

interface Held {
  volume: Volume
  files: readonly string[]
  name: string
}
const volumes = new Map<string, Held>()
const labelMaps = new Map<string, { volumeId: string; data: Uint8Array; unc: Float32Array }>()
const jobs = new Map<string, { cancelled: boolean; labelsId?: string }>()
let counter = 0
const newId = (p: string): string =>
  `${p}${(++counter).toString(36)}${randomBytes(3).toString('hex')}`

function inside(ref: string): string {
  const p = resolve(dataRoot, ref)
  const rel = relative(dataRoot, p)
  if (rel.startsWith('..') || resolve(rel) === rel) {
    throw new AppError('E_ARGS', 'outside the data root')
  }
  return p
}

async function models(): Promise<ModelSummary[]> {
  const roots = (process.env.VOLSEG_MODELS ?? '').split(':').filter(Boolean)
  const out: ModelSummary[] = []
  for (const r of roots) {
    for (const d of await readdir(resolve(REPO, r)).catch(() => [])) {
      const card = JSON.parse(
        await readFile(join(resolve(REPO, r), d, 'model.json'), 'utf8').catch(() => 'null'),
      ) as ModelSummary | null
      if (!card) continue
      out.push({
        id: card.id,
        name: card.name,
        version: card.version,
        modality: card.modality,
        description: card.description,
        intendedUse: card.intendedUse,
        licence: card.licence,
        labels: card.labels,
        patchSize: card.patchSize,
        spacingMm: card.spacingMm,
      })
    }
  }
  return out
}

async function isDicomDir(p: string): Promise<boolean> {
  const names = await readdir(p)
  for (const n of names.slice(0, 5)) {
    const b = await readFile(join(p, n)).catch(() => undefined)
    if (b && b.length > 132 && b.toString('latin1', 128, 132) === 'DICM') return true
  }
  return false
}

function percentile(v: Volume['voxels'], q: number): number {
  const step = Math.max(1, Math.floor(v.length / 200_000))
  const s: number[] = []
  for (let i = 0; i < v.length; i += step) s.push(v[i]!)
  s.sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

type Handler<M extends ApiMethod> = (
  req: ApiRequest<M>,
  send: (e: ApiEvent) => void,
) => Promise<Result<unknown>>

const handlers: { [M in ApiMethod]: Handler<M> } = {
  async hello() {
    const sample = (await readdir(dataRoot)).find((n) => n === 'ch2.nii.gz')
    const ms = await models()
    return ok({
      apiVersion: API_VERSION,
      appVersion: '0.1.0-dev',
      dataRootName: basename(dataRoot),
      outDirName: basename(outDir),
      providers: [
        { id: 'cpu', available: true },
        { id: 'cuda', available: false, reason: 'no NVIDIA driver' },
      ],
      defaultModelId: ms.find((m) => m.id === 'brain-extract')?.id ?? ms[0]?.id ?? null,
      sampleSource: (sample ?? null) as SourceRef | null,
    })
  },
  async listSources(req) {
    const dir = req.under ? inside(req.under) : dataRoot
    const entries: SourceEntry[] = []
    for (const n of (await readdir(dir)).sort()) {
      const p = join(dir, n)
      const s = await stat(p)
      const ref = relative(dataRoot, p).split(sep).join('/') as SourceRef
      if (s.isDirectory()) {
        entries.push({ ref, name: n, kind: (await isDicomDir(p)) ? 'dicom-folder' : 'dir' })
      } else {
        entries.push({
          ref,
          name: n,
          kind: /\.(nii(\.gz)?|nrrd|mha|dcm)$/i.test(n) ? 'file' : 'other',
          bytes: s.size,
        })
      }
    }
    entries.sort(
      (a, b) => Number(b.kind === 'dir') - Number(a.kind === 'dir') || a.name.localeCompare(b.name),
    )
    const crumbs: { ref?: SourceRef; name: string }[] = [{ name: basename(dataRoot) }]
    if (req.under) {
      const parts = req.under.split('/')
      parts.forEach((p, n) =>
        crumbs.push({ ref: parts.slice(0, n + 1).join('/') as SourceRef, name: p }),
      )
    }
    return ok({ crumbs, entries, truncated: false })
  },
  async openUpload(req) {
    return err('E_UNSUPPORTED', `${req.name}: the dev server does not take dropped files`, req.name)
  },
  async openSource(req) {
    const p = inside(req.source)
    try {
      const r = await openVolume(p, req.seriesKey === undefined ? {} : { seriesKey: req.seriesKey })
      const volumeId = newId('vol_') as VolumeId
      const v = r.volume
      volumes.set(volumeId, { volume: v, files: r.files, name: basename(p) })
      return ok({
        kind: 'volume',
        volumeId,
        source: req.source,
        name: r.dicom ? `${basename(p)} · ${r.dicom.chosen.description}` : basename(p),
        geometry: {
          sizeIJK: v.sizeIJK,
          spacingMm: v.spacingMm,
          originLPS: v.originLPS,
          directionLPS: v.directionLPS,
        },
        dataType: v.pixelType,
        intensityRange: r.intensityRange,
        percentiles: { p0_5: percentile(v.voxels, 0.005), p99_5: percentile(v.voxels, 0.995) },
        warnings: r.warnings,
        ...(r.dicom ? { modality: r.dicom.chosen.modality } : {}),
      })
    } catch (e) {
      if (e instanceof AppError && e.code === 'E_MULTIPLE_SERIES') {
        const series = (
          e.details as {
            series: {
              key: string
              description: string
              modality: string
              columns: number
              rows: number
              fileCount: number
            }[]
          }
        ).series
        return ok({
          kind: 'series-choice',
          source: req.source,
          series: series.map((s) => ({
            key: s.key,
            description: s.description,
            modality: s.modality,
            sizeIJK: [s.columns, s.rows, s.fileCount],
            count: s.fileCount,
            warnings: [],
          })),
        })
      }
      throw e
    }
  },
  async readVoxels(req) {
    const h = volumes.get(req.volumeId)
    if (!h) return err('E_ARGS', 'no such volume')
    const v = h.volume.voxels
    return ok({
      volumeId: req.volumeId,
      dataType: h.volume.pixelType,
      sizeIJK: h.volume.sizeIJK,
      byteLength: v.byteLength,
      bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
    })
  },
  async closeVolume(req) {
    volumes.delete(req.volumeId)
    return ok(null)
  },
  async listModels() {
    return ok(await models())
  },
  async startSegmentation(req, send) {
    const h = volumes.get(req.volumeId)
    if (!h) return err('E_ARGS', 'no such volume')
    const m = (await models()).find((x) => x.id === req.modelId)
    if (!m) return err('E_ARGS', `no model ${req.modelId}`)
    const jobId = newId('job_') as JobId
    const job: { cancelled: boolean; labelsId?: string } = { cancelled: false }
    jobs.set(jobId, job)
    const total = 12
    void (async () => {
      for (let done = 0; done <= total; done++) {
        if (job.cancelled) return send({ type: 'job:cancelled', jobId })
        send({
          type: 'job:progress',
          jobId,
          stage: 'inference',
          done,
          total,
          etaSeconds: (total - done) * 0.25,
        })
        await new Promise((r) => setTimeout(r, 250))
      }
      const vox = h.volume.voxels
      const t = percentile(vox, 0.6)
      const data = new Uint8Array(vox.length)
      const unc = new Float32Array(vox.length)
      let n = 0
      for (let i = 0; i < vox.length; i++) {
        const x = vox[i]!
        if (x > t) {
          data[i] = 1
          n++
        }
        unc[i] = Math.exp(-Math.abs(x - t) / 8)
      }
      const labelsId = newId('lbl_') as LabelsId
      labelMaps.set(labelsId, { volumeId: req.volumeId, data, unc })
      job.labelsId = labelsId
      const vmm = h.volume.spacingMm[0] * h.volume.spacingMm[1] * h.volume.spacingMm[2]
      const fg = m.labels[1] ?? { value: 1, name: 'foreground', color: [255, 0, 0] as const }
      send({
        type: 'job:done',
        jobId,
        labels: {
          labelsId,
          volumeId: req.volumeId,
          dataType: 'uint8',
          sizeIJK: h.volume.sizeIJK,
          byteLength: data.byteLength,
          labels: [
            {
              value: 0,
              name: 'background',
              voxels: vox.length - n,
              volumeMl: ((vox.length - n) * vmm) / 1000,
              color: [0, 0, 0],
            },
            { value: 1, name: fg.name, voxels: n, volumeMl: (n * vmm) / 1000, color: fg.color },
          ],
          run: {
            jobId,
            modelId: m.id,
            provider: 'cpu',
            device: 'CPU (dev server fake)',
            timingsMs: { total: 3000 },
            uncertainty: req.uncertainty ? 'entropy' : 'none',
          },
          warnings: ['dev server: this is a fake threshold, not a model'],
        },
      })
    })()
    return ok({ jobId })
  },
  async cancelJob(req) {
    const j = jobs.get(req.jobId)
    if (j) j.cancelled = true
    return ok(null)
  },
  async readLabels(req) {
    const id = 'jobId' in req ? jobs.get(req.jobId)?.labelsId : req.labelsId
    const l = id ? labelMaps.get(id) : undefined
    if (!id || !l) return err('E_ARGS', 'no such labels')
    const h = volumes.get(l.volumeId)!
    let n = 0
    for (const x of l.data) n += x
    const vmm = h.volume.spacingMm[0] * h.volume.spacingMm[1] * h.volume.spacingMm[2]
    const ms = await models()
    const fg = ms[0]?.labels[1] ?? { name: 'foreground', color: [255, 0, 0] as const }
    return ok({
      labelsId: id,
      volumeId: l.volumeId,
      dataType: 'uint8',
      sizeIJK: h.volume.sizeIJK,
      byteLength: l.data.byteLength,
      labels: [
        {
          value: 0,
          name: 'background',
          voxels: l.data.length - n,
          volumeMl: ((l.data.length - n) * vmm) / 1000,
          color: [0, 0, 0],
        },
        { value: 1, name: fg.name, voxels: n, volumeMl: (n * vmm) / 1000, color: fg.color },
      ],
      run: {
        jobId: 'jobId' in req ? req.jobId : ('job_x' as JobId),
        modelId: ms[0]?.id ?? 'x',
        provider: 'cpu',
        device: 'CPU (dev server fake)',
        timingsMs: { total: 3000 },
        uncertainty: 'entropy',
      },
      warnings: ['dev server: this is a fake threshold, not a model'],
      bytes: l.data,
    })
  },
  async readUncertainty(req) {
    const id = 'jobId' in req ? jobs.get(req.jobId)?.labelsId : req.labelsId
    const l = id ? labelMaps.get(id) : undefined
    if (!id || !l) return err('E_ARGS', 'no such labels')
    const h = volumes.get(l.volumeId)!
    return ok({
      labelsId: id,
      dataType: 'float32',
      sizeIJK: h.volume.sizeIJK,
      byteLength: l.unc.byteLength,
      kind: 'entropy',
      range: [0, 1],
      bytes: new Uint8Array(l.unc.buffer),
    })
  },
  async uploadLabels() {
    return err('E_UNSUPPORTED', 'not in the dev server')
  },
  async saveMask(req) {
    const l = labelMaps.get(req.labelsId)
    const h = volumes.get(req.volumeId)
    if (!l || !h) return err('E_ARGS', 'no such labels or volume')
    const path = join(outDir, req.name)
    const r = await writeMaskNifti({
      path,
      labels: l.data,
      geometry: h.volume,
      sourceFiles: h.files,
    })
    return ok({ path: relative(outDir, r.path), bytes: r.bytes, verification: r.verification })
  },
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
}

const server = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://x')
    const cookieOk = (req.headers.cookie ?? '').includes(`volseg_token=${token}`)
    const queryOk = url.searchParams.get('token') === token
    if (!cookieOk && !queryOk) {
      res.writeHead(401).end('token required')
      return
    }
    const file = url.pathname === '/' ? 'index.html' : url.pathname.slice(1)
    const p = resolve(DIST, file)
    if (relative(DIST, p).startsWith('..')) {
      res.writeHead(404).end()
      return
    }
    const body = await readFile(p).catch(() => undefined)
    if (!body) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(p)] ?? 'application/octet-stream',
      'content-security-policy':
        "default-src 'self'; script-src 'self'; worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      ...(queryOk
        ? { 'set-cookie': `volseg_token=${token}; HttpOnly; SameSite=Strict; Path=/` }
        : {}),
    })
    res.end(body)
  })()
})

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 })
server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url ?? '/', 'http://x')
  const okToken =
    (req.headers.cookie ?? '').includes(`volseg_token=${token}`) ||
    url.searchParams.get('token') === token
  if (url.pathname !== '/api' || !okToken) {
    socket.destroy()
    return
  }
  wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws))
})

function serveSocket(ws: WebSocket): void {
  const send = (e: ApiEvent): void => ws.send(encodeEvent(e))
  ws.on('message', (data: Buffer) => {
    void (async () => {
      const m = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice())
      if (!m.ok || m.value.kind !== 'request') return
      const { id, method, params } = m.value
      let result: Result<unknown>
      if (!(requestGuards[method] as (x: unknown) => boolean)(params)) {
        result = err('E_ARGS', `bad arguments for ${method}`)
      } else {
        try {
          result = await (handlers[method] as Handler<ApiMethod>)(params, send)
        } catch (e) {
          result = errorResult(e)
        }
      }
      ws.send(encodeResponse(id, result))
    })()
  })
}

server.listen(Number(arg('--port', '0')), '127.0.0.1', () => {
  const a = server.address()
  const port = typeof a === 'object' && a ? a.port : 0
  process.stdout.write(`VolSeg serving at http://127.0.0.1:${port}/?token=${token}\n`)
})

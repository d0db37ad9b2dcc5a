/**
 * A snapshot of the views as shown: every view's picture (the slice canvases with their label
 * overlay and crosshair, the 3-D view rendered once more so its WebGL buffer is read in the same
 * task) drawn into one canvas at the views' places in the grid, at the screen's pixel density,
 * with the text the views show over their pictures (titles, orientation letters, scale bars,
 * 3-D status). Encoded as one PNG by the browser.
 */
import type { SnapshotView, SnapshotViewName } from '../../../src/shared/api.js'

/** One view as the snapshot needs it. */
export interface SnapshotSource {
  readonly name: SnapshotViewName
  /** The view's element (its box in the grid is where its picture goes). */
  readonly root: HTMLElement
  /** Draws the view's current picture into `ctx` over the box `x, y, w, h` (canvas pixels). */
  draw(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number): void
}

/** What {@link composeSnapshot} made: the PNG and where each view lies in it. */
export interface Snapshot {
  readonly png: Uint8Array
  readonly width: number
  readonly height: number
  readonly views: readonly SnapshotView[]
}

/** The text overlays of a view that are drawn into the snapshot. */
const TEXT = '.view-title, .letter, .scalebar-label, .view-status'

/** Draws the visible text elements of `root` (with their font, colour and shadow) into `ctx`. */
function drawTexts(
  ctx: CanvasRenderingContext2D,
  root: HTMLElement,
  origin: DOMRect,
  dpr: number,
): void {
  for (const e of root.querySelectorAll<HTMLElement>(TEXT)) {
    const text = e.textContent?.trim() ?? ''
    if (text === '' || e.closest('[hidden]')) continue
    const r = e.getBoundingClientRect()
    if (r.width === 0 || r.height === 0) continue
    const cs = getComputedStyle(e)
    ctx.save()
    ctx.font = `${cs.fontWeight} ${parseFloat(cs.fontSize) * dpr}px ${cs.fontFamily}`
    ctx.fillStyle = cs.color
    ctx.textBaseline = 'middle'
    ctx.shadowColor = '#000'
    ctx.shadowBlur = 3 * dpr
    ctx.fillText(text, (r.left - origin.left) * dpr, (r.top + r.height / 2 - origin.top) * dpr)
    ctx.restore()
  }
  // The scale bar: its left, right and bottom borders (styles.css `.scalebar`).
  const bar = root.querySelector<HTMLElement>('.scalebar')
  if (bar && !bar.hidden) {
    const r = bar.getBoundingClientRect()
    const [x0, x1] = [(r.left - origin.left) * dpr, (r.right - origin.left) * dpr]
    const [y0, y1] = [(r.top - origin.top) * dpr, (r.bottom - origin.top) * dpr]
    ctx.save()
    ctx.strokeStyle = getComputedStyle(bar).borderBottomColor
    ctx.lineWidth = 2 * dpr
    ctx.beginPath()
    ctx.moveTo(x0 + dpr, y0)
    ctx.lineTo(x0 + dpr, y1 - dpr)
    ctx.lineTo(x1 - dpr, y1 - dpr)
    ctx.lineTo(x1 - dpr, y0)
    ctx.stroke()
    ctx.restore()
  }
}

/**
 * Composes the views inside `grid` into one PNG (see the module comment); rejects when the
 * browser cannot encode it.
 */
export async function composeSnapshot(
  grid: HTMLElement,
  sources: readonly SnapshotSource[],
): Promise<Snapshot> {
  const dpr = window.devicePixelRatio || 1
  const box = grid.getBoundingClientRect()
  const canvas = document.createElement('canvas')
  canvas.width = Math.max(1, Math.round(box.width * dpr))
  canvas.height = Math.max(1, Math.round(box.height * dpr))
  const ctx = canvas.getContext('2d', { alpha: false })!
  // The grid's gaps show its background, as on screen.
  ctx.fillStyle = getComputedStyle(grid).backgroundColor || '#000'
  ctx.fillRect(0, 0, canvas.width, canvas.height)
  const views: SnapshotView[] = []
  for (const s of sources) {
    const r = s.root.getBoundingClientRect()
    if (r.width === 0 || r.height === 0) continue
    const x = Math.max(0, Math.round((r.left - box.left) * dpr))
    const y = Math.max(0, Math.round((r.top - box.top) * dpr))
    const w = Math.min(canvas.width - x, Math.round(r.width * dpr))
    const h = Math.min(canvas.height - y, Math.round(r.height * dpr))
    if (w < 1 || h < 1) continue
    ctx.save()
    ctx.beginPath()
    ctx.rect(x, y, w, h)
    ctx.clip()
    s.draw(ctx, x, y, w, h)
    drawTexts(ctx, s.root, box, dpr)
    ctx.restore()
    const title = s.root.querySelector('.view-title')?.textContent?.trim() ?? s.name
    views.push({ view: s.name, title: title.slice(0, 256), x, y, width: w, height: h })
  }
  const blob = await new Promise<Blob | null>((done) => canvas.toBlob(done, 'image/png'))
  if (!blob) throw new Error('the browser could not encode the snapshot as PNG')
  return {
    png: new Uint8Array(await blob.arrayBuffer()),
    width: canvas.width,
    height: canvas.height,
    views,
  }
}

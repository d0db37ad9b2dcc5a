/**
 * One slice view (axial, coronal or sagittal), resliced on the CPU in the LPS patient frame: each
 * screen pixel maps to an LPS point on the plane through the crosshair, then to the nearest voxel.
 * Reslicing in the patient frame (rather than showing voxel rows) keeps the view truly axial for
 * flipped and permuted inputs; the acquisition-aligned mode follows the voxel axes instead. Edge
 * letters, scale bar and the cursor read-out come from the same frame, so they cannot disagree
 * with the picture.
 *
 * Mouse: left-click sets the crosshair, left-drag window/level, right- or ctrl-drag zoom,
 * middle- or shift-drag pan, wheel steps slices (one notch, one slice; wheel up = arrow up =
 * towards the normal's positive end), double-click on the title resets zoom and pan.
 * With an editing tool active (see app/editor.ts) left-drag paints instead (one stroke, one undo
 * step) and a circle of the brush's mm size follows the cursor.
 */
import { HEAT_FLOOR, heat } from '../app/heat-scale.js'
import type { Vec3 } from '../../../src/shared/geometry.js'
import type { AppState, Store, ViewCamera } from '../app/state.js'
import {
  add,
  centreLPS,
  directionLetters,
  dot,
  edgeLetters,
  extentAlong,
  niceLengthMm,
  scale,
  sliceIndex,
  sliceStepMm,
  sub,
  viewFrame,
  type ViewFrame,
  type ViewName,
} from '../app/view-geometry.js'
import { el } from '../panels/dom.js'
import { editedSince } from '../app/edit-extent.js'
import { firstPixelLPS, pixelRectOfBox, type PixelRect } from './pixel-rect.js'
import type { Editor } from '../app/editor.js'

const TITLES: Record<ViewName, string> = {
  axial: 'Axial',
  coronal: 'Coronal',
  sagittal: 'Sagittal',
}
/** Crosshair colours of the lines showing the other views' planes (Slicer's colours). */
const PLANE_COLOURS: Record<ViewName, string> = {
  axial: 'rgba(240, 80, 80, 0.8)',
  coronal: 'rgba(90, 200, 90, 0.8)',
  sagittal: 'rgba(240, 220, 70, 0.8)',
}
const CLICK_SLOP_PX = 3
/**
 * How far a streaming volume has come, in eighths (-1: all in): the views redraw as slices arrive
 * in eight steps, not after every slab (three redraws per slab cost more than the slab's copy).
 */
function loadingStep(s: AppState): number {
  const l = s.voxelsLoading
  return l ? Math.floor((8 * l.doneK) / l.totalK) : -1
}

/** Wheel travel of one notch in pixels (Chromium and Firefox report 100–120 per notch). */
const NOTCH_PX = 100

interface Drag {
  readonly button: number
  readonly mode: 'click-or-window' | 'zoom' | 'pan' | 'paint'
  readonly x: number
  readonly y: number
  readonly window: AppState['window']
  readonly camera: ViewCamera
  moved: boolean
}

export class SliceView {
  readonly root: HTMLElement
  readonly #name: ViewName
  readonly #store: Store
  readonly #canvas: HTMLCanvasElement
  readonly #ctx: CanvasRenderingContext2D
  readonly #letters: Record<'left' | 'right' | 'top' | 'bottom', HTMLElement>
  readonly #title: HTMLElement
  readonly #bar: HTMLElement
  readonly #barLabel: HTMLElement
  readonly #readout: HTMLElement
  readonly #resize: ResizeObserver
  #drag: Drag | undefined
  #lastKey: unknown[] = []
  #imageKey: unknown[] = []
  /** The `editVersion` the picture in `#image` shows. */
  #drawnVersion = -1
  #image: ImageData | undefined
  #labelBuf = new Uint16Array(0)
  /** Where the pointer is over this view (CSS px), so the read-out follows a scroll. */
  #pointer: { x: number; y: number } | undefined
  #wheel = 0
  /** The editing engine, when editing is wired (set by main.ts). */
  editor: Editor | undefined

  constructor(name: ViewName, store: Store) {
    this.#name = name
    this.#store = store
    this.#canvas = el('canvas', { className: 'slice-canvas' })
    this.#ctx = this.#canvas.getContext('2d', { alpha: false })!
    const letter = (pos: string): HTMLElement => el('div', { className: `letter letter-${pos}` })
    this.#letters = {
      left: letter('left'),
      right: letter('right'),
      top: letter('top'),
      bottom: letter('bottom'),
    }
    this.#title = el('div', {
      className: 'view-title',
      title: 'Double-click: reset zoom and pan of this view (R: all views)',
    })
    this.#barLabel = el('span', { className: 'scalebar-label' })
    this.#bar = el('div', { className: 'scalebar' }, [this.#barLabel])
    this.#readout = el('div', { className: 'readout' })
    this.root = el('div', { className: 'view slice-view', tabIndex: -1 }, [
      this.#canvas,
      this.#title,
      ...Object.values(this.#letters),
      this.#bar,
      this.#readout,
    ])
    this.root.dataset.view = name
    this.#resize = new ResizeObserver(() => this.render(this.#store.state, true))
    this.#resize.observe(this.root)
    this.#bindMouse()
  }

  dispose(): void {
    this.#resize.disconnect()
    this.root.remove()
  }

  /** Draws the picture as shown (labels, crosshair) over the box `x, y, w, h` (views/snapshot.ts). */
  drawSnapshot(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number): void {
    ctx.drawImage(this.#canvas, x, y, w, h)
  }

  /** The frame of this view for the current volume and alignment. */
  frame(s: AppState): ViewFrame | undefined {
    if (!s.volume) return undefined
    return viewFrame(this.#name, s.alignment, s.volume.info.geometry.directionLPS)
  }

  /** The camera in use: the stored one, or a fit of the whole volume. */
  camera(s: AppState): ViewCamera | undefined {
    const stored = s.cameras[this.#name]
    if (stored) return stored
    const f = this.frame(s)
    if (!f || !s.volume) return undefined
    const g = s.volume.info.geometry
    const c = centreLPS(g)
    const w = Math.max(this.root.clientWidth, 1)
    const h = Math.max(this.root.clientHeight, 1)
    const halfX = extentAlong(g, f.right, c) + 1
    const halfY = extentAlong(g, f.down, c) + 1
    return { centreLPS: c, mmPerPx: Math.max((2 * halfX) / w, (2 * halfY) / h) * 1.04 }
  }

  /** LPS point under CSS pixel (x, y) of this view, on the current slice. */
  pointAt(s: AppState, x: number, y: number): Vec3 | undefined {
    const f = this.frame(s)
    const cam = this.camera(s)
    if (!f || !cam) return undefined
    const c = this.#planeCentre(s, f, cam)
    const w = this.root.clientWidth
    const h = this.root.clientHeight
    return add(
      c,
      add(scale(f.right, (x - w / 2) * cam.mmPerPx), scale(f.down, (y - h / 2) * cam.mmPerPx)),
    )
  }

  #planeCentre(s: AppState, f: ViewFrame, cam: ViewCamera): Vec3 {
    return add(cam.centreLPS, scale(f.normal, dot(sub(s.crosshairLPS, cam.centreLPS), f.normal)))
  }

  /** Back to the fit of the whole volume (zoom and pan of this view only). */
  resetCamera(): void {
    this.#store.set((st) => {
      const cameras = { ...st.cameras }
      delete cameras[this.#name]
      return { cameras }
    })
  }

  /** Moves the slice by `n` steps along the view normal. */
  step(n: number): void {
    const s = this.#store.state
    const f = this.frame(s)
    if (!f || !s.volume) return
    const mm = sliceStepMm(s.volume.info.geometry, f.normal)
    this.#store.set({ crosshairLPS: add(s.crosshairLPS, scale(f.normal, n * mm)) })
  }

  render(s: AppState, force = false): void {
    const f = this.frame(s)
    const cam = this.camera(s)
    const dpr = window.devicePixelRatio || 1
    const w = Math.max(1, Math.round(this.root.clientWidth * dpr))
    const h = Math.max(1, Math.round(this.root.clientHeight * dpr))
    const key = [
      s.volume,
      loadingStep(s),
      s.crosshairLPS,
      cam?.mmPerPx,
      cam?.centreLPS,
      s.alignment,
      s.window,
      s.labels,
      s.editVersion,
      s.labelTable,
      s.overlay,
      s.uncertainty,
      s.showUncertainty,
      w,
      h,
    ]
    if (!force && key.every((k, n) => k === this.#lastKey[n])) return
    this.#lastKey = key
    if (this.#canvas.width !== w || this.#canvas.height !== h) {
      this.#canvas.width = w
      this.#canvas.height = h
      this.#image = undefined
    }
    if (!f || !cam || !s.volume) {
      this.#ctx.fillStyle = '#000'
      this.#ctx.fillRect(0, 0, w, h)
      this.#title.textContent = TITLES[this.#name]
      for (const e of Object.values(this.#letters)) e.textContent = ''
      this.#bar.hidden = true
      return
    }
    const centre = this.#planeCentre(s, f, cam)
    const pxMm = cam.mmPerPx / dpr
    // The resliced picture depends on the plane, not on where the crosshair lies in it: when
    // another view moves the crosshair (scrolling it), only the crosshair lines are redrawn here.
    const imageKey = [
      s.volume,
      loadingStep(s),
      ...centre,
      pxMm,
      ...f.right,
      ...f.down,
      s.window,
      s.labels,
      s.labelTable,
      s.overlay,
      s.uncertainty,
      s.showUncertainty,
      w,
      h,
      dpr,
    ]
    if (force || !this.#image || !imageKey.every((k, n) => k === this.#imageKey[n])) {
      this.#draw(s, f, centre, pxMm, w, h)
      this.#imageKey = imageKey
    } else if (s.editVersion !== this.#drawnVersion) {
      // Only labels changed, in place: redraw the pixels that show the voxels edited since.
      const box = editedSince(s.recentEdits, this.#drawnVersion, s.editVersion)
      const pad = 2 + Math.max(1, Math.round(dpr))
      const rect =
        box === 'all'
          ? undefined
          : pixelRectOfBox(
              s.volume.grid,
              f,
              firstPixelLPS(centre, f, pxMm, w, h),
              pxMm,
              w,
              h,
              box,
              pad,
            )
      if (rect !== 'none') this.#draw(s, f, centre, pxMm, w, h, rect)
    }
    this.#drawnVersion = s.editVersion
    this.#ctx.putImageData(this.#image!, 0, 0)
    this.#drawCrosshair(s, f, centre, pxMm, w, h)
    this.#drawBrush(pxMm)
    const letters = edgeLetters(f)
    for (const [pos, e] of Object.entries(this.#letters)) {
      e.textContent = letters[pos as keyof typeof letters]
    }
    // slice position as a distance towards a patient direction: "L 12.0 mm", never "R -12.0 mm"
    const pos = dot(s.crosshairLPS, f.normal)
    const towards = directionLetters(pos >= 0 ? f.normal : scale(f.normal, -1), 1)
    const acq = s.alignment === 'acquisition' ? ' (acq.)' : ''
    const slice = sliceIndex(s.volume.info.geometry, f.normal, s.crosshairLPS)
    this.#title.textContent = `${TITLES[this.#name]}${acq}  ${towards} ${Math.abs(pos).toFixed(1)} mm · ${slice.index} / ${slice.count}`
    const cssW = this.root.clientWidth
    const lengthMm = niceLengthMm(cssW * 0.25 * cam.mmPerPx)
    this.#bar.hidden = false
    this.#bar.style.width = `${lengthMm / cam.mmPerPx}px`
    this.#barLabel.textContent = `${lengthMm} mm`
    // The voxel under a still pointer changes when the slice does (scrolling, another view).
    if (this.#pointer) this.#readoutAt(this.#pointer.x, this.#pointer.y)
  }

  /** Draws the resliced picture into `#image`: all of it, or only the pixels of `rect`. */
  #draw(
    s: AppState,
    f: ViewFrame,
    centre: Vec3,
    pxMm: number,
    w: number,
    h: number,
    rect: PixelRect = { x0: 0, y0: 0, x1: w, y1: h },
  ): void {
    const vol = s.volume!
    const [ni, nj, nk] = vol.info.geometry.sizeIJK
    const vox = vol.voxels
    if (!this.#image) this.#image = this.#ctx.createImageData(w, h)
    const out = this.#image.data
    if (this.#labelBuf.length !== w * h) this.#labelBuf = new Uint16Array(w * h)
    const lab = this.#labelBuf
    const labels = s.labels && s.overlay.visible ? s.labels : undefined
    const lv = labels?.voxels
    const unc = s.uncertainty && s.showUncertainty ? s.uncertainty : undefined
    const uv = unc?.voxels
    const uMax = unc ? Math.max(unc.header.range[1], 1e-12) : 1
    const lo = s.window.level - s.window.width / 2
    const k255 = 255 / s.window.width
    const p0 = firstPixelLPS(centre, f, pxMm, w, h)
    const g = vol.grid
    const a = g.toIJK(p0)
    const o = g.toIJK([0, 0, 0])
    const du = sub(g.toIJK(scale(f.right, pxMm)), o)
    const dv = sub(g.toIJK(scale(f.down, pxMm)), o)
    const colours = labelColours(s)
    // colour per label value as a flat table (a Map lookup per pixel costs more than the pixel)
    const lutSize = Math.max(0, ...colours.keys()) + 1
    const lut = new Float32Array(3 * lutSize)
    const shown = new Uint8Array(lutSize)
    for (const [v, c] of colours) {
      shown[v] = 1
      lut[3 * v] = c[0]
      lut[3 * v + 1] = c[1]
      lut[3 * v + 2] = c[2]
    }
    const alpha = s.overlay.opacity
    const outline = s.overlay.outline
    const { x0, y0, x1, y1 } = rect
    for (let y = y0; y < y1; y++) {
      let fi = a[0] + y * dv[0] + x0 * du[0] + 0.5
      let fj = a[1] + y * dv[1] + x0 * du[1] + 0.5
      let fk = a[2] + y * dv[2] + x0 * du[2] + 0.5
      let n = y * w + x0
      for (let x = x0; x < x1; x++, n++, fi += du[0], fj += du[1], fk += du[2]) {
        const i = Math.floor(fi)
        const j = Math.floor(fj)
        const k = Math.floor(fk)
        const q = n * 4
        if (i < 0 || j < 0 || k < 0 || i >= ni || j >= nj || k >= nk) {
          out[q] = 0
          out[q + 1] = 0
          out[q + 2] = 0
          out[q + 3] = 255
          lab[n] = 0
          continue
        }
        const idx = i + ni * (j + nj * k)
        let grey = (vox[idx]! - lo) * k255
        grey = grey < 0 ? 0 : grey > 255 ? 255 : grey
        let r = grey
        let gg = grey
        let b = grey
        if (uv) {
          const t = uv[idx]! / uMax
          if (t > HEAT_FLOOR) {
            const [hr, hg, hb] = heat(t)
            const ta = Math.min(0.6, 0.15 + 0.5 * t)
            r = r * (1 - ta) + hr * ta
            gg = gg * (1 - ta) + hg * ta
            b = b * (1 - ta) + hb * ta
          }
        }
        const l = lv ? lv[idx]! : 0
        lab[n] = l
        if (l !== 0 && !outline && l < lutSize && shown[l] === 1) {
          r = r * (1 - alpha) + lut[3 * l]! * alpha
          gg = gg * (1 - alpha) + lut[3 * l + 1]! * alpha
          b = b * (1 - alpha) + lut[3 * l + 2]! * alpha
        }
        out[q] = r
        out[q + 1] = gg
        out[q + 2] = b
        out[q + 3] = 255
      }
    }
    if (lv && outline) {
      const thick = Math.max(1, Math.round(window.devicePixelRatio || 1))
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const m = y * w + x
          const l = lab[m]!
          if (l === 0) continue
          const edge =
            x < thick ||
            lab[m - thick] !== l ||
            x >= w - thick ||
            lab[m + thick] !== l ||
            y < thick ||
            lab[m - thick * w] !== l ||
            y >= h - thick ||
            lab[m + thick * w] !== l
          const c = edge ? colours.get(l) : undefined
          if (!c) continue
          const q = m * 4
          const oa = Math.max(alpha, 0.9)
          out[q] = out[q]! * (1 - oa) + c[0] * oa
          out[q + 1] = out[q + 1]! * (1 - oa) + c[1] * oa
          out[q + 2] = out[q + 2]! * (1 - oa) + c[2] * oa
        }
      }
    }
  }

  #drawCrosshair(
    s: AppState,
    f: ViewFrame,
    centre: Vec3,
    pxMm: number,
    w: number,
    h: number,
  ): void {
    const d = sub(s.crosshairLPS, centre)
    const x = w / 2 + dot(d, f.right) / pxMm
    const y = h / 2 + dot(d, f.down) / pxMm
    const gap = 8 * (window.devicePixelRatio || 1)
    const ctx = this.#ctx
    ctx.lineWidth = Math.max(1, window.devicePixelRatio || 1)
    // the vertical line is the plane of the view whose normal is closest to screen x, and so on
    const others = (['axial', 'coronal', 'sagittal'] as const).filter((v) => v !== this.#name)
    const vertical = others.find((v) => v === 'sagittal') ?? 'coronal'
    const horizontal = others.find((v) => v !== vertical)!
    ctx.strokeStyle = PLANE_COLOURS[vertical]
    ctx.beginPath()
    ctx.moveTo(x, 0)
    ctx.lineTo(x, y - gap)
    ctx.moveTo(x, y + gap)
    ctx.lineTo(x, h)
    ctx.stroke()
    ctx.strokeStyle = PLANE_COLOURS[horizontal]
    ctx.beginPath()
    ctx.moveTo(0, y)
    ctx.lineTo(x - gap, y)
    ctx.moveTo(x + gap, y)
    ctx.lineTo(w, y)
    ctx.stroke()
  }

  /** The brush outline (its mm radius) at the pointer, when the brush or eraser is active. */
  #drawBrush(pxMm: number): void {
    const ed = this.editor
    const p = this.#pointer
    if (!ed || !p || (ed.options.tool !== 'brush' && ed.options.tool !== 'eraser')) return
    const dpr = window.devicePixelRatio || 1
    const ctx = this.#ctx
    ctx.strokeStyle = ed.options.tool === 'eraser' ? 'rgba(255,255,255,0.9)' : 'rgba(255,255,0,0.9)'
    ctx.lineWidth = Math.max(1, dpr)
    ctx.beginPath()
    ctx.arc(p.x * dpr, p.y * dpr, ed.options.radiusMm / pxMm, 0, 2 * Math.PI)
    ctx.stroke()
  }

  /** Redraws the picture, crosshair and brush outline without reslicing (pointer moves). */
  #redrawOverlay(): void {
    const s = this.#store.state
    const f = this.frame(s)
    const cam = this.camera(s)
    if (!f || !cam || !this.#image) return
    const dpr = window.devicePixelRatio || 1
    this.#ctx.putImageData(this.#image, 0, 0)
    this.#drawCrosshair(
      s,
      f,
      this.#planeCentre(s, f, cam),
      cam.mmPerPx / dpr,
      this.#canvas.width,
      this.#canvas.height,
    )
    this.#drawBrush(cam.mmPerPx / dpr)
  }

  /** One dab (or a fill click) of the active tool at CSS pixel (x, y). */
  #paintAt(x: number, y: number): void {
    const ed = this.editor
    const s = this.#store.state
    const p = this.pointAt(s, x, y)
    const f = this.frame(s)
    if (!ed || !p || !f) return
    if (ed.options.tool === 'fill') ed.fill(p, f.normal)
    else ed.dab(p, f.normal)
  }

  /** Shows value and position under the cursor (in this view's read-out line). */
  #readoutAt(x: number, y: number): void {
    const s = this.#store.state
    const p = this.pointAt(s, x, y)
    if (!p || !s.volume) {
      this.#readout.textContent = ''
      return
    }
    const g = s.volume.info.geometry
    const ijk = s.volume.grid.toIJK(p).map((c) => Math.round(c)) as [number, number, number]
    const inside = ijk.every((c, n) => c >= 0 && c < g.sizeIJK[n]!)
    const lps = `LPS (${p.map((c) => c.toFixed(1)).join(', ')}) mm`
    if (!inside) {
      this.#readout.textContent = `${lps} · outside the volume`
      return
    }
    const idx = ijk[0] + g.sizeIJK[0] * (ijk[1] + g.sizeIJK[1] * ijk[2])
    const v = s.volume.voxels[idx]!
    // A slice still on its way holds zeros, not the image: say so instead of a wrong value.
    const value =
      s.voxelsLoading && !s.voxelsLoading.loadedK[ijk[2]]
        ? 'value (slice still loading)'
        : `value ${Number.isInteger(v) ? v : v.toPrecision(5)}`
    let text = `${lps} · voxel (${ijk.join(', ')}) · ${value}`
    const l = s.labels?.voxels[idx]
    if (l !== undefined && l !== 0) {
      const name =
        (s.labelTable ?? s.labels!.header.labels).find((x) => x.value === l)?.name ?? `label ${l}`
      text += ` · ${name}`
    }
    const u = s.uncertainty?.voxels[idx]
    if (u !== undefined && s.showUncertainty) text += ` · uncertainty ${u.toPrecision(3)}`
    this.#readout.textContent = text
  }

  #bindMouse(): void {
    const c = this.root
    c.addEventListener('contextmenu', (e) => e.preventDefault())
    c.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault()
        // Lines or pages (deltaMode 1, 2): one event per notch; pixels: add up to notches, so a
        // trackpad's many small deltas do not race through the volume.
        this.#wheel += e.deltaMode === 0 ? e.deltaY / NOTCH_PX : Math.sign(e.deltaY)
        const notches = Math.trunc(this.#wheel)
        if (notches === 0) return
        this.#wheel -= notches
        // wheel up (negative deltaY) moves the way ArrowUp does
        this.step(-notches)
      },
      { passive: false },
    )
    c.addEventListener('pointerenter', () => this.#store.set({ activeView: this.#name }))
    c.addEventListener('pointerleave', () => {
      this.#pointer = undefined
      this.#readout.textContent = ''
      if (this.editor && this.editor.options.tool !== 'none') this.#redrawOverlay()
    })
    this.#title.addEventListener('pointerdown', (e) => e.stopPropagation())
    this.#title.addEventListener('dblclick', () => this.resetCamera())
    c.addEventListener('pointerdown', (e) => {
      const s = this.#store.state
      const cam = this.camera(s)
      if (!cam) return
      c.setPointerCapture(e.pointerId)
      const tool = this.editor?.options.tool ?? 'none'
      const mode =
        tool !== 'none' && e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey
          ? 'paint'
          : e.button === 2 || (e.button === 0 && (e.ctrlKey || e.metaKey))
            ? 'zoom'
            : e.button === 1 || (e.button === 0 && e.shiftKey)
              ? 'pan'
              : 'click-or-window'
      this.#drag = {
        button: e.button,
        mode,
        x: e.offsetX,
        y: e.offsetY,
        window: s.window,
        camera: cam,
        moved: false,
      }
      // A click in a view takes the focus from a typed field, so the shortcuts (Ctrl+Z) work.
      this.root.focus({ preventScroll: true })
      if (mode === 'paint') {
        this.editor!.beginStroke()
        this.#paintAt(e.offsetX, e.offsetY)
      }
      e.preventDefault()
    })
    c.addEventListener('pointermove', (e) => {
      if (e.target === this.#title) return
      this.#pointer = { x: e.offsetX, y: e.offsetY }
      this.#readoutAt(e.offsetX, e.offsetY)
      const d = this.#drag
      if (this.editor && this.editor.options.tool !== 'none') this.#redrawOverlay()
      if (!d) return
      if (d.mode === 'paint') {
        if (this.editor?.options.tool !== 'fill') this.#paintAt(e.offsetX, e.offsetY)
        return
      }
      const dx = e.offsetX - d.x
      const dy = e.offsetY - d.y
      if (!d.moved && Math.hypot(dx, dy) < CLICK_SLOP_PX) return
      d.moved = true
      const s = this.#store.state
      const f = this.frame(s)
      if (!f) return
      if (d.mode === 'click-or-window') {
        const range = s.volume
          ? s.volume.info.intensityRange[1] - s.volume.info.intensityRange[0]
          : 1
        const k = Math.max(range, 1e-6) / 500
        this.#store.set({
          window: {
            width: Math.max(d.window.width + dx * k, 1e-6),
            level: d.window.level - dy * k,
          },
          presetName: 'manual',
        })
      } else if (d.mode === 'zoom') {
        const mmPerPx = d.camera.mmPerPx * Math.exp(dy * 0.01)
        this.#store.set((st) => ({
          cameras: { ...st.cameras, [this.#name]: { ...d.camera, mmPerPx } },
        }))
      } else {
        const shift = add(
          scale(f.right, -dx * d.camera.mmPerPx),
          scale(f.down, -dy * d.camera.mmPerPx),
        )
        const centre = add(d.camera.centreLPS, shift)
        this.#store.set((st) => ({
          cameras: { ...st.cameras, [this.#name]: { ...d.camera, centreLPS: centre } },
        }))
      }
    })
    const end = (e: PointerEvent): void => {
      const d = this.#drag
      this.#drag = undefined
      if (d?.mode === 'paint') {
        this.editor?.endStroke()
        return
      }
      if (!d || d.moved || d.mode !== 'click-or-window' || e.type === 'pointercancel') return
      const p = this.pointAt(this.#store.state, e.offsetX, e.offsetY)
      if (p) this.#store.set({ crosshairLPS: p })
    }
    c.addEventListener('pointerup', end)
    c.addEventListener('pointercancel', end)
  }
}

/** Colour per label value from the label map's statistics (colours come from the model card). */
function labelColours(s: AppState): Map<number, readonly [number, number, number]> {
  const m = new Map<number, readonly [number, number, number]>()
  // The label table (edited by the user) wins over the label map's own colours.
  if (s.labelTable) {
    for (const l of s.labelTable) {
      if (!l.hidden && !s.overlay.hidden.has(l.value)) m.set(l.value, l.colour)
    }
    return m
  }
  for (const l of s.labels?.header.labels ?? []) {
    if (l.value !== 0 && !s.overlay.hidden.has(l.value)) m.set(l.value, l.color)
  }
  return m
}

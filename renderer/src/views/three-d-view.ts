/**
 * The 3D view: vtk.js surfaces per label (from the surface worker) and, optionally, volume
 * rendering of the image. vtk.js objects are untyped macro objects underneath; this module is
 * the only place that holds them, and it `delete()`s every one it replaces or drops.
 * Scene coordinates are LPS millimetres; the camera looks at the patient from the front
 * (patient's right on screen left, as in the coronal view).
 */
import '@kitware/vtk.js/Rendering/Profiles/Geometry'
import '@kitware/vtk.js/Rendering/Profiles/Volume'
import vtkDataArray from '@kitware/vtk.js/Common/Core/DataArray'
import vtkImageData from '@kitware/vtk.js/Common/DataModel/ImageData'
import vtkPiecewiseFunction from '@kitware/vtk.js/Common/DataModel/PiecewiseFunction'
import vtkPolyData from '@kitware/vtk.js/Common/DataModel/PolyData'
import vtkOrientationMarkerWidget from '@kitware/vtk.js/Interaction/Widgets/OrientationMarkerWidget'
import vtkActor from '@kitware/vtk.js/Rendering/Core/Actor'
import vtkAnnotatedCubeActor from '@kitware/vtk.js/Rendering/Core/AnnotatedCubeActor'
import vtkColorTransferFunction from '@kitware/vtk.js/Rendering/Core/ColorTransferFunction'
import vtkMapper from '@kitware/vtk.js/Rendering/Core/Mapper'
import vtkVolume from '@kitware/vtk.js/Rendering/Core/Volume'
import vtkVolumeMapper from '@kitware/vtk.js/Rendering/Core/VolumeMapper'
import vtkGenericRenderWindow from '@kitware/vtk.js/Rendering/Misc/GenericRenderWindow'
import type { AppState, LoadedLabels, LoadedVolume, Store } from '../app/state.js'
import { centreLPS, extentAlong, viewFromName } from '../app/view-geometry.js'
import { el } from '../panels/dom.js'
import type { SurfaceReply, SurfaceRequest } from '../workers/surface-protocol.js'

/** Status while volume rendering waits for the voxels still streaming in. */
const WAITING = 'volume rendering: waiting for the last slices…'

type GenericRenderWindow = ReturnType<typeof vtkGenericRenderWindow.newInstance>
type Actor = ReturnType<typeof vtkActor.newInstance>
type Mapper = ReturnType<typeof vtkMapper.newInstance>
type PolyData = ReturnType<typeof vtkPolyData.newInstance>

interface SurfaceActor {
  readonly actor: Actor
  readonly mapper: Mapper
  readonly poly: PolyData
}

interface VolumeActor {
  readonly volume: ReturnType<typeof vtkVolume.newInstance>
  readonly mapper: ReturnType<typeof vtkVolumeMapper.newInstance>
  readonly image: ReturnType<typeof vtkImageData.newInstance>
  readonly ctf: ReturnType<typeof vtkColorTransferFunction.newInstance>
  readonly otf: ReturnType<typeof vtkPiecewiseFunction.newInstance>
}

/** `directionLPS · diag(spacing)`, row-major. */
export class ThreeDView {
  readonly root: HTMLElement
  readonly #store: Store
  readonly #status: HTMLElement
  readonly #title: HTMLElement
  readonly #grw: GenericRenderWindow
  readonly #marker: ReturnType<typeof vtkOrientationMarkerWidget.newInstance>
  readonly #cube: ReturnType<typeof vtkAnnotatedCubeActor.newInstance>
  readonly #surfaces = new Map<number, SurfaceActor>()
  readonly #resize: ResizeObserver
  #volumeActor: VolumeActor | undefined
  #worker: Worker | undefined
  #request = 0
  /** The voxels shown: the same volume keeps them when its final figures replace the early ones. */
  #shownVolume: LoadedVolume['voxels'] | undefined
  #shownLabels: LoadedLabels | undefined
  #lastKey: unknown[] = []
  #renderQueued = false
  #disposed = false

  constructor(store: Store) {
    this.#store = store
    const host = el('div', { className: 'vtk-host' })
    this.#status = el('div', { className: 'view-status' })
    this.#title = el('div', { className: 'view-title' }, ['3D (LPS mm, anterior view)'])
    this.root = el('div', { className: 'view three-d-view' }, [host, this.#title, this.#status])
    this.root.dataset.view = '3d'
    this.#grw = vtkGenericRenderWindow.newInstance({
      background: [0.05, 0.05, 0.08],
      listenWindowResize: false,
    })
    this.#grw.setContainer(host)
    // Orientation cube in the LPS scene: +x is the patient's left, +y posterior, +z superior.
    this.#cube = vtkAnnotatedCubeActor.newInstance()
    this.#cube.setDefaultStyle({
      fontStyle: 'bold',
      fontFamily: 'sans-serif',
      fontColor: '#f5d76e',
      faceColor: '#2a3348',
      edgeThickness: 0.06,
      edgeColor: '#9aa4b8',
      resolution: 256,
    })
    this.#cube.setXPlusFaceProperty({ text: 'L', faceRotation: 90 })
    this.#cube.setXMinusFaceProperty({ text: 'R', faceRotation: -90 })
    this.#cube.setYPlusFaceProperty({ text: 'P', faceRotation: 180 })
    this.#cube.setYMinusFaceProperty({ text: 'A' })
    this.#cube.setZPlusFaceProperty({ text: 'S' })
    this.#cube.setZMinusFaceProperty({ text: 'I' })
    this.#marker = vtkOrientationMarkerWidget.newInstance({
      actor: this.#cube,
      interactor: this.#grw.getInteractor(),
    })
    this.#marker.setViewportCorner(vtkOrientationMarkerWidget.Corners.BOTTOM_RIGHT)
    this.#marker.setViewportSize(0.2)
    this.#marker.setMinPixelSize(64)
    this.#marker.setMaxPixelSize(128)
    this.#marker.setEnabled(true)
    // The title says where the camera stands, also after the user rotates the scene.
    const camera = this.#grw.getRenderer().getActiveCamera()
    camera.onModified(() => this.#nameView(camera))
    this.#resize = new ResizeObserver(() => {
      this.#grw.resize()
      this.#renderNow()
    })
    this.#resize.observe(host)
  }

  dispose(): void {
    this.#disposed = true
    this.#resize.disconnect()
    this.#worker?.terminate()
    this.#clearSurfaces()
    this.#dropVolume()
    this.#marker.setEnabled(false)
    this.#marker.delete()
    this.#cube.delete()
    this.#grw.delete()
    this.root.remove()
  }

  render(s: AppState): void {
    const key = [
      s.volume,
      s.voxelsLoading === undefined,
      s.labels,
      s.show3d,
      s.overlay.hidden,
      s.window,
    ]
    if (key.every((k, n) => k === this.#lastKey[n])) return
    this.#lastKey = key
    if (s.volume?.voxels !== this.#shownVolume) {
      this.#shownVolume = s.volume?.voxels
      this.#clearSurfaces()
      this.#dropVolume()
      if (s.volume) this.#resetCamera(s.volume)
    }
    if (s.labels !== this.#shownLabels) {
      this.#shownLabels = s.labels
      this.#clearSurfaces()
      if (s.labels && s.volume) this.#computeSurfaces(s.volume, s.labels)
    }
    if (!s.labels && !s.show3d.volume) {
      this.#status.textContent = s.volume
        ? 'no labels yet: run a model, or tick "3D volume rendering"'
        : ''
    } else if (!s.labels && this.#status.textContent?.startsWith('no labels')) {
      this.#status.textContent = ''
    }
    for (const [value, a] of this.#surfaces) {
      a.actor.setVisibility(s.show3d.surfaces && !s.overlay.hidden.has(value))
    }
    // Volume rendering uploads the whole grid to the GPU once: only after the last slab.
    if (s.show3d.volume && s.volume && s.voxelsLoading) {
      this.#status.textContent = WAITING
    } else if (s.show3d.volume && s.volume) {
      if (this.#status.textContent?.startsWith(WAITING)) this.#status.textContent = ''
      this.#showVolume(s)
    } else if (this.#volumeActor) this.#volumeActor.volume.setVisibility(false)
    this.#renderNow()
  }

  /**
   * Renders once more and draws the picture over the box `x, y, w, h` (views/snapshot.ts) in the
   * same task: the WebGL drawing buffer (not preserved) is still this frame's until it yields.
   */
  drawSnapshot(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number): void {
    const canvas = this.#grw.getApiSpecificRenderWindow().getCanvas()
    if (!canvas) return
    this.#renderNow()
    ctx.drawImage(canvas, x, y, w, h)
  }

  #nameView(cam: { getPosition(): number[]; getFocalPoint(): number[] }): void {
    const p = cam.getPosition()
    const f = cam.getFocalPoint()
    const text = `3D (LPS mm, ${viewFromName([p[0]! - f[0]!, p[1]! - f[1]!, p[2]! - f[2]!])})`
    if (this.#title.textContent !== text) this.#title.textContent = text
  }

  #renderNow(): void {
    this.#grw.getRenderWindow().render()
  }

  #resetCamera(v: LoadedVolume): void {
    const g = v.info.geometry
    const c = centreLPS(g)
    const r = Math.max(
      extentAlong(g, [1, 0, 0], c),
      extentAlong(g, [0, 1, 0], c),
      extentAlong(g, [0, 0, 1], c),
    )
    const cam = this.#grw.getRenderer().getActiveCamera()
    cam.setFocalPoint(c[0], c[1], c[2])
    // from the front: anterior is −y in LPS; head up (+z)
    cam.setPosition(c[0], c[1] - 4 * r, c[2])
    cam.setViewUp(0, 0, 1)
    cam.setViewAngle(30)
    this.#grw.getRenderer().resetCameraClippingRange()
  }

  #clearSurfaces(): void {
    const ren = this.#grw.getRenderer()
    for (const a of this.#surfaces.values()) {
      ren.removeActor(a.actor)
      a.actor.delete()
      a.mapper.delete()
      a.poly.delete()
    }
    this.#surfaces.clear()
  }

  #dropVolume(): void {
    const v = this.#volumeActor
    if (!v) return
    this.#grw.getRenderer().removeVolume(v.volume)
    v.volume.delete()
    v.mapper.delete()
    v.image.delete()
    v.ctf.delete()
    v.otf.delete()
    this.#volumeActor = undefined
  }

  #computeSurfaces(v: LoadedVolume, labels: LoadedLabels): void {
    const id = ++this.#request
    const values = labels.header.labels
      .filter((l) => l.value !== 0 && l.voxels > 0)
      .map((l) => l.value)
    if (values.length === 0) return
    this.#worker ??= new Worker(new URL('../workers/surface-worker.ts', import.meta.url), {
      type: 'module',
    })
    const colours = new Map(labels.header.labels.map((l) => [l.value, l.color]))
    this.#status.textContent = 'computing surfaces…'
    this.#worker.onmessage = (ev: MessageEvent<SurfaceReply>) => {
      const r = ev.data
      if (r.id !== this.#request) return
      if (r.kind === 'error') {
        this.#status.textContent = `surfaces failed: ${r.message}`
        return
      }
      if (r.kind === 'done') {
        this.#status.textContent = ''
        return
      }
      this.#addSurface(r.label, r.points, r.polys, colours.get(r.label) ?? [255, 255, 0])
    }
    this.#worker.onerror = (e) => {
      this.#status.textContent = `surface worker failed: ${e.message}`
    }
    const req: SurfaceRequest = {
      id,
      sizeIJK: v.info.geometry.sizeIJK,
      indexToLPS: v.grid.matrix,
      originLPS: v.info.geometry.originLPS,
      // a copy: the views keep the original
      labels: labels.voxels.slice(),
      values,
      maxBoxVoxels: 2_000_000,
    }
    this.#worker.postMessage(req, [req.labels.buffer])
  }

  #addSurface(
    value: number,
    points: Float32Array,
    polys: Uint32Array,
    colour: readonly number[],
  ): void {
    const poly = vtkPolyData.newInstance()
    poly.getPoints().setData(points, 3)
    poly.getPolys().setData(polys)
    const mapper = vtkMapper.newInstance()
    mapper.setInputData(poly)
    const actor = vtkActor.newInstance()
    actor.setMapper(mapper)
    actor.getProperty().setColor(colour[0]! / 255, colour[1]! / 255, colour[2]! / 255)
    actor.getProperty().setInterpolationToPhong()
    const s = this.#store.state
    actor.setVisibility(s.show3d.surfaces && !s.overlay.hidden.has(value))
    this.#grw.getRenderer().addActor(actor)
    const first = this.#surfaces.size === 0
    this.#surfaces.set(value, { actor, mapper, poly })
    // fit the first surface, keeping the anterior view direction
    if (first) this.#grw.getRenderer().resetCamera()
    this.#grw.getRenderer().resetCameraClippingRange()
    this.#renderSoon()
  }

  /**
   * One render in the next animation frame for however many surfaces arrive before it: the
   * worker sends them back to back, and each render draws every surface so far (seconds in all
   * with a software renderer when drawn once per surface).
   */
  #renderSoon(): void {
    if (this.#renderQueued) return
    this.#renderQueued = true
    requestAnimationFrame(() => {
      this.#renderQueued = false
      if (!this.#disposed) this.#renderNow()
    })
  }

  #showVolume(s: AppState): void {
    const v = s.volume!
    if (!this.#volumeActor) {
      const g = v.info.geometry
      const image = vtkImageData.newInstance()
      image.setDimensions(g.sizeIJK[0], g.sizeIJK[1], g.sizeIJK[2])
      image.setSpacing([g.spacingMm[0], g.spacingMm[1], g.spacingMm[2]])
      image.setOrigin([g.originLPS[0], g.originLPS[1], g.originLPS[2]])
      // vtk.js stores direction column-major; ours is row-major: transpose (architecture.md §4)
      const d = g.directionLPS
      image.setDirection([d[0], d[3], d[6], d[1], d[4], d[7], d[2], d[5], d[8]])
      image
        .getPointData()
        .setScalars(
          vtkDataArray.newInstance({ numberOfComponents: 1, values: v.voxels, name: 'image' }),
        )
      const mapper = vtkVolumeMapper.newInstance()
      mapper.setInputData(image)
      mapper.setSampleDistance(Math.min(...g.spacingMm))
      const volume = vtkVolume.newInstance()
      volume.setMapper(mapper)
      const ctf = vtkColorTransferFunction.newInstance()
      const otf = vtkPiecewiseFunction.newInstance()
      volume.getProperty().setRGBTransferFunction(0, ctf)
      volume.getProperty().setScalarOpacity(0, otf)
      volume.getProperty().setInterpolationTypeToLinear()
      this.#grw.getRenderer().addVolume(volume)
      this.#volumeActor = { volume, mapper, image, ctf, otf }
    }
    const { ctf, otf, volume } = this.#volumeActor
    const lo = s.window.level - s.window.width / 2
    const hi = s.window.level + s.window.width / 2
    ctf.removeAllPoints()
    ctf.addRGBPoint(lo, 0, 0, 0)
    ctf.addRGBPoint(hi, 1, 1, 1)
    otf.removeAllPoints()
    otf.addPoint(lo, 0)
    otf.addPoint(hi, 0.25)
    volume.setVisibility(true)
  }
}

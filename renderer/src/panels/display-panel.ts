/** Window/level presets, slice alignment, overlay and 3D toggles, label list, hotspots. */
import { HEAT_FLOOR, heatGradientCss, heatKindText } from '../app/heat-scale.js'
import type { Controller } from '../app/controller.js'
import { WINDOW_PRESETS, type AppState, type Store } from '../app/state.js'
import { el, setChildren } from './dom.js'

function check(
  cls: string,
  text: string,
  onchange: (on: boolean) => void,
): [HTMLLabelElement, HTMLInputElement] {
  const input = el('input', { type: 'checkbox', className: cls })
  input.onchange = () => onchange(input.checked)
  return [el('label', { className: 'check' }, [input, ` ${text}`]), input]
}

export function mountDisplayPanel(parent: HTMLElement, store: Store, ctl: Controller): void {
  const presets = el(
    'div',
    { className: 'presets' },
    ['auto', ...WINDOW_PRESETS.map((p) => p.name)].map((name) =>
      el('button', {
        className: 'preset',
        textContent:
          name === 'auto'
            ? 'MR auto (p0.5–p99.5)'
            : `${name} ${WINDOW_PRESETS.find((p) => p.name === name)!.width}/${WINDOW_PRESETS.find((p) => p.name === name)!.level}`,
        onclick: () => ctl.setPreset(name),
        dataset: { preset: name },
      }),
    ),
  )
  const wl = el('div', { className: 'wl muted' })
  // Typed window: width and level in the image's units (HU for CT), applied on Enter or blur.
  const typed = (cls: string, label: string): HTMLInputElement =>
    el('input', { type: 'number', className: cls, step: 'any', title: label, ariaLabel: label })
  const wIn = typed('wl-width', 'Window width')
  const lIn = typed('wl-level', 'Window level')
  const applyTyped = (): void => {
    const width = Number(wIn.value)
    const level = Number(lIn.value)
    if (!(width > 0) || !Number.isFinite(level)) return
    store.set({ window: { width, level }, presetName: 'manual' })
  }
  for (const input of [wIn, lIn]) {
    input.onchange = applyTyped
  }
  const wlForm = el('div', { className: 'wl-typed' }, [
    el('label', {}, ['W ', wIn]),
    el('label', {}, [' L ', lIn]),
  ])
  const [alignLabel, align] = check('align', 'Align slices to acquisition (voxel) axes', (on) =>
    store.set({ alignment: on ? 'acquisition' : 'patient', cameras: {} }),
  )
  const [visLabel, vis] = check('overlay-visible', 'Show labels (O)', (on) =>
    store.set((s) => ({ overlay: { ...s.overlay, visible: on } })),
  )
  const [outLabel, outline] = check('overlay-outline', 'Outline only', (on) =>
    store.set((s) => ({ overlay: { ...s.overlay, outline: on } })),
  )
  const opacity = el('input', {
    type: 'range',
    min: '0',
    max: '1',
    step: '0.05',
    className: 'overlay-opacity',
  })
  opacity.oninput = () =>
    store.set((s) => ({ overlay: { ...s.overlay, opacity: Number(opacity.value) } }))
  const [uncLabel, unc] = check('show-uncertainty', 'Uncertainty heatmap (U)', (on) =>
    store.set({ showUncertainty: on }),
  )
  const [surfLabel, surf] = check('show-surfaces', '3D surfaces', (on) =>
    store.set((s) => ({ show3d: { ...s.show3d, surfaces: on } })),
  )
  const [volLabel, vol] = check('show-volume', '3D volume rendering', (on) =>
    store.set((s) => ({ show3d: { ...s.show3d, volume: on } })),
  )
  const legendBar = el('div', { className: 'heat-bar' })
  legendBar.style.background = heatGradientCss()
  const legendLo = el('span', {})
  const legendHi = el('span', {})
  const legendKind = el('div', { className: 'muted heat-kind' })
  const legend = el('div', { className: 'heat-legend' }, [
    legendBar,
    el('div', { className: 'heat-ticks' }, [legendLo, legendHi]),
    legendKind,
  ])
  const labelList = el('table', { className: 'label-list' })
  const hotspots = el('ol', { className: 'hotspots' })
  parent.append(
    el('section', { className: 'panel display-panel' }, [
      el('h2', {}, ['Window (W)']),
      presets,
      wl,
      wlForm,
      alignLabel,
      el('h2', {}, ['Labels']),
      visLabel,
      outLabel,
      el('label', {}, ['Opacity ', opacity]),
      labelList,
      uncLabel,
      legend,
      el('h3', {}, ['Review hotspots (most uncertain regions)']),
      hotspots,
      el('h2', {}, ['3D']),
      surfLabel,
      volLabel,
    ]),
  )
  let shownLabels: AppState['labels']
  let shownHidden: AppState['overlay']['hidden'] | undefined
  let shownHot: AppState['hotspots']
  store.subscribe((s) => {
    for (const b of presets.querySelectorAll<HTMLButtonElement>('button')) {
      b.classList.toggle('active', b.dataset.preset === s.presetName)
    }
    wl.textContent = s.volume
      ? `W ${s.window.width.toPrecision(4)} / L ${s.window.level.toPrecision(4)}`
      : ''
    // Show the current window in the fields unless the user is typing in one.
    for (const [input, v] of [
      [wIn, s.window.width],
      [lIn, s.window.level],
    ] as const) {
      if (document.activeElement !== input) input.value = String(Number(v.toPrecision(6)))
    }
    align.checked = s.alignment === 'acquisition'
    vis.checked = s.overlay.visible
    outline.checked = s.overlay.outline
    opacity.value = String(s.overlay.opacity)
    unc.checked = s.showUncertainty
    unc.disabled = !s.uncertainty
    legend.hidden = !(s.showUncertainty && s.uncertainty)
    if (s.uncertainty) {
      const [lo, hi] = s.uncertainty.header.range
      // The colours start at HEAT_FLOOR of the maximum; below it the image shows through.
      legendLo.textContent = `${Math.max(lo, HEAT_FLOOR * hi).toPrecision(2)}`
      legendHi.textContent = `${hi.toPrecision(3)}`
      legendKind.textContent = heatKindText(s.uncertainty.header.kind)
    }
    surf.checked = s.show3d.surfaces
    vol.checked = s.show3d.volume
    if (s.labels !== shownLabels || s.overlay.hidden !== shownHidden) {
      shownLabels = s.labels
      shownHidden = s.overlay.hidden
      const rows = (s.labels?.header.labels ?? []).filter((l) => l.value !== 0)
      setChildren(labelList, [
        el(
          'tr',
          {},
          ['', 'Label', 'Voxels', 'Volume'].map((h) => el('th', {}, [h])),
        ),
        ...rows.map((l) => {
          const box = el('input', { type: 'checkbox', checked: !s.overlay.hidden.has(l.value) })
          box.onchange = () =>
            store.set((st) => {
              const hidden = new Set(st.overlay.hidden)
              if (box.checked) hidden.delete(l.value)
              else hidden.add(l.value)
              return { overlay: { ...st.overlay, hidden } }
            })
          const swatch = el('span', { className: 'swatch' })
          swatch.style.background = `rgb(${l.color.join(',')})`
          return el('tr', { className: 'label-row', dataset: { value: String(l.value) } }, [
            el('td', {}, [box, swatch]),
            el('td', {}, [l.name]),
            el('td', { className: 'num' }, [l.voxels.toLocaleString('en')]),
            el('td', { className: 'num' }, [`${l.volumeMl.toFixed(2)} mL`]),
          ])
        }),
      ])
      if (rows.length === 0) {
        labelList.append(
          el('tr', {}, [el('td', { className: 'muted', colSpan: 4 }, ['no labels yet'])]),
        )
      }
    }
    if (s.hotspots !== shownHot) {
      shownHot = s.hotspots
      const names = new Map((s.labels?.header.labels ?? []).map((l) => [l.value, l.name]))
      setChildren(
        hotspots,
        s.hotspots === undefined
          ? [
              el('li', { className: 'muted' }, [
                s.uncertainty ? 'computing…' : 'run with "Uncertainty map" to get hotspots',
              ]),
            ]
          : s.hotspots.length === 0
            ? [el('li', { className: 'muted' }, ['none found'])]
            : s.hotspots.map((h) =>
                el('li', {}, [
                  el('button', {
                    className: 'hotspot',
                    textContent: hotspotText(
                      names.get(h.label) ?? String(h.label),
                      h,
                      s.volume?.info.geometry.spacingMm,
                    ),
                    title: `Jump to LPS (${h.centreLPS.map((c) => c.toFixed(1)).join(', ')}) mm`,
                    onclick: () => store.set({ crosshairLPS: h.centreLPS, showUncertainty: true }),
                  }),
                ]),
              ),
      )
    }
  })
}

/** Millilitres for reading: 920, 12.5, 0.85, 0.0042 (never "9.2e+2"). */
function ml(x: number): string {
  return x >= 100
    ? x.toFixed(0)
    : x >= 10
      ? x.toFixed(1)
      : x >= 0.01
        ? x.toFixed(2)
        : x.toPrecision(2)
}

/**
 * "brain: 0.85 uncertain mL (1.2 mL, mean 0.71) at R 20 A 31 S 40": the ranking figure (size ×
 * mean uncertainty), its two parts, and where it is in patient words (LPS mm turned into R/L,
 * A/P, S/I), which a reader can act on; voxel counts are not.
 */
function hotspotText(
  name: string,
  h: {
    readonly voxels: number
    readonly centreLPS: readonly number[]
    readonly meanUncertainty: number
  },
  spacingMm: readonly number[] | undefined,
): string {
  const voxelMl = spacingMm ? spacingMm.reduce((a, b) => a * b, 1) / 1000 : undefined
  const size = voxelMl !== undefined ? `${ml(h.voxels * voxelMl)} mL` : `${h.voxels} voxels`
  const letters: readonly (readonly [string, string])[] = [
    ['L', 'R'],
    ['P', 'A'],
    ['S', 'I'],
  ]
  const where = h.centreLPS
    .map((c, axis) => `${c >= 0 ? letters[axis]![0] : letters[axis]![1]} ${Math.abs(c).toFixed(0)}`)
    .join(' ')
  // The ranking figure: the region's uncertain volume (size × mean uncertainty).
  const score =
    voxelMl !== undefined
      ? `${ml(h.voxels * voxelMl * h.meanUncertainty)} uncertain mL`
      : `score ${(h.voxels * h.meanUncertainty).toPrecision(3)}`
  return `${name}: ${score} (${size}, mean ${h.meanUncertainty.toFixed(2)}) at ${where}`
}

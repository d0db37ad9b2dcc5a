/** Model picker, provider, TTA, run with progress/ETA/cancel, what ran, and saving. */
import type { ModelSummary, ProviderChoice } from '../../../src/shared/api.js'
import { checkInputFit } from '../../../src/core/volume/check-input-fit.js'
import { describeError, type Controller } from '../app/controller.js'
import { saveFolderName, savedLine } from '../app/save-names.js'
import type { AppState, Store } from '../app/state.js'
import { el, setChildren } from './dom.js'

/**
 * What to warn about in the panel: after a run of the selected model on this volume, the
 * result's warnings; before, the input checked against the selected model's card (the core runs
 * an unfit input anyway in the viewer, and says so again with the result).
 */
export function panelWarnings(s: AppState, m: ModelSummary | undefined): string[] {
  const v = s.volume
  if (!v || !m) return []
  const header = s.labels?.header
  if (header?.run && header.run.modelId === m.id && header.volumeId === v.info.volumeId) {
    return [...header.warnings]
  }
  // Warned about once every slice is in and the figures are over all of them (not `partial`).
  if (s.voxelsLoading || v.info.partial) return []
  const fit = checkInputFit(m, {
    modality: v.info.modality,
    signature: v.info.signature,
    spacingMm: v.info.geometry.spacingMm,
  })
  return [...(fit.ok ? [] : [`${fit.reason}: the result may be meaningless`]), ...fit.warnings]
}

function eta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return 'estimating…'
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s left`
  return `about ${Math.round(seconds / 60)} min left`
}

export function mountSegmentPanel(parent: HTMLElement, store: Store, ctl: Controller): void {
  const model = el('select', { className: 'model-select', title: 'Model' })
  const modelInfo = el('div', { className: 'model-info' })
  const provider = el('select', { className: 'provider-select', title: 'Execution provider' })
  const tta = el('input', { type: 'checkbox', className: 'tta' })
  const unc = el('input', { type: 'checkbox', className: 'want-uncertainty' })
  const run = el('button', { className: 'run primary', textContent: 'Segment' })
  const cancel = el('button', { className: 'cancel', textContent: 'Cancel (Esc)' })
  const bar = el('progress', { className: 'progress', max: 1, value: 0 })
  const progressText = el('div', { className: 'progress-text' })
  const progress = el('div', { className: 'progress-box' }, [bar, progressText, cancel])
  const ran = el('div', { className: 'run-info' })
  const warnings = el('div', { className: 'segment-warnings' })
  const save = el('button', { className: 'save', textContent: 'Save mask (S)' })
  const saved = el('div', { className: 'saved' })
  parent.append(
    el('section', { className: 'panel segment-panel' }, [
      el('h2', {}, ['Segmentation']),
      el('label', {}, ['Model ', model]),
      modelInfo,
      el('label', {}, ['Provider ', provider]),
      el('label', { className: 'check' }, [tta, ' Test-time mirroring (TTA)']),
      el('label', { className: 'check' }, [unc, ' Uncertainty map']),
      warnings,
      run,
      progress,
      ran,
      save,
      saved,
    ]),
  )
  model.onchange = () => store.set({ modelId: model.value })
  provider.onchange = () => store.set({ provider: provider.value as ProviderChoice })
  tta.onchange = () => store.set({ tta: tta.checked })
  unc.onchange = () => store.set({ wantUncertainty: unc.checked })
  run.onclick = () => void ctl.segment()
  cancel.onclick = () => void ctl.cancel()
  save.onclick = () => void ctl.save()

  let models: unknown
  let providers: unknown
  let infoFor: unknown
  let warnedFor: unknown[] = []
  store.subscribe((s) => {
    if (s.models !== models) {
      models = s.models
      setChildren(
        model,
        s.models.length === 0
          ? [el('option', { value: '', textContent: '(no model installed)' })]
          : s.models.map((m) =>
              el('option', { value: m.id, textContent: `${m.name} (${m.version})` }),
            ),
      )
    }
    if (s.hello?.providers !== providers) {
      providers = s.hello?.providers
      const opts = [el('option', { value: 'auto', textContent: 'auto (best available)' })]
      for (const p of s.hello?.providers ?? []) {
        opts.push(
          el('option', {
            value: p.id,
            textContent: p.available
              ? p.id
              : `${p.id} (unavailable${p.reason ? `: ${p.reason}` : ''})`,
            disabled: !p.available,
          }),
        )
      }
      setChildren(provider, opts)
    }
    model.value = s.modelId ?? ''
    provider.value = s.provider
    tta.checked = s.tta
    unc.checked = s.wantUncertainty
    const m = s.models.find((x) => x.id === s.modelId)
    // rebuilt only when the model changes (this runs on every state change, e.g. each scroll step)
    if (m !== infoFor) {
      infoFor = m
      setChildren(
        modelInfo,
        m
          ? [
              el('div', {}, [el('b', {}, ['Intended use: ']), m.intendedUse]),
              el('div', {}, [el('b', {}, ['Licence: ']), m.licence]),
              el('div', { className: 'muted' }, [
                `${m.modality} · labels: ${m.labels
                  .filter((l) => l.value !== 0)
                  .map((l) => l.name)
                  .join(', ')}`,
              ]),
            ]
          : [],
      )
    }
    // Recomputed only when the volume, the model or the result changes.
    const key = [s.volume, m, s.labels, s.voxelsLoading === undefined]
    if (key.some((x, n) => x !== warnedFor[n])) {
      warnedFor = key
      setChildren(
        warnings,
        panelWarnings(s, m).map((w) => el('div', { className: 'warning' }, [w])),
      )
    }
    run.disabled = !s.volume || !s.modelId || !!s.job || !s.connected
    progress.hidden = !s.job
    if (s.job) {
      const frac = s.job.total > 0 ? s.job.done / s.job.total : 0
      bar.value = frac
      progressText.textContent =
        s.job.stage === 'queued'
          ? `waiting for a free worker (${s.job.total} ${s.job.total === 1 ? 'job' : 'jobs'} ahead)`
          : s.job.stage === 'postprocess'
            ? // Steps over the whole grid: counted, not timed (no estimate to give).
              `post-processing ${s.job.done}/${s.job.total}`
            : `${s.job.stage}: ${s.job.done}/${s.job.total} · ${eta(s.job.etaSeconds)}`
    }
    const r = s.lastRun
    ran.textContent = r
      ? `Ran ${r.modelId} on ${r.provider} (${r.device}; asked: ${s.provider}) in ${((r.timingsMs.total ?? 0) / 1000).toFixed(1)} s${r.uncertainty !== 'none' ? ` · uncertainty: ${r.uncertainty}` : ''}`
      : ''
    save.disabled = !s.labels
    const failed = s.saved ? undefined : s.saveFailed
    saved.textContent = s.saved
      ? savedLine(s.saved, saveFolderName(s))
      : failed
        ? `Not saved: ${describeError(failed)}`
        : ''
    saved.classList.toggle('failed', failed !== undefined)
  })
}

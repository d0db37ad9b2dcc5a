import type { ModelList } from '../jobs/job-protocol.js'
import type { SeriesInfo, VolumeInfo } from '../shared/info.js'

const n = (x: number): string => Number(x.toFixed(6)).toString()
const vec = (v: readonly number[]): string => v.map(n).join(', ')

export function formatSeriesTable(series: readonly SeriesInfo[]): string {
  const lines = series.map((s) =>
    [
      `  [${s.index}] ${s.modality || '??'} #${s.seriesNumber ?? '-'} "${s.description}"  ${s.columns}×${s.rows}, ${s.fileCount} files  key ${s.key}`,
      ...(s.warnings ?? []).map((w) => `      ! ${w}`),
    ].join('\n'),
  )
  return lines.join('\n')
}

/** Human-readable `volseg info` output. */
export function formatInfo(info: VolumeInfo): string {
  const d = info.directionLPS
  const out = [
    `input:        ${info.input.join(' ')}`,
    `format:       ${info.format}${info.nifti ? `-${info.nifti.version}` : ''} (${info.fileCount} file${info.fileCount === 1 ? '' : 's'})`,
    `size (i,j,k): ${info.sizeIJK.join(' × ')}`,
    `spacing:      ${vec(info.spacingMm)} mm`,
    `origin (LPS): ${vec(info.originLPS)} mm`,
    `direction:    [${vec(d.slice(0, 3))}] [${vec(d.slice(3, 6))}] [${vec(d.slice(6, 9))}] (LPS, row-major)`,
    `orientation:  ${info.orientation} (axes i, j, k point towards)`,
    `pixel type:   ${info.pixelType}`,
    `intensity:    ${info.intensityRange[0] ?? 'NaN'} … ${info.intensityRange[1] ?? 'NaN'}`,
  ]
  if (info.nifti) {
    const x = info.nifti
    out.push(
      `xforms:       qform_code ${x.qform_code}, sform_code ${x.sform_code}; grid from ${x.geometrySource}` +
        (x.qformSformDisagreementMm !== null
          ? `; qform vs sform ${n(x.qformSformDisagreementMm)} mm, ${n(x.qformSformDisagreementDeg ?? 0)}°`
          : ''),
      `scaling:      scl_slope ${x.scl_slope ?? 'NaN'}, scl_inter ${x.scl_inter ?? 'NaN'} (${x.scalingApplied ? 'applied' : 'not applied'})`,
    )
  }
  if (info.series) {
    out.push(
      `series:       ${info.series.length} found, opened ${info.chosenSeries}`,
      formatSeriesTable(info.series),
    )
    if (info.transferSyntaxes) out.push(`transfer syntaxes: ${info.transferSyntaxes.join(', ')}`)
    if (info.skipped && info.skipped.length > 0) {
      out.push(`skipped:      ${info.skipped.length} file(s)`)
      for (const s of info.skipped.slice(0, 10)) out.push(`  ${s.file}: ${s.reason}`)
      if (info.skipped.length > 10) out.push(`  … ${info.skipped.length - 10} more`)
    }
  }
  out.push(
    info.warnings.length === 0
      ? 'warnings:     none'
      : `warnings:\n${info.warnings.map((w) => `  - ${w}`).join('\n')}`,
  )
  return out.join('\n')
}

/** Human listing of installed model packs and providers (`volseg models`). */
export function formatModels(m: ModelList): string {
  const lines: string[] = []
  if (m.packs.length === 0) lines.push('no model packs installed')
  for (const p of m.packs) {
    const c = p.card
    lines.push(`${c.id} ${c.version}  ${c.name}`)
    lines.push(
      `  task: ${c.task}, ${c.modality}; labels: ${c.labels.map((l) => `${l.value} ${l.name}`).join(', ')}`,
    )
    lines.push(
      `  grid: ${c.spacingMm ? `${c.spacingMm.join('×')} mm` : 'source spacing'}, patch ${c.patchSize.join('×')}, orientation ${c.orientation}`,
    )
    lines.push(`  intended use: ${c.intendedUse}`)
    lines.push(`  licence: ${c.licence}; ${(p.onnxBytes / 1e6).toFixed(1)} MB at ${p.dir}`)
  }
  for (const q of m.problems) lines.push(`broken pack ${q.dir}: ${q.message}`)
  lines.push(`searched: ${m.searched.join(', ')}`)
  lines.push(
    `providers: ${m.providers.map((p) => (p.available ? p.id : `${p.id} (no: ${p.reason ?? ''})`)).join('; ')}`,
  )
  return `${lines.join('\n')}\n`
}

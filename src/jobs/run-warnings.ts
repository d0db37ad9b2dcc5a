/**
 * What a finished run should tell the user beside its labels: an input that does not suit the
 * card (run anyway), the card's concerns about the input, providers that were tried and dropped,
 * and a mask with no foreground. Shared by the batch report and the service's label maps.
 */
import type { InputCheck } from '../shared/input-fit.js'
import type { ModelCard } from '../shared/model-card.js'
import type { ModelReport } from '../shared/segment-report.js'

/** Reasons that say the machine has no such device (not that the provider failed on it). */
const NO_DEVICE = /no (supported )?adapter|failed to get a webgpu adapter/i

/** How the unfit input was run anyway: `--force` on the CLI, a warning-only run in the viewer. */
export type ForcedBy = 'cli' | 'viewer'

/** The sentence for an unfit input that ran anyway. */
export function mismatchWarning(check: InputCheck, by: ForcedBy): string | undefined {
  if (check.ok) return undefined
  const reason = check.reason ?? `the input does not suit model ${check.expected}`
  return by === 'cli'
    ? `${reason}; run anyway (--force)`
    : `${reason}: the result may be meaningless`
}

/**
 * Warnings for one run, in order: the input check, its own concerns, provider fallbacks, an empty
 * mask. `labelVoxels[c]` counts `card.labels[c]`.
 */
export function runWarnings(
  card: ModelCard,
  check: InputCheck,
  model: ModelReport,
  labelVoxels: readonly number[],
  by: ForcedBy,
): string[] {
  const out: string[] = []
  const mismatch = mismatchWarning(check, by)
  if (mismatch !== undefined) out.push(mismatch)
  out.push(...check.warnings)
  for (const a of model.attempts) {
    // A provider with no device at all (WebGPU without an adapter) is not a fallback worth a warning.
    if (a.tried && !a.ok && !NO_DEVICE.test(a.reason ?? '')) {
      out.push(
        `provider ${a.provider} was tried and not used (${a.reason ?? 'failed'}); ran on ${model.provider}`,
      )
    }
  }
  const foreground = card.labels.filter((l) => l.value !== 0)
  const found = card.labels.reduce((n, l, k) => n + (l.value !== 0 ? (labelVoxels[k] ?? 0) : 0), 0)
  if (foreground.length > 0 && found === 0) {
    out.push(
      `the mask is empty: model ${card.id} labelled no voxel as ${foreground.map((l) => l.name).join(' or ')}`,
    )
  }
  return out
}

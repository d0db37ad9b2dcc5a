// A small cohort made as a user makes one, for the worklist tests: `volseg cohort plan` over
// ch2-crop and variants with the threshold test pack, `segment --manifest`, `cohort report`.
import assert from 'node:assert/strict'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, derived, fixture, runVolseg } from './helpers.js'

export const THRESHOLD_PACK = join(ROOT, 'test', 'tiny-model', 'packs', 'threshold')

/**
 * Under `root`: `data/` with `a` (ch2-crop), `b` (flipped in storage), `z-qs` (qform and sform
 * 5 mm apart: a geometry flag) and, with `truncated`, `trunc` (a cut-off file: a failed case);
 * `cohort/` planned, segmented and reported. `env`: the CLI's environment (VOLSEG_HOME).
 */
export function makeSmallCohort(
  root: string,
  env: NodeJS.ProcessEnv,
  truncated: boolean,
): { data: string; cohort: string } {
  const data = join(root, 'data')
  const cohort = join(root, 'cohort')
  mkdirSync(data, { recursive: true })
  copyFileSync(derived('ch2-crop.nii.gz'), join(data, 'a.nii.gz'))
  copyFileSync(derived('flipped.nii.gz'), join(data, 'b.nii.gz'))
  copyFileSync(derived('qform-sform-differ.nii.gz'), join(data, 'z-qs.nii.gz'))
  if (truncated) {
    const bytes = readFileSync(fixture('ch2.nii.gz')).subarray(0, 200_000)
    writeFileSync(join(data, 'trunc.nii.gz'), bytes)
  }
  const run = (...args: string[]): void => {
    const r = runVolseg(args, { env })
    assert.ok(r.code === 0 || (truncated && args[0] === 'segment'), `${args[0]}: ${r.stderr}`)
  }
  run('cohort', 'plan', data, '--shards', '1', '-o', cohort, '--model', THRESHOLD_PACK)
  run('segment', '--manifest', join(cohort, 'manifest.json'))
  run('cohort', 'report', cohort)
  return { data, cohort }
}

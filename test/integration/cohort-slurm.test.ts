// The SLURM template as written (deploy/slurm/volseg-array.sbatch) on a real single-node cluster
// (munge + slurmctld + slurmd started as root by deploy/slurm/single-node-cluster.sh), over a
// small cohort with the lateralised model (models/brain-lateral): ch2, ch2 reoriented to P-I-L,
// ch2 mirrored left-right in storage under its unchanged header, a truncated file. The merged
// report equals a one-process run, the truncated case is reported and the rest finished, the
// mirrored case is flagged wrong-side and the others are not, each task left its log.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { CohortReport } from '../../src/shared/cohort-report.js'
import { ROOT, fixture, python, runVolseg } from '../helpers.js'

const CLUSTER = join(ROOT, 'deploy', 'slurm', 'single-node-cluster.sh')
const SCRIPT = join(ROOT, 'deploy', 'slurm', 'volseg-array.sbatch')
const PACK = join(ROOT, 'models', 'brain-lateral')
const BINARIES = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'sinfo']

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) {
    return 'needs root to start munge/slurmctld/slurmd (CI runs as root)'
  }
  const missing = BINARIES.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0)
  if (missing.length > 0) {
    return `SLURM/munge not installed (${missing.join(', ')}); .ci/run installs slurmctld slurmd slurm-client munge`
  }
  return undefined
}

const skip = whyNot()
const tmp = mkdtempSync(join(tmpdir(), 'volseg-slurm-'))
const clusterDir = join(tmp, 'cluster')
after(() => {
  if (existsSync(clusterDir)) spawnSync(CLUSTER, ['stop', clusterDir], { stdio: 'inherit' })
  rmSync(tmp, { recursive: true, force: true })
})

const essence = (r: CohortReport): unknown =>
  r.cases.map((c) => ({
    id: c.id,
    status: c.status,
    volumesMl: c.volumesMl,
    qc: c.qc,
    error: c.error,
  }))

test(
  'sbatch --array runs the template over a cohort; report equals a one-process run',
  { skip, timeout: 180_000 },
  () => {
    const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
    const data = join(tmp, 'data')
    mkdirSync(data)
    copyFileSync(fixture('ch2.nii.gz'), join(data, 'a.nii.gz'))
    python<string>(
      `
import json, sys, nibabel as nib, numpy as np
from nibabel.orientations import axcodes2ornt, ornt_transform
src = nib.load(sys.argv[1]); x = np.asarray(src.dataobj)
pil = src.as_reoriented(ornt_transform(axcodes2ornt(("R", "A", "S")), axcodes2ornt(("P", "I", "L"))))
nib.save(pil, sys.argv[2] + "/b.nii.gz")
nib.save(nib.Nifti1Image(x[::-1].copy(), src.affine, src.header), sys.argv[2] + "/m.nii.gz")
print(json.dumps("ok"))
`,
      [fixture('ch2.nii.gz'), data],
    )
    writeFileSync(
      join(data, 'trunc.nii.gz'),
      readFileSync(fixture('ch2.nii.gz')).subarray(0, 200_000),
    )
    const cohort = join(tmp, 'cohort')
    let r = runVolseg(['cohort', 'plan', data, '--shards', '3', '-o', cohort, '--model', PACK], {
      env,
    })
    assert.equal(r.code, 0, r.stderr)

    const up = execFileSync(CLUSTER, ['start', clusterDir], { encoding: 'utf8' })
    assert.match(up, /export SLURM_CONF=/)
    const slurmEnv = {
      ...env,
      SLURM_CONF: join(clusterDir, 'slurm.conf'),
      COHORT: cohort,
      VOLSEG: `${process.execPath} ${join(ROOT, 'bin', 'volseg.mjs')}`,
      VOLSEG_EP: 'cpu',
    }
    // --wait: sbatch returns when every task ended; its status is non-zero when one failed (the
    // task holding the truncated case exits 1 after finishing its other cases).
    const t0 = Date.now()
    const sb = spawnSync(
      'sbatch',
      [
        '--wait',
        '--array=0-2',
        '--export=ALL',
        '--cpus-per-task=1',
        '--mem=1G',
        `--output=${join(cohort, 'logs', 'slurm-%A_%a.out')}`,
        SCRIPT,
      ],
      { env: slurmEnv, encoding: 'utf8', timeout: 150_000 },
    )
    const jobId = /Submitted batch job (\d+)/.exec(sb.stdout)?.[1]
    assert.ok(jobId, `${sb.stdout}\n${sb.stderr}`)
    assert.notEqual(sb.status, 0, 'one task had a failed case')
    const logs = readdirSync(join(cohort, 'logs'))
    for (const i of [0, 1, 2]) {
      assert.ok(logs.includes(`slurm-${jobId}_${i}.out`), logs.join(' '))
      assert.ok(logs.includes(`task-${jobId}_${i}.log`), logs.join(' '))
    }
    const outs = [0, 1, 2].map((i) =>
      readFileSync(join(cohort, 'logs', `slurm-${jobId}_${i}.out`), 'utf8'),
    )
    outs.forEach((o, i) => assert.match(o, new RegExp(`task ${i} on .* → shard ${i + 1}/3`)))
    // Shard 1/3 holds a and trunc (manifest order a, b, m, trunc): trunc failed twice, a finished.
    assert.match(outs[0]!, /trunc: failed \(retry\)/)
    assert.match(outs[0]!, /shard 1\/3: 1 done, 0 skipped, 1 failed \(1 retried\)/)
    process.stderr.write(
      `# sbatch --array=0-2 over 4 cases: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    )

    r = runVolseg(['cohort', 'report', cohort], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /4 cases: 3 ok, 1 failed, 0 pending/)
    const merged = JSON.parse(readFileSync(join(cohort, 'report.json'), 'utf8')) as CohortReport
    assert.deepEqual(new Set(merged.cases.map((c) => c.shard)), new Set(['1/3', '2/3', '3/3']))
    // The flip catch: the mirrored case, and only it, has its hemispheres on the wrong sides.
    const qc = Object.fromEntries(merged.cases.map((c) => [c.id, c.qc.map((f) => f.code)]))
    assert.deepEqual(qc, {
      a: [],
      b: [],
      m: ['wrong-side', 'wrong-side'],
      trunc: ['failed'],
    })

    const one = join(tmp, 'one')
    r = runVolseg(['cohort', 'plan', data, '-o', one, '--model', PACK], { env })
    assert.equal(r.code, 0, r.stderr)
    r = runVolseg(['segment', '--manifest', join(one, 'manifest.json')], { env })
    assert.equal(r.code, 1)
    r = runVolseg(['cohort', 'report', one], { env })
    assert.equal(r.code, 0, r.stderr)
    const single = JSON.parse(readFileSync(join(one, 'report.json'), 'utf8')) as CohortReport
    assert.deepEqual(essence(merged), essence(single))

    // Resubmitting resumes: every finished case is skipped, only trunc is tried again.
    const again = spawnSync(
      'sbatch',
      [
        '--wait',
        '--array=0-2',
        '--export=ALL',
        '--cpus-per-task=1',
        '--mem=1G',
        `--output=${join(cohort, 'logs', 'slurm-%A_%a.out')}`,
        SCRIPT,
      ],
      { env: slurmEnv, encoding: 'utf8', timeout: 150_000 },
    )
    const id2 = /Submitted batch job (\d+)/.exec(again.stdout)?.[1]
    const o2 = [0, 1, 2]
      .map((i) => readFileSync(join(cohort, 'logs', `slurm-${id2}_${i}.out`), 'utf8'))
      .join('\n')
    assert.match(o2, /shard 1\/3: 0 done, 1 skipped, 1 failed/)
    assert.match(o2, /shard 2\/3: 0 done, 1 skipped, 0 failed/)
    assert.match(o2, /shard 3\/3: 0 done, 1 skipped, 0 failed/)
  },
)

// The Kubernetes template (deploy/kubernetes/volseg-indexed-job.yaml), offline: parsed by `yaml`,
// validated against the batch/v1 Job OpenAPI schema (kubernetes-models' generated validator:
// types, enums, required fields; it does not refuse unknown fields, and no API server ran here,
// so admission rules and `kubectl apply --dry-run=server` were not checked), plus the Indexed-mode
// rules the schema cannot express; then each pod's command run as the container would run it,
// with JOB_COMPLETION_INDEX = 0..N−1, over a real cohort.
import assert from 'node:assert/strict'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { Job as JobModel } from 'kubernetes-models/batch/v1'
import { parse } from 'yaml'
import type { CohortReport } from '../../src/shared/cohort-report.js'
import { ROOT, derived, runVolseg } from '../helpers.js'

const YAML_FILE = join(ROOT, 'deploy', 'kubernetes', 'volseg-indexed-job.yaml')
const tmp = mkdtempSync(join(tmpdir(), 'volseg-k8s-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

interface Container {
  name: string
  image: string
  command: string[]
  args: string[]
  env: { name: string; value: string }[]
  volumeMounts: { name: string; mountPath: string }[]
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> }
}
interface Job {
  apiVersion: string
  kind: string
  metadata: { name: string }
  spec: {
    completionMode: string
    completions: number
    parallelism: number
    backoffLimitPerIndex?: number
    maxFailedIndexes?: number
    template: {
      spec: {
        restartPolicy: string
        containers: Container[]
        volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[]
      }
    }
  }
}

function job(): Job {
  return parse(readFileSync(YAML_FILE, 'utf8')) as Job
}

test('the Job validates against the batch/v1 schema, which catches a broken copy', () => {
  const j = job()
  assert.doesNotThrow(() => new JobModel(j as never).validate())
  const bad = structuredClone(j) as unknown as { spec: { completionMode: string } }
  bad.spec.completionMode = 'Sorted'
  assert.throws(
    () => new JobModel(bad as never).validate(),
    /completionMode must be equal to one of/,
  )
  const bad2 = structuredClone(j) as unknown as {
    spec: { template: { spec: { containers: { env: { value: unknown }[] }[] } } }
  }
  bad2.spec.template.spec.containers[0]!.env[1]!.value = 4
  assert.throws(() => new JobModel(bad2 as never).validate(), /env\/1\/value must be string/)
})

test('the Indexed Job has what batch/v1 requires', () => {
  const j = job()
  assert.equal(j.apiVersion, 'batch/v1')
  assert.equal(j.kind, 'Job')
  assert.match(j.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/) // DNS-1123 label
  assert.equal(j.spec.completionMode, 'Indexed')
  assert.ok(Number.isInteger(j.spec.completions) && j.spec.completions >= 1)
  assert.ok(j.spec.parallelism >= 1 && j.spec.parallelism <= j.spec.completions)
  // backoffLimitPerIndex is only valid with Indexed completion; maxFailedIndexes ≤ completions.
  if (j.spec.maxFailedIndexes !== undefined) {
    assert.ok(j.spec.backoffLimitPerIndex !== undefined)
    assert.ok(j.spec.maxFailedIndexes <= j.spec.completions)
  }
  const pod = j.spec.template.spec
  assert.ok(['Never', 'OnFailure'].includes(pod.restartPolicy), 'a Job pod may not restart Always')
  assert.equal(pod.containers.length, 1)
  const c = pod.containers[0]!
  const shards = c.env.find((e) => e.name === 'SHARDS')?.value
  assert.equal(Number(shards), j.spec.completions, 'SHARDS must equal completions')
  for (const e of c.env) assert.equal(typeof e.value, 'string', `env ${e.name} must be a string`)
  const volumes = new Set(pod.volumes.map((v) => v.name))
  for (const m of c.volumeMounts) assert.ok(volumes.has(m.name), `mount ${m.name} has a volume`)
  const cohort = c.env.find((e) => e.name === 'COHORT')?.value ?? ''
  assert.ok(
    c.volumeMounts.some((m) => cohort.startsWith(`${m.mountPath}/`)),
    'cohort on the volume',
  )
})

test(
  'each pod command, with its JOB_COMPLETION_INDEX, runs its shard; the report is complete',
  { timeout: 120_000 },
  () => {
    const j = job()
    const c = j.spec.template.spec.containers[0]!
    const n = j.spec.completions
    const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
    const data = join(tmp, 'data')
    mkdirSync(data)
    for (const x of ['a', 'b', 'c', 'd', 'e']) {
      copyFileSync(derived('ch2-crop.nii.gz'), join(data, `${x}.nii.gz`))
    }
    const cohort = join(tmp, 'cohort')
    const pack = join(ROOT, 'test', 'tiny-model', 'packs', 'threshold')
    let r = runVolseg(
      ['cohort', 'plan', data, '--shards', String(n), '-o', cohort, '--model', pack],
      { env },
    )
    assert.equal(r.code, 0, r.stderr)
    // `volseg` on PATH, as in the image (deploy/Dockerfile links it into /usr/local/bin).
    const bin = join(tmp, 'bin')
    mkdirSync(bin)
    writeFileSync(
      join(bin, 'volseg'),
      `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'volseg.mjs')}" "$@"\n`,
    )
    chmodSync(join(bin, 'volseg'), 0o755)
    const podEnv = Object.fromEntries(c.env.map((e) => [e.name, e.value]))
    assert.equal(c.command[0], '/bin/sh')
    for (let i = 0; i < n; i++) {
      const sh: string = c.command[0]!
      const p: SpawnSyncReturns<string> = spawnSync(sh, [...c.command.slice(1), ...c.args], {
        env: {
          ...env,
          ...podEnv,
          COHORT: cohort,
          VOLSEG_EP: 'cpu',
          PATH: `${bin}:${process.env.PATH}`,
          JOB_COMPLETION_INDEX: String(i),
        },
        encoding: 'utf8',
        timeout: 60_000,
      })
      assert.equal(p.status, 0, p.stderr)
      assert.match(p.stdout, new RegExp(`^shard ${i + 1}/${n}: `))
    }
    r = runVolseg(['cohort', 'report', cohort, '--json'], { env })
    assert.equal(r.code, 0, r.stderr)
    const rep = JSON.parse(r.stdout) as CohortReport
    assert.equal(rep.cases.length, 5)
    assert.ok(rep.cases.every((x) => x.status === 'ok'))
    // Index i ran shard i+1: case k (0-based, id order) is in shard (k mod n) + 1.
    const ids = rep.cases.map((x) => x.id).sort()
    for (const x of rep.cases) assert.equal(x.shard, `${(ids.indexOf(x.id) % n) + 1}/${n}`)
  },
)

// A tiny volume with absurd spacing resamples to an astronomically large model grid: it must be
// refused with E_TOO_LARGE and the memory breakdown from sizes alone, before the tile list or any
// grid is made (it used to take 14 s and 6.4 GiB for 3000 mm, and die of out-of-memory for 1e6).
// The bundled model (3 mm spacing, 64³ patch) through the CLI, as a user runs it.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import type { BatchReport } from '../../src/shared/segment-report.js'
import { python, runVolseg } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-too-large-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }

/** A 20×20×20 float32 NIfTI (a bright cube in the middle) with isotropic `mm` spacing. */
function tinyNifti(name: string, mm: number): string {
  const file = join(tmp, name)
  python<{ ok: boolean }>(
    `import json,sys,numpy as np,nibabel as nib
d=np.zeros((20,20,20),np.float32);d[5:15,5:15,5:15]=100;d+=np.arange(8000,dtype=np.float32).reshape(20,20,20)%7
mm=float(sys.argv[2]);nib.save(nib.Nifti1Image(d,np.diag([mm,mm,mm,1.0])),sys.argv[1])
print(json.dumps({"ok":bool(np.allclose(nib.load(sys.argv[1]).header.get_zooms(),mm))}))`,
    [file, String(mm)],
  )
  return file
}

for (const mm of [3000, 1e6]) {
  test(`a 20³ volume at ${mm} mm is refused with E_TOO_LARGE and the breakdown`, () => {
    const src = tinyNifti(`cube-${mm}.nii.gz`, mm)
    const out = join(tmp, `cube-${mm}_seg.nii.gz`)
    const t0 = performance.now()
    // A generous wall-clock cap so the old behaviour (minutes, or OOM) fails instead of hanging.
    const r = runVolseg(['segment', src, '-o', out, '--force', '--json'], {
      env,
      timeoutMs: 60_000,
    })
    console.log(`${mm} mm: exit ${r.code} after ${Math.round(performance.now() - t0)} ms`)
    assert.notEqual(r.code, 0, 'a refusal exits non-zero')
    assert.notEqual(r.code, null, `the CLI was stopped by the test's timeout: ${r.stderr}`)
    const c = (JSON.parse(r.stdout) as BatchReport).cases[0]!
    assert.equal(c.status, 'failed')
    assert.equal(c.error?.code, 'E_TOO_LARGE', c.error?.message)
    // The breakdown names the largest part and the limit.
    assert.match(
      c.error?.message ?? '',
      /would need about [\d.]+ (GiB|MiB) of memory \(largest part: \w+/,
    )
    assert.match(c.error?.message ?? '', /allowed/)
    assert.equal(existsSync(out), false)
  })
}

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { runOpenJob } from '../../src/jobs/volume-jobs.js'
import { derived, fixture } from '../helpers.js'

/** One tag's value as DCMTK's dcmdump reads it (an independent reader), or undefined. */
function dcmdump(file: string, tag: string): string | undefined {
  const out = execFileSync('dcmdump', ['+P', tag, file], { encoding: 'utf8' })
  const m = /\[(.*)\]/.exec(out)
  return m ? m[1] : undefined
}

for (const name of ['ch2-crop', 'ct-synthetic']) {
  test(`${name} DICOM: the opened volume's study info is what dcmdump reads (issue 14)`, async () => {
    const dir = derived('dicom', name)
    const first = join(dir, readdirSync(dir).sort()[0] as string)
    const v = await runOpenJob({ kind: 'open', input: [dir] })
    assert.equal(v.kind, 'volume')
    if (v.kind !== 'volume') return
    const pn = dcmdump(first, '0010,0010') as string
    const [family, given] = pn.split('^')
    const date = dcmdump(first, '0008,0020') as string
    const study = dcmdump(first, '0008,1030')
    assert.deepEqual(v.study, {
      patientName: `${family}, ${given}`,
      patientId: dcmdump(first, '0010,0020'),
      studyDate: `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`,
      ...(study ? { studyDescription: study } : {}),
      seriesNumber: Number(dcmdump(first, '0020,0011')),
      seriesDescription: dcmdump(first, '0008,103e'),
      modality: dcmdump(first, '0008,0060'),
    })
  })
}

test('NIfTI: no study info', async () => {
  const v = await runOpenJob({ kind: 'open', input: [fixture('ch2.nii.gz')] })
  assert.equal(v.kind, 'volume')
  assert.equal(v.kind === 'volume' ? v.study : 'x', undefined)
})

test('two series: the chooser carries series numbers and the notice names no UID', async () => {
  const dir = derived('dicom', 'two-series')
  const uid = dcmdump(join(dir, readdirSync(dir).sort()[0] as string), '0020,000e') as string
  const choice = await runOpenJob({ kind: 'open', input: [dir] })
  assert.equal(choice.kind, 'series-choice')
  if (choice.kind !== 'series-choice') return
  assert.ok(choice.series.every((c) => typeof c.seriesNumber === 'number'))
  const v = await runOpenJob({ kind: 'open', input: [dir], seriesKey: choice.series[0]!.key })
  assert.equal(v.kind, 'volume')
  if (v.kind !== 'volume') return
  const notice = v.warnings.find((w) => w.includes('series in the input'))
  assert.ok(notice, `a notice says there were several series: ${v.warnings.join(' | ')}`)
  assert.match(notice, /opened series \d+/)
  for (const w of v.warnings) assert.ok(!w.includes(uid), `no UID in "${w}"`)
})

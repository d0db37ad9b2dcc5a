// `volseg export --format seg` on DICOM series that plastimatch derived from ch2 (the crop, 40
// slices, and the whole brain, 181): dciodvfy must report no error, and the SEG must reassemble
// to exactly the exported voxels on the source grid, read with dcmjs and, independently, with
// pydicom placing each frame by its own plane position (test/oracle/seg_reassemble.py). dcmjs'
// normalizer re-sorts the source images, so a frame put on the caller's slice order would pass
// dciodvfy and fail here (issue 17). Real CLI, real files, no mocks.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import dcmjs from 'dcmjs'
import type { ExportReport } from '../../src/shared/export.js'
import { ROOT, derived, fixture, python, runVolseg } from '../helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'volseg-export-seg-'))
after(() => rmSync(tmp, { recursive: true, force: true }))
const env = { ...process.env, VOLSEG_HOME: join(tmp, 'home'), VOLSEG_MODELS: '' }
const ORACLE = join(ROOT, 'test', 'oracle')

interface Reassembly {
  frames: number
  numberOfFrames: number
  segmentVoxels: number
  expectedVoxels: number
  mismatch: number
  offGrid: number
  badReferences: number
  emptyFrames: number
  perLabel: Record<string, number>
  study: [string, string]
  frameOfReference: [string, string]
  referencedSeries: string
  sourceSeries: string
  segmentationType: string
  sopClass: string
  modality: string
  segments: { number: number; label: string; algorithmType: string; algorithmName: string }[]
}

/** Masks from test/oracle/make_export_masks.py on `referenceNifti`'s grid, in a fresh folder. */
function masks(name: string, referenceNifti: string): string {
  const dir = join(tmp, name)
  mkdirSync(join(dir, 'out'), { recursive: true })
  const r = spawnSync(
    '/usr/bin/python3',
    [join(ORACLE, 'make_export_masks.py'), referenceNifti, dir],
    {
      encoding: 'utf8',
    },
  )
  assert.equal(r.status, 0, r.stderr)
  return dir
}

/** dciodvfy's output lines: errors and warnings. */
function dciodvfy(file: string): { errors: string[]; warnings: string[] } {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' })
  const lines = `${r.stdout}\n${r.stderr}`.split('\n')
  return {
    errors: lines.filter((l) => /^Error/.test(l)),
    warnings: lines.filter((l) => /^Warning/.test(l)),
  }
}

function pydicomReassembly(
  seg: string,
  sourceDir: string,
  expected: string,
  labels: string,
): Reassembly {
  const r = spawnSync(
    '/usr/bin/python3',
    [join(ORACLE, 'seg_reassemble.py'), seg, sourceDir, expected, labels],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as Reassembly
}

test('SEG of ch2-crop (plastimatch series), 3 labels, one edited: dciodvfy clean, pydicom and dcmjs reassemble it exactly', (t) => {
  const dir = masks('crop', derived('ch2-crop.nii.gz'))
  const mask = join(dir, 'final.nii.gz')
  // The review file saved beside a mask (as the viewer's saveMask writes it).
  writeFileSync(
    join(dir, 'final.review.json'),
    JSON.stringify({
      format: 'volseg-review',
      version: 1,
      mask: 'final.nii.gz',
      source: 'ch2-crop',
      geometry: {
        sizeIJK: [140, 160, 40],
        spacingMm: [1, 1, 1],
        originLPS: [0, 0, 0],
        directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      },
      labelVoxels: [],
      modelRun: { modelId: 'brain-extract', provider: 'cpu', device: 'CPU' },
      savedAt: '2026-12-07T08:00:00.000Z',
      review: {
        labels: [
          { value: 1, name: 'brain', colourRGB: [230, 25, 75], status: 'accepted' },
          { value: 2, name: 'lesion', colourRGB: [60, 180, 75], status: 'edited' },
          {
            value: 3,
            name: 'marker',
            colourRGB: [0, 130, 200],
            status: 'rejected',
            reason: 'not anatomy',
          },
        ],
        updatedAt: '2026-12-07T08:00:00.000Z',
      },
    }),
  )
  const r = runVolseg(
    [
      'export',
      mask,
      '--reference',
      derived('dicom', 'ch2-crop'),
      '--format',
      'seg,nifti',
      '--ai',
      join(dir, 'ai.nii.gz'),
      '-o',
      join(dir, 'out'),
      '--json',
    ],
    { env },
  )
  assert.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout) as ExportReport
  const segPath = join(dir, 'out', 'final.seg.dcm')
  assert.equal(report.seg?.path, segPath)
  assert.equal(report.seg?.algorithmType, 'SEMIAUTOMATIC')

  const v = dciodvfy(segPath)
  t.diagnostic(
    `dciodvfy: ${v.errors.length} errors, ${v.warnings.length} warnings${v.warnings.map((w) => `\n  ${w}`).join('')}`,
  )
  assert.deepEqual(v.errors, [])

  const py = pydicomReassembly(segPath, derived('dicom', 'ch2-crop'), mask, '1,2,3')
  t.diagnostic(
    `pydicom: ${py.frames} frames, ${py.segmentVoxels} voxels, ${py.mismatch} differ, per label ${JSON.stringify(py.perLabel)}`,
  )
  assert.equal(py.mismatch, 0)
  assert.equal(py.offGrid, 0)
  assert.equal(py.badReferences, 0, 'each frame references the source instance at its plane')
  assert.equal(py.emptyFrames, 0, 'only non-empty frames')
  assert.equal(py.segmentVoxels, py.expectedVoxels)
  assert.ok(py.perLabel['3']! > 0 && py.perLabel['2']! > 0)
  assert.equal(py.frames, report.seg?.frames)
  assert.equal(py.study[0], py.study[1])
  assert.equal(py.frameOfReference[0], py.frameOfReference[1])
  assert.equal(py.referencedSeries, py.sourceSeries)
  assert.equal(py.segmentationType, 'BINARY')
  assert.equal(py.modality, 'SEG')
  assert.deepEqual(
    py.segments.map((s) => [s.label, s.algorithmType, s.algorithmName]),
    [
      ['brain', 'SEMIAUTOMATIC', 'brain-extract'],
      ['lesion', 'SEMIAUTOMATIC', 'brain-extract'],
      ['marker', 'SEMIAUTOMATIC', 'brain-extract'],
    ],
  )

  // dcmjs reads it back: frame count, segments, algorithm identification and provenance text.
  const bytes = readFileSync(segPath)
  const back = dcmjs.data.DicomMetaDictionary.naturalizeDataset(
    dcmjs.data.DicomMessage.readFile(new Uint8Array(bytes).buffer).dict,
  )
  assert.equal(Number(back.NumberOfFrames), py.frames)
  const segs = back.SegmentSequence as { SegmentationAlgorithmIdentificationSequence?: unknown }[]
  assert.equal(segs.length, 3)
  assert.ok(segs.every((s) => s.SegmentationAlgorithmIdentificationSequence !== undefined))
  assert.match(String(back.SoftwareVersions), /^VolSeg \d/)
  assert.match(String(back.ImageComments), /model brain-extract .* sha256 [0-9a-f]{64}/)

  // Provenance: review states, model card, AI-vs-final delta against numpy on the same maps.
  const p = report.provenance
  assert.deepEqual(
    p.labels.map((l) => [l.value, l.status, l.reason ?? null]),
    [
      [1, 'accepted', null],
      [2, 'edited', null],
      [3, 'rejected', 'not anatomy'],
    ],
  )
  assert.equal(p.model?.id, 'brain-extract')
  assert.match(p.model?.sha256 ?? '', /^[0-9a-f]{64}$/)
  assert.ok(p.model?.preprocessing, 'the card preprocessing settings are recorded')
  assert.equal(p.source.dicom?.sopInstanceUIDs.length, 40)
  assert.equal(p.humanEdited, true)
  const np = python<Record<string, { added: number; removed: number; dice: number }>>(
    `import nibabel as nib, numpy as np, json, sys
f = np.asarray(nib.load(sys.argv[1]).dataobj); a = np.asarray(nib.load(sys.argv[2]).dataobj)
out = {}
for v in (1, 2, 3):
    F, A = f == v, a == v
    out[str(v)] = dict(added=int((F & ~A).sum()), removed=int((A & ~F).sum()), dice=float(2 * (F & A).sum() / (F.sum() + A.sum())))
print(json.dumps(out))`,
    [mask, join(dir, 'ai.nii.gz')],
  )
  for (const c of p.aiDelta!.labels) {
    const e = np[String(c.value)]!
    assert.equal(c.added, e.added, `label ${c.value} added`)
    assert.equal(c.removed, e.removed, `label ${c.value} removed`)
    assert.ok(Math.abs(c.dice - e.dice) < 1e-12, `label ${c.value} Dice`)
  }
  t.diagnostic(`delta: ${JSON.stringify(p.aiDelta!.labels)}`)
  // The sidecar on disk holds the same provenance and lists the SEG with its checksum.
  const sidecar = JSON.parse(readFileSync(join(dir, 'out', 'final.export.json'), 'utf8')) as {
    files: { format: string; path: string; sha256: string }[]
  }
  assert.ok(sidecar.files.some((f) => f.format === 'seg' && f.path === 'final.seg.dcm'))
})

test('SEG of the whole ch2 series (181 plastimatch slices, --labels 2,3): dciodvfy clean, pydicom exact', (t) => {
  const dir = masks('ch2', fixture('ch2.nii.gz'))
  const mask = join(dir, 'final.nii.gz')
  const r = runVolseg(
    [
      'export',
      mask,
      '--reference',
      derived('dicom', 'ch2'),
      '--format',
      'seg',
      '--labels',
      '2,3',
      '-o',
      join(dir, 'out'),
      '--json',
    ],
    { env },
  )
  assert.equal(r.code, 0, r.stderr)
  const segPath = join(dir, 'out', 'final.seg.dcm')
  const v = dciodvfy(segPath)
  t.diagnostic(`dciodvfy: ${v.errors.length} errors, ${v.warnings.length} warnings`)
  assert.deepEqual(v.errors, [])
  const py = pydicomReassembly(segPath, derived('dicom', 'ch2'), mask, '2,3')
  t.diagnostic(`pydicom: ${py.frames} frames, ${py.segmentVoxels} voxels, ${py.mismatch} differ`)
  assert.equal(py.mismatch, 0)
  assert.equal(py.badReferences, 0)
  assert.equal(py.perLabel['1'], undefined)
  assert.equal(py.segments.length, 2)
  assert.equal(py.segments[0]!.algorithmType, 'MANUAL', 'no model recorded: MANUAL')
})

test('SEG of a JPEG-LS copy of the series is written uncompressed (Explicit VR Little Endian) and reassembles exactly', () => {
  const dir = masks('syntaxes', derived('ch2-crop.nii.gz'))
  const mask = join(dir, 'final.nii.gz')
  for (const series of ['ch2-crop-jpegls']) {
    const out = join(dir, series)
    mkdirSync(out)
    const r = runVolseg(
      ['export', mask, '--reference', derived('dicom', series), '--format', 'seg', '-o', out],
      { env },
    )
    assert.equal(r.code, 0, r.stderr)
    const segPath = join(out, 'final.seg.dcm')
    assert.deepEqual(dciodvfy(segPath).errors, [], series)
    const syntax = python<string>(
      'import pydicom, sys, json; print(json.dumps(str(pydicom.dcmread(sys.argv[1]).file_meta.TransferSyntaxUID)))',
      [segPath],
    )
    assert.equal(syntax, '1.2.840.10008.1.2.1', series)
    const py = pydicomReassembly(segPath, derived('dicom', series), mask, '1,2,3')
    assert.equal(py.mismatch, 0, series)
    assert.equal(py.badReferences, 0, series)
  }
})

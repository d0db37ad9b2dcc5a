/**
 * Seeded mutation testing of the readers. Each seed file is truncated, bit-flipped and given
 * inflated lengths; every mutated copy is opened through the real forked worker (`runJob`), which
 * must answer ok or a known AppError code naming the mutated file, never E_INTERNAL, a hang or a
 * crash (E_WORKER_CRASHED, the runner's code for a worker that died, is counted apart from the
 * refusals). A second, in-process test fuzzes the pure header parsers (NIfTI, NRRD, MetaImage,
 * the Siemens CSA header, the DICOM sniffer for files without a preamble).
 *
 * Reproduce with the printed seed: VOLSEG_FUZZ_SEED=<n> node --import tsx --test <this file>.
 * The forked part runs dist/jobs/worker.js, so `npm run build` must have run.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gunzipSync } from 'node:zlib'
import type * as ForkRunner from '../../src/jobs/fork-runner.js'
import type * as Errors from '../../src/shared/errors.js'
import type { JobReply, JobValue } from '../../src/jobs/job-protocol.js'
import { AppError, isErrorCode } from '../../src/shared/errors.js'
import {
  checkNiftiHeader,
  parseNiftiHeader,
  reportNiftiXforms,
} from '../../src/core/nifti/nifti-header.js'
import { parseMetaHeader, parseNrrdHeader } from '../../src/core/text-header.js'
import { parseCsaHeader, siemensMosaicFields } from '../../src/core/dicom/siemens-csa.js'
import { looksLikeDicom } from '../../src/core/dicom/part10-header.js'
import { ROOT, derived, fixture } from '../helpers.js'
import {
  Rng,
  dicomMutations,
  flipBytes,
  hashString,
  latin1,
  metaMutations,
  mosaicMutations,
  niftiMutations,
  nrrdMutations,
  type Mutation,
} from './mutations.js'

const FUZZ_SEED = Number(process.env.VOLSEG_FUZZ_SEED ?? 0x5eed2024) >>> 0
const CONCURRENCY = 2
const JOB_OPTIONS = { timeoutMs: 20_000, maxHeapMb: 1024 } as const
/** A case slower than this (and than 4× opening its seed) is reported as a near-hang. */
const SLOW_MS = 6000
const VERBOSE = process.env.VOLSEG_FUZZ_VERBOSE === '1'

// ---------------------------------------------------------------------------------------------
// Forked runs

interface Seed {
  readonly label: string
  readonly path: string
  readonly build: (bytes: Uint8Array, rng: Rng) => Mutation[]
}

function firstFile(dir: string): string {
  const folder = derived(dir)
  const name = readdirSync(folder).sort()[0]
  assert.ok(name !== undefined, `${folder} is empty`)
  return join(folder, name)
}

function seeds(): Seed[] {
  const nifti = (f: string): Seed => ({
    label: f,
    path: derived(f),
    build: (b, rng) => niftiMutations(b, f.endsWith('.gz'), rng),
  })
  const dicom = (d: string): Seed => ({
    label: `dicom/${d}`,
    path: firstFile(`dicom/${d}`),
    build: dicomMutations,
  })
  return [
    nifti('ch2-crop.nii.gz'),
    nifti('big-endian.nii'),
    nifti('nifti2.nii.gz'),
    { label: 'ch2-crop.nrrd', path: derived('ch2-crop.nrrd'), build: nrrdMutations },
    { label: 'ch2-crop.mha', path: derived('ch2-crop.mha'), build: metaMutations },
    dicom('ch2-crop'),
    dicom('ch2-crop-jpegls'),
    {
      label: 'nibabel/siemens_dwi_0.dcm',
      path: fixture('nibabel', 'siemens_dwi_0.dcm'),
      build: mosaicMutations,
    },
  ]
}

interface Dist {
  readonly runJob: typeof ForkRunner.runJob
  readonly DistAppError: typeof Errors.AppError
}

/**
 * runJob from dist, not src: fork-runner forks `./worker.js` next to itself, which exists only in
 * the build output.
 */
async function loadDist(): Promise<Dist> {
  const file = (...p: string[]): string => join(ROOT, 'dist', ...p)
  if (!existsSync(file('jobs', 'fork-runner.js')) || !existsSync(file('jobs', 'worker.js'))) {
    throw new Error('dist/jobs/{fork-runner,worker}.js missing: run `npm run build` first')
  }
  const load = async <T>(...p: string[]): Promise<T> =>
    (await import(pathToFileURL(file(...p)).href)) as T
  const r = await load<typeof ForkRunner>('jobs', 'fork-runner.js')
  const e = await load<typeof Errors>('shared', 'errors.js')
  return { runJob: r.runJob, DistAppError: e.AppError }
}

interface CaseResult {
  /** Summary bucket: 'ok', an error code, or 'runJob:<code>' for errors thrown by runJob. */
  readonly bucket: string
  readonly finding?: string
}

type Raw = { readonly ms: number } & (
  { readonly reply: JobReply<JobValue['info']> } | { readonly thrown: unknown }
)

async function runTimed(dist: Dist, file: string): Promise<Raw> {
  const t0 = performance.now()
  try {
    const reply = await dist.runJob({ kind: 'info', input: [file], options: {} }, JOB_OPTIONS)
    return { reply, ms: performance.now() - t0 }
  } catch (thrown) {
    return { thrown, ms: performance.now() - t0 }
  }
}

function outcome(dist: Dist, raw: Raw, file: string, seedHadNull: boolean): CaseResult {
  if ('thrown' in raw) {
    const e = raw.thrown
    if (!(e instanceof dist.DistAppError)) {
      return { bucket: 'runJob:non-AppError', finding: `runJob threw ${String(e)}` }
    }
    const bucket = `runJob:${e.code}`
    if (e.code === 'E_TIMEOUT') return { bucket, finding: `hang: ${e.message}` }
    if (e.code === 'E_WORKER_CRASHED') return { bucket, finding: `crash: ${e.message}` }
    // The one refusal runJob itself makes: the worker out of memory (E_TOO_LARGE). E_TIMEOUT is a
    // hang, E_WORKER_CRASHED a crash (a signal, a wasm abort, a non-zero exit): both are findings.
    if (e.code !== 'E_TOO_LARGE') {
      return { bucket, finding: `runJob threw ${e.code}: ${e.message}` }
    }
    if (e.file !== file) return { bucket, finding: `runJob error names file ${String(e.file)}` }
    return { bucket }
  }
  const reply = raw.reply
  if (reply.ok) {
    const range = reply.value.intensityRange
    if (!seedHadNull && (range[0] === null || range[1] === null)) {
      const warned = reply.value.warnings.some((w) => /NaN or infinite/.test(w))
      // A non-finite range with the reader's own warning is reported, not silent.
      if (warned) return { bucket: 'ok (non-finite voxels, warned)' }
      return { bucket: 'ok', finding: `silent non-finite intensityRange ${JSON.stringify(range)}` }
    }
    return { bucket: 'ok' }
  }
  const { code, message, file: named } = reply.error
  if (!isErrorCode(code)) return { bucket: String(code), finding: `unknown code ${code}` }
  if (code === 'E_INTERNAL') return { bucket: code, finding: `E_INTERNAL: ${message}` }
  if (typeof message !== 'string' || message.trim() === '') {
    return { bucket: code, finding: `${code} with an empty message` }
  }
  if (named !== undefined && named !== file) {
    return { bucket: code, finding: `${code} names file ${named}, not the mutated file` }
  }
  return { bucket: code }
}

async function pool<T, R>(items: readonly T[], lanes: number, f: (x: T) => Promise<R>) {
  const out: R[] = []
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await f(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane))
  return out
}

test('mutation: forked readers refuse mutated files with known codes, no hang or crash', async (t) => {
  const dist = await loadDist()
  const dir = mkdtempSync(join(tmpdir(), 'volseg-fuzz-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  console.log(`mutation: fuzz seed ${FUZZ_SEED} (VOLSEG_FUZZ_SEED=<n> to change)`)
  // Write every mutated copy, then run all jobs (seed baselines included) through one pool.
  const plan = seeds().map((seed, s) => {
    const rng = new Rng(FUZZ_SEED ^ hashString(seed.label))
    const mutations = seed.build(new Uint8Array(readFileSync(seed.path)), rng)
    const cases = mutations.map((m, i) => {
      const file = join(dir, `${s}-${String(i).padStart(3, '0')}-${basename(seed.path)}`)
      writeFileSync(file, m.bytes)
      return { desc: m.desc, file }
    })
    return { seed, cases }
  })
  const jobs = plan.flatMap((p) => [p.seed.path, ...p.cases.map((c) => c.file)])
  const raws = await pool(jobs, CONCURRENCY, (file) => runTimed(dist, file))
  let at = 0
  for (const { seed, cases } of plan) {
    const baseline = raws[at++]!
    const results = cases.map((c) => ({ ...c, raw: raws[at++]! }))
    await t.test(`mutation ${seed.label}`, () => {
      assert.ok(
        'reply' in baseline && baseline.reply.ok,
        `seed ${seed.label} must open: ${JSON.stringify(baseline)}`,
      )
      const seedHadNull = baseline.reply.value.intensityRange.some((x) => x === null)
      // A case much slower than opening the seed is a near-hang, even within the timeout.
      const slowMs = Math.max(SLOW_MS, 4 * baseline.ms)
      const byCode: Record<string, number> = {}
      let ok = 0
      let crashed = 0
      let warned = 0
      const findings: string[] = []
      results.forEach(({ desc, file, raw }, i) => {
        let r = outcome(dist, raw, file, seedHadNull)
        if (r.finding === undefined && raw.ms > slowMs) {
          r = { ...r, finding: `near-hang: ${r.bucket} after ${(raw.ms / 1000).toFixed(1)} s` }
        }
        if (r.bucket === 'ok') ok++
        else if (r.bucket.startsWith('ok ')) warned++
        else if (r.bucket === 'runJob:E_WORKER_CRASHED') crashed++
        else byCode[r.bucket] = (byCode[r.bucket] ?? 0) + 1
        const line = `${seed.label} case ${i}: ${desc} -> ${r.finding ?? r.bucket}`
        if (VERBOSE) console.log(`  ${line} (${Math.round(raw.ms)} ms)`)
        if (r.finding !== undefined) findings.push(`  [fuzz seed ${FUZZ_SEED}] ${line}`)
      })
      const n = results.length
      console.log(
        `mutation ${seed.label}: ${n} cases, ok ${ok} (+${warned} non-finite, warned), ` +
          `refusals by code ${JSON.stringify(byCode)}, crashes ${crashed}`,
      )
      assert.equal(crashed, 0, `reader workers crashed:\n${findings.join('\n')}`)
      assert.equal(findings.length, 0, `reader bugs found:\n${findings.join('\n')}`)
    })
  }
})

// ---------------------------------------------------------------------------------------------
// In-process header fuzz

type Field = { readonly at: number; readonly kind: 'i16' | 'i32' | 'i64' | 'f32' | 'f64' }

const run = (kind: Field['kind'], at: number, n: number, step: number): Field[] =>
  Array.from({ length: n }, (_, k) => ({ at: at + step * k, kind }))
// Offsets from nifti1.h / nifti2.h: sizeof_hdr, dim, datatype/bitpix, pixdim, vox_offset,
// scl_slope/inter, qform/sform codes, quatern b/c/d, qoffset, srow_x/y/z.
const NIFTI1_FIELDS: readonly Field[] = [
  ...run('i32', 0, 1, 0),
  ...run('i16', 40, 8, 2),
  ...run('i16', 70, 2, 2),
  ...run('f32', 76, 11, 4),
  ...run('i16', 252, 2, 2),
  ...run('f32', 256, 18, 4),
]
const NIFTI2_FIELDS: readonly Field[] = [
  ...run('i32', 0, 1, 0),
  ...run('i16', 12, 2, 2),
  ...run('i64', 16, 8, 8),
  ...run('f64', 104, 8, 8),
  ...run('i64', 168, 1, 0),
  ...run('f64', 176, 2, 8),
  ...run('i32', 344, 2, 4),
  ...run('f64', 352, 18, 8),
]

const SPECIAL = (
  '0 -1 1 2 7 8 348 540 30000 32767 65535 -32768 2147483647 -2147483648 9007199254740994' +
  ' NaN Infinity -Infinity 1e38 -0 1e-45 0.5'
)
  .split(' ')
  .map(Number)

const WIDTH = { i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 } as const

function setField(v: DataView, f: Field, x: number, le: boolean): void {
  const int = Number.isFinite(x) ? Math.trunc(x) : 0
  switch (f.kind) {
    case 'i16':
      return v.setUint16(f.at, int & 0xffff, le)
    case 'i32':
      return v.setUint32(f.at, int >>> 0, le)
    case 'i64':
      return v.setBigInt64(f.at, BigInt.asIntN(64, BigInt(int)), le)
    case 'f32':
      return v.setFloat32(f.at, x, le)
    case 'f64':
      return v.setFloat64(f.at, x, le)
  }
}

function mutateNiftiHeader(b: Uint8Array, rng: Rng): Mutation {
  const h = parseNiftiHeader(b)
  const fields = h.version === 2 ? NIFTI2_FIELDS : NIFTI1_FIELDS
  let out = new Uint8Array(b)
  const parts: string[] = []
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const op = rng.int(10)
    if (op < 5) {
      const f = rng.pick(fields)
      const x = rng.pick(SPECIAL)
      if (f.at + WIDTH[f.kind] > out.length) continue
      const le = rng.int(8) === 0 ? !h.littleEndian : h.littleEndian
      setField(new DataView(out.buffer), f, x, le)
      parts.push(`${f.kind}@${f.at}=${x}${le === h.littleEndian ? '' : ' (other byte order)'}`)
    } else if (op < 9) {
      const m = flipBytes(out, rng, 1 + rng.int(4), 0, out.length)
      out = new Uint8Array(m.bytes)
      parts.push(m.desc)
    } else {
      const at = rng.int(out.length + 1)
      out = out.slice(0, at)
      parts.push(`truncate to ${at}`)
    }
  }
  return { desc: parts.join('; '), bytes: out }
}

const TOKENS = (
  '|-1|0|-0|1e400|NaN|Infinity|0x10|3.5|99999999999999999999|  |\0|1 2 3 4 5 6 7 8 9' +
  '|LOCAL|MET_DOUBLE|raw|gzip|vector'
).split('|')

function mutateText(text: string, rng: Rng): Mutation {
  let s = text
  const parts: string[] = []
  for (let n = 1 + rng.int(3); n > 0; n--) {
    const lines = s.split('\n')
    const li = rng.int(lines.length)
    const line = lines[li] ?? ''
    switch (rng.int(7)) {
      case 0: {
        const tok = rng.pick(TOKENS)
        const nums = [...line.matchAll(/-?\d+(\.\d+)?/g)]
        const m = nums.length > 0 ? rng.pick(nums) : { index: line.length, 0: '' }
        lines[li] = line.slice(0, m.index) + tok + line.slice(m.index + m[0].length)
        parts.push(`line ${li}: number -> ${JSON.stringify(tok)}`)
        break
      }
      case 1: {
        const at = line.search(/[:=]/)
        lines[li] = `${at < 0 ? '' : line.slice(0, at + 1)} ${rng.pick(TOKENS)}`
        parts.push(`line ${li}: value -> ${JSON.stringify(lines[li])}`)
        break
      }
      case 2:
        lines.splice(li, 1)
        parts.push(`delete line ${li}`)
        break
      case 3:
        lines.splice(li, 0, line)
        parts.push(`duplicate line ${li}`)
        break
      case 4: {
        const at = rng.int(line.length + 1)
        const c = rng.pick(['\r', '\0', '\n', ':', '=', '\u00ff', ' '])
        lines[li] = line.slice(0, at) + c + line.slice(at)
        parts.push(`line ${li}: insert ${JSON.stringify(c)} at ${at}`)
        break
      }
      case 5: {
        const at = rng.int(s.length)
        const c = String.fromCharCode(s.charCodeAt(at) ^ (1 + rng.int(255)))
        s = s.slice(0, at) + c + s.slice(at + 1)
        parts.push(`flip char ${at} -> ${JSON.stringify(c)}`)
        continue
      }
      default: {
        const at = rng.int(s.length + 1)
        s = s.slice(0, at)
        parts.push(`truncate to ${at}`)
        continue
      }
    }
    s = lines.join('\n')
  }
  return { desc: parts.join('; '), bytes: Buffer.from(s, 'latin1') }
}

test('mutation: header parsers return or throw AppError, never another exception', () => {
  const rng = new Rng(FUZZ_SEED ^ hashString('in-process'))
  const niftis = ['ch2-crop.nii.gz', 'big-endian.nii', 'nifti2.nii.gz'].map((f) => {
    const raw = readFileSync(derived(f))
    const plain = f.endsWith('.gz') ? gunzipSync(raw) : raw
    const h = parseNiftiHeader(plain)
    return { f, head: new Uint8Array(plain.subarray(0, Math.max(h.vox_offset, h.sizeofHdr) + 64)) }
  })
  // The readers parse the decoded first 64 KiB; 4 KiB holds both seed headers.
  const texts = [
    { f: 'ch2-crop.nrrd', parse: parseNrrdHeader },
    { f: 'ch2-crop.mha', parse: parseMetaHeader },
  ].map((x) => ({ ...x, text: latin1(readFileSync(derived(x.f)).subarray(0, 4096)) }))
  const failures: string[] = []
  const counts: Record<string, { returned: number; appError: number }> = {}
  const guard = (parser: string, label: string, desc: string, fn: () => void): void => {
    const c = (counts[parser] ??= { returned: 0, appError: 0 })
    try {
      fn()
      c.returned++
    } catch (e) {
      const kind = e instanceof Error ? e.name : typeof e
      if (e instanceof AppError) c.appError++
      else failures.push(`  [seed ${FUZZ_SEED}] ${label} ${desc} -> ${kind}: ${String(e)}`)
    }
  }

  for (let i = 0; i < 1200; i++) {
    const { f, head } = niftis[i % niftis.length]!
    const m = mutateNiftiHeader(head, rng)
    guard(f, `${f} #${i}`, m.desc, () => {
      const h = parseNiftiHeader(m.bytes, 'fuzz.nii')
      checkNiftiHeader(h, 'fuzz.nii')
      // The reader only reaches the xform report after the checks pass; mirror that order.
      reportNiftiXforms(h)
    })
  }
  for (let i = 0; i < 800; i++) {
    const { f, text, parse } = texts[i % texts.length]!
    const m = mutateText(text, rng)
    const mutated = latin1(m.bytes)
    guard(f, `${f} #${i}`, m.desc, () => void parse(mutated, f))
  }
  // Siemens CSA header (binary, our own parser) and the preamble-less DICOM sniffer.
  const mosaic = readFileSync(fixture('nibabel', 'siemens_dwi_0.dcm'))
  const at = mosaic.indexOf('SV10\x04\x03\x02\x01')
  const csa = new Uint8Array(mosaic.subarray(at, at + 11560))
  const bare = new Uint8Array(readFileSync(derived('dicom', 'single', 'CT_small_no_meta.dcm')))
  for (let i = 0; i < 600; i++) {
    const m = flipBytes(csa, rng, 1 + rng.int(16), 0, rng.int(2) === 0 ? 600 : csa.length)
    const bytes = rng.int(4) === 0 ? m.bytes.subarray(0, rng.range(0, csa.length)) : m.bytes
    guard('siemens-csa', `csa #${i}`, m.desc, () => void siemensMosaicFields(parseCsaHeader(bytes)))
  }
  for (let i = 0; i < 400; i++) {
    const m = flipBytes(bare.subarray(0, 1024), rng, 1 + rng.int(8), 0, 256)
    guard('dicom-sniff', `no-preamble #${i}`, m.desc, () => void looksLikeDicom(m.bytes))
  }
  console.log(`mutation header parsers: 3000 cases, per parser ${JSON.stringify(counts)}`)
  assert.equal(
    failures.length,
    0,
    `${failures.length} non-AppError throw(s):\n${failures.slice(0, 20).join('\n')}`,
  )
})

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { openVolume } from '../../src/io/open-volume.js'
import type { Normalisation } from '../../src/shared/model-card.js'
import { normaliseIntensity, percentiles } from '../../src/inference/preprocess/normalise.js'
import { fixture, python, rejectsWith } from '../helpers.js'

type Size = [number, number, number]

const ch2 = async (): Promise<{ voxels: Uint8Array; size: Size }> => {
  const v = (await openVolume(fixture('ch2.nii.gz'))).volume
  assert.ok(v.voxels instanceof Uint8Array)
  return { voxels: v.voxels, size: [...v.sizeIJK] as Size }
}

/** Every 7919th voxel: enough to catch an error anywhere, small enough for JSON. */
const STRIDE = 7919
const sample = (a: Float32Array): number[] => {
  const out: number[] = []
  for (let i = 0; i < a.length; i += STRIDE) out.push(a[i]!)
  return out
}
const maxAbsDiff = (a: readonly number[], b: readonly number[]): number => {
  assert.equal(a.length, b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}
/** Running float64 sums vs numpy's pairwise summation: relative error ≲ n·ε ≈ 1e-9 for 7 M voxels. */
const SUM_TOL = 1e-9
const close = (got: number, want: number, rel: number, what: string): void => {
  assert.ok(Math.abs(got - want) <= rel * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`)
}

// Shared oracle preamble: ch2 as float32 in our flat order (first axis fastest), the way
// nnU-Net's preprocessor sees it (`data.astype(np.float32)`).
const LOAD = `
import sys, json, numpy as np, nibabel as nib, scipy.ndimage as ndi
vol = np.asanyarray(nib.load(sys.argv[1]).dataobj).astype(np.float32)
STRIDE = ${STRIDE}
def sample(flat): return [float(x) for x in flat[::STRIDE]]
def nnunet_zscore(image, mask):
    # nnunetv2 ZScoreNormalization.run, verbatim logic (seg >= 0 is the filled nonzero mask).
    image = image.astype(np.float32, copy=True)
    if mask is not None:
        mean = image[mask].mean(); std = image[mask].std()
        image[mask] = (image[mask] - mean) / max(std, 1e-8)
    else:
        mean = image.mean(); std = image.std()
        image -= mean; image /= max(std, 1e-8)
    return image
def stats64(x):
    x = x.astype(np.float64)
    return {'mean': float(x.mean()), 'std': float(x.std()), 'n': int(x.size)}
`

interface ZOracle {
  all: { mean: number; std: number; n: number }
  fg: { mean: number; std: number; n: number }
  nonzero: { mean: number; std: number; n: number }
  enclosed: number
  sampleAll: number[]
  sampleFg: number[]
}

test('zscore on ch2 matches nnU-Net v2 ZScoreNormalization (all voxels, and mask with holes)', async () => {
  const { voxels, size } = await ch2()
  // Carve an interior ball to zero so the foreground mask has an enclosed cavity to fill (ch2
  // itself has none). Same integer rule in both languages.
  const [c0, c1, c2, r] = [90, 108, 90, 12]
  const carved = voxels.slice()
  for (let z = 0; z < size[2]; z++) {
    for (let y = 0; y < size[1]; y++) {
      for (let x = 0; x < size[0]; x++) {
        if ((x - c0) ** 2 + (y - c1) ** 2 + (z - c2) ** 2 <= r * r) {
          carved[x + size[0] * (y + size[1] * z)] = 0
        }
      }
    }
  }
  const o = python<ZOracle>(
    `${LOAD}
x, y, z = np.meshgrid(*[np.arange(s) for s in vol.shape], indexing='ij')
carved = vol.copy()
carved[(x - ${c0})**2 + (y - ${c1})**2 + (z - ${c2})**2 <= ${r * r}] = 0
nonzero = carved != 0
fg = ndi.binary_fill_holes(nonzero)  # nnunetv2 create_nonzero_mask
print(json.dumps({
  'all': stats64(vol), 'fg': stats64(carved[fg]), 'nonzero': stats64(carved[nonzero]),
  'enclosed': int((fg & ~nonzero).sum()),
  'sampleAll': sample(nnunet_zscore(vol, None).ravel(order='F')),
  'sampleFg': sample(nnunet_zscore(carved, fg).ravel(order='F')),
}))`,
    [fixture('ch2.nii.gz')],
  )
  assert.ok(o.enclosed > 5000, 'the carved ball is an enclosed cavity')

  const all = normaliseIntensity(voxels, { kind: 'zscore', foregroundOnly: false })
  close(all.stats.mean, o.all.mean, SUM_TOL, 'mean')
  close(all.stats.std, o.all.std, SUM_TOL, 'std')
  assert.equal(all.stats.voxelsUsed, o.all.n)
  assert.ok(maxAbsDiff(sample(all.data), o.sampleAll) < 1e-5)

  const spec: Normalisation = { kind: 'zscore', foregroundOnly: true }
  const fg = normaliseIntensity(carved, spec, size)
  assert.equal(fg.stats.voxelsUsed, o.fg.n)
  close(fg.stats.mean, o.fg.mean, SUM_TOL, 'foreground mean')
  close(fg.stats.std, o.fg.std, SUM_TOL, 'foreground std')
  assert.ok(maxAbsDiff(sample(fg.data), o.sampleFg) < 1e-5)
  // Outside the mask stays exactly 0 (nnU-Net leaves those voxels, which are 0, untouched).
  let outside = 0
  for (let i = 0; i < carved.length; i++) if (fg.data[i] === 0 && carved[i] === 0) outside++
  assert.ok(outside >= carved.length - o.fg.n)

  // Without the size, the foreground is only the non-zero voxels (no hole filling).
  const nz = normaliseIntensity(carved, spec)
  assert.equal(nz.stats.voxelsUsed, o.nonzero.n)
  close(nz.stats.mean, o.nonzero.mean, SUM_TOL, 'non-zero mean')
  close(nz.stats.std, o.nonzero.std, SUM_TOL, 'non-zero std')
})

test('hole filling uses 6-connected background like scipy binary_fill_holes', () => {
  // 7×7×7: a solid 5×5×5 cube of 5s with a zero notch open to the outside and two zero pockets:
  // one sealed, one reaching the notch only through an edge-diagonal step.
  const size: Size = [7, 7, 7]
  const at = (x: number, y: number, z: number): number => x + 7 * (y + 7 * z)
  const v = new Float32Array(343)
  for (let z = 1; z < 6; z++) {
    for (let y = 1; y < 6; y++) for (let x = 1; x < 6; x++) v[at(x, y, z)] = 5
  }
  v[at(3, 3, 3)] = 0 // sealed
  v[at(1, 1, 3)] = 0 // a notch open to the outside
  v[at(2, 2, 3)] = 0 // touches the notch only across an edge: a hole for 6-connectivity
  v[at(2, 3, 1)] = 7 // so the mean and std are not trivial
  const o = python<{ fg: number; mean: number; std: number }>(
    `import sys, json, numpy as np, scipy.ndimage as ndi
v = np.array(json.loads(sys.argv[1]), dtype=np.float32).reshape((7, 7, 7), order='F')
fg = ndi.binary_fill_holes(v != 0)
print(json.dumps({'fg': int(fg.sum()), 'mean': float(v[fg].astype(np.float64).mean()),
                  'std': float(v[fg].astype(np.float64).std())}))`,
    [JSON.stringify(Array.from(v))],
  )
  const r = normaliseIntensity(v, { kind: 'zscore', foregroundOnly: true }, size)
  assert.equal(r.stats.voxelsUsed, o.fg)
  assert.equal(r.stats.voxelsUsed, 124) // both pockets are holes; the notch is outside
  close(r.stats.mean, o.mean, SUM_TOL, 'mean')
  close(r.stats.std, o.std, SUM_TOL, 'std')
  assert.equal(r.data[at(0, 0, 0)], 0)
  close(r.data[at(3, 3, 3)]!, (0 - o.mean) / o.std, 1e-6, 'filled hole is normalised')
})

/** Foreground by brute force: flood the zero voxels 6-connected to the border, the rest is in. */
const referenceForeground = (v: Float32Array, [nx, ny, nz]: Size): number => {
  const out = new Uint8Array(v.length)
  const stack: number[] = []
  const visit = (x: number, y: number, z: number): void => {
    if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz) return
    const i = x + nx * (y + ny * z)
    if (v[i] !== 0 || out[i] === 1) return
    out[i] = 1
    stack.push(i)
  }
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        if (x === 0 || y === 0 || z === 0 || x === nx - 1 || y === ny - 1 || z === nz - 1) {
          visit(x, y, z)
        }
      }
    }
  }
  while (stack.length > 0) {
    const i = stack.pop()!
    const [x, y, z] = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))]
    for (const [dx, dy, dz] of [
      [1, 0, 0],
      [-1, 0, 0],
      [0, 1, 0],
      [0, -1, 0],
      [0, 0, 1],
      [0, 0, -1],
    ] as const) {
      visit(x + dx, y + dy, z + dz)
    }
  }
  return v.length - out.reduce((s, x) => s + x, 0)
}

test('property: the filled foreground equals a 6-connected flood from the border', () => {
  const dims = fc.tuple(
    fc.integer({ min: 1, max: 8 }),
    fc.integer({ min: 1, max: 8 }),
    fc.integer({ min: 1, max: 8 }),
  )
  fc.assert(
    fc.property(
      dims.chain((d) =>
        fc.tuple(
          fc.constant(d),
          fc.array(fc.constantFrom(0, 0, 1, 2.5, -3), {
            minLength: d[0] * d[1] * d[2],
            maxLength: d[0] * d[1] * d[2],
          }),
        ),
      ),
      ([size, values]) => {
        const v = new Float32Array(values)
        const r = normaliseIntensity(v, { kind: 'zscore', foregroundOnly: true }, size)
        assert.equal(r.stats.voxelsUsed, referenceForeground(v, size))
      },
    ),
    { numRuns: 500 },
  )
})

interface PctOracle {
  q: number[]
  ch2: number[]
  float: number[]
  sampleMapped: number[]
}

test('percentiles match numpy (linear) on ch2 and a float volume; mapping matches MONAI', async () => {
  const { voxels } = await ch2()
  const dir = mkdtempSync(join(tmpdir(), 'volseg-pct-'))
  try {
    const raw = join(dir, 'noisy.f32')
    const q = [0, 0.5, 13.7, 41.6, 50, 77.7, 99.5, 99.99, 100]
    // A float volume with real anatomy: ch2 rescaled, with Gaussian noise and negative values.
    const o = python<PctOracle>(
      `${LOAD}
q = ${JSON.stringify(q)}
flat = vol.ravel(order='F')
rng = np.random.default_rng(7)
noisy = (flat * np.float32(0.731) - np.float32(17.25) + rng.normal(0, 3, flat.size).astype(np.float32))
noisy.astype('<f4').tofile(sys.argv[2])
lo, hi = np.percentile(noisy.astype(np.float64), [0.5, 99.5])
# MONAI ScaleIntensityRange(a_min=lo, a_max=hi, b_min=-1, b_max=2, clip=True)
mapped = np.clip((noisy.astype(np.float64) - lo) / (hi - lo) * 3 - 1, -1, 2)
print(json.dumps({'q': q,
  'ch2': [float(x) for x in np.percentile(flat.astype(np.float64), q)],
  'float': [float(x) for x in np.percentile(noisy.astype(np.float64), q)],
  'sampleMapped': sample(mapped)}))`,
      [fixture('ch2.nii.gz'), raw],
    )
    const f = new Float32Array(voxels)
    const noisy = new Float32Array(new Uint8Array(readFileSync(raw)).buffer)
    assert.equal(noisy.length, voxels.length)
    for (let i = 0; i < q.length; i++) {
      const lo = q[i]!
      const [a] = percentiles(f, lo, lo)
      assert.equal(a, o.ch2[i], `ch2 p${lo}`)
      const [b] = percentiles(noisy, lo, lo)
      close(b, o.float[i]!, 1e-14, `float p${lo}`)
    }
    const spec: Normalisation = {
      kind: 'percentile',
      lower: 0.5,
      upper: 99.5,
      outMin: -1,
      outMax: 2,
      clip: true,
    }
    const r = normaliseIntensity(noisy, spec)
    close(r.stats.lo, o.float[1]!, 1e-14, 'lo')
    close(r.stats.hi, o.float[6]!, 1e-14, 'hi')
    assert.ok(maxAbsDiff(sample(r.data), o.sampleMapped) < 1e-6)
    assert.equal(r.stats.voxelsUsed, voxels.length)
    // The stats describe the same map: out = (x − mean) / std.
    const x = noisy[123456]!
    close(
      r.data[123456]!,
      Math.min(2, Math.max(-1, (x - r.stats.mean) / r.stats.std)),
      1e-6,
      'affine',
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

/** numpy's percentile (method='linear') by full sort: the reference for the property test. */
const sortedPercentile = (a: Float32Array, q: number): number => {
  const s = a.slice().sort()
  const h = (s.length - 1) * (q / 100)
  const k = Math.floor(h)
  const lo = s[k]!
  const hi = s[Math.min(k + 1, s.length - 1)]!
  const t = h - k
  return t >= 0.5 ? hi - (hi - lo) * (1 - t) : lo + (hi - lo) * t
}

test('property: percentiles equal the sort-based definition for any float32 data', () => {
  const value = fc.oneof(
    fc.float({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -3, max: 3 }).map(Math.fround),
    fc.constantFrom(0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38),
  )
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 1, maxLength: 200 }),
      fc.double({ min: 0, max: 100, noNaN: true }),
      fc.double({ min: 0, max: 100, noNaN: true }),
      (values, q1, q2) => {
        const a = new Float32Array(values)
        const before = a.slice()
        const [lo, hi] = [Math.min(q1, q2), Math.max(q1, q2)]
        const [x, y] = percentiles(a, lo, hi)
        assert.ok(Object.is(x + 0, sortedPercentile(a, lo) + 0), `p${lo}: ${x}`)
        assert.ok(Object.is(y + 0, sortedPercentile(a, hi) + 0), `p${hi}: ${y}`)
        assert.deepEqual(a, before) // untouched
      },
    ),
    { numRuns: 500 },
  )
})

test('ct: clip then (x − mean) / std, as nnU-Net CTNormalization', () => {
  const v = new Int16Array([-3024, -1000, -1001, 0, 40, 399, 400, 401, 3071])
  const spec: Normalisation = { kind: 'ct', clip: [-1000, 400], mean: 50, std: 250 }
  const r = normaliseIntensity(v, spec)
  const want = [-1000, -1000, -1000, 0, 40, 399, 400, 400, 400].map((x) =>
    Math.fround((x - 50) / 250),
  )
  assert.deepEqual(Array.from(r.data), want)
  assert.deepEqual(r.stats, {
    mean: 50,
    std: 250,
    lo: -1000,
    hi: 400,
    clipped: true,
    voxelsUsed: 0,
    nonFinite: 0,
  })
  // nnU-Net floors the std at 1e-8.
  const flat = normaliseIntensity(new Float32Array([1, 2]), { ...spec, std: 0 })
  assert.equal(flat.stats.std, 1e-8)
})

test('none copies to float32; non-finite voxels are read as 0 and counted', () => {
  const v = new Float64Array([1.5, Number.NaN, Infinity, -Infinity, 1e300, -2])
  const none = normaliseIntensity(v, { kind: 'none' })
  assert.deepEqual(Array.from(none.data), [1.5, 0, 0, 0, 0, -2])
  assert.equal(none.stats.nonFinite, 4) // 1e300 overflows float32
  assert.notEqual(none.data, v)

  const z = normaliseIntensity(v, { kind: 'zscore', foregroundOnly: false })
  const vals = [1.5, 0, 0, 0, 0, -2]
  const mean = vals.reduce((s, x) => s + x, 0) / 6
  const std = Math.sqrt(vals.reduce((s, x) => s + (x - mean) ** 2, 0) / 6)
  close(z.stats.mean, mean, 1e-15, 'mean')
  close(z.stats.std, std, 1e-15, 'std')
  assert.ok(z.data.every(Number.isFinite))
  // In foreground mode, a NaN voxel is a zero voxel: outside the mask.
  const fg = normaliseIntensity(v, { kind: 'zscore', foregroundOnly: true })
  assert.equal(fg.stats.voxelsUsed, 2)
  assert.equal(fg.data[1], 0)
})

test('degenerate inputs: empty foreground, constant volume, empty volume', () => {
  const zeros = new Uint8Array(27)
  const fg = normaliseIntensity(zeros, { kind: 'zscore', foregroundOnly: true }, [3, 3, 3])
  assert.equal(fg.stats.voxelsUsed, 0)
  assert.ok(fg.data.every((x) => x === 0))

  const flat = normaliseIntensity(new Float32Array(10).fill(7), {
    kind: 'zscore',
    foregroundOnly: false,
  })
  assert.equal(flat.stats.std, 1e-8)
  assert.ok(flat.data.every((x) => x === 0))

  // MONAI: a flat percentile window shifts lo to outMin and does not clip.
  const spec: Normalisation = {
    kind: 'percentile',
    lower: 1,
    upper: 99,
    outMin: 0.25,
    outMax: 1,
    clip: true,
  }
  const p = normaliseIntensity(new Float32Array([5, 5, 5, 5, 9]), { ...spec, upper: 50 })
  assert.deepEqual(Array.from(p.data), [0.25, 0.25, 0.25, 0.25, 4.25])
  assert.equal(p.stats.clipped, false)

  const empty = normaliseIntensity(new Float32Array(0), spec)
  assert.equal(empty.data.length, 0)
})

test('percentile: inverting map clips to its output range; unclipped map extrapolates', () => {
  const v = new Float32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  const base = { kind: 'percentile', lower: 10, upper: 90 } as const
  const inv = normaliseIntensity(v, { ...base, outMin: 1, outMax: 0, clip: true })
  assert.deepEqual(Array.from(inv.data), [1, 1, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0, 0])
  const free = normaliseIntensity(v, { ...base, outMin: 0, outMax: 1, clip: false })
  assert.equal(free.data[0], -0.125)
  assert.equal(free.data[10], 1.125)
  assert.equal(free.stats.clipped, false)
})

test('refuses cards and sizes that cannot be applied', async () => {
  const v = new Float32Array(8)
  const bad: Normalisation[] = [
    { kind: 'ct', clip: [400, -1000], mean: 0, std: 1 },
    { kind: 'ct', clip: [-1000, 400], mean: Number.NaN, std: 1 },
    { kind: 'percentile', lower: -1, upper: 99, outMin: 0, outMax: 1, clip: true },
    { kind: 'percentile', lower: 60, upper: 40, outMin: 0, outMax: 1, clip: true },
    { kind: 'percentile', lower: 1, upper: 101, outMin: 0, outMax: 1, clip: true },
    { kind: 'percentile', lower: 1, upper: 99, outMin: 1, outMax: 1, clip: true },
    { kind: 'ct', clip: [-1000, 400], mean: 0, std: -1 },
  ]
  for (const spec of bad) {
    await rejectsWith(
      Promise.resolve().then(() => normaliseIntensity(v, spec)),
      'E_ARGS',
    )
  }
  await rejectsWith(
    Promise.resolve().then(() => percentiles(v, 50, 100.5)),
    'E_ARGS',
  )
  assert.deepEqual(percentiles(new Float32Array(0), 1, 99), [NaN, NaN])
  const z: Normalisation = { kind: 'zscore', foregroundOnly: true }
  await rejectsWith(
    Promise.resolve().then(() => normaliseIntensity(v, z, [2, 2, 3])),
    'E_ARGS',
  )
  await rejectsWith(
    Promise.resolve().then(() => normaliseIntensity(v, z, [2, 4, 1.0001])),
    'E_ARGS',
  )
})

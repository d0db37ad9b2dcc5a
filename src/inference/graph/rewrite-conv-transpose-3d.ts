/**
 * ConvTranspose3d with kernel = stride (2×2×2 in stock U-Nets, 1×2×2 in anisotropic nnU-Nets) →
 * 1×1×1 Conv + depth-to-space. onnxruntime's WebGPU provider refuses 3-D ConvTranspose ("Only
 * Conv2d or Conv1d are supported"), which every 3-D U-Net decoder uses. Exact: with kernel =
 * stride and no padding each output voxel receives exactly one kernel tap.
 */
import type { onnx } from 'onnx-proto'
import {
  attrInt,
  attrInts,
  attrString,
  intAttr,
  intsAttr,
  rewriteEach,
  tensorDims,
  tensorToFloat32,
  type GraphEditor,
  type RewriteReport,
} from './onnx-model.js'

const allEqual = (v: number[] | undefined, x: number): boolean => !v || v.every((d) => d === x)

/** Why this ConvTranspose cannot be rewritten, or its weight dims when it can. */
function check(
  node: onnx.INodeProto,
  ed: GraphEditor,
  opset: number,
): { reason: string } | { cin: number; cout: number; k: [number, number, number] } {
  const w = ed.initializer(node.input?.[1])
  const kernel = attrInts(node, 'kernel_shape')
  if (!w) {
    const reason =
      kernel && kernel.length !== 3 ? `${kernel.length}-D kernel` : 'weights are not an initializer'
    return { reason }
  }
  const dims = tensorDims(w)
  if (dims.length !== 5) return { reason: `${dims.length - 2}-D kernel` }
  const [cin, cout, ...k] = dims as [number, number, number, number, number]
  if (kernel && kernel.join() !== k.join()) return { reason: 'kernel_shape disagrees with weights' }
  const strides = attrInts(node, 'strides') ?? [1, 1, 1]
  if (strides.join() !== k.join()) {
    return { reason: `kernel ${k.join('×')} ≠ strides ${strides.join('×')}` }
  }
  if (!allEqual(attrInts(node, 'dilations'), 1)) return { reason: 'dilated' }
  if ((attrInt(node, 'group') ?? 1) !== 1) return { reason: 'grouped' }
  if (!allEqual(attrInts(node, 'pads'), 0)) return { reason: 'padded' }
  if (!allEqual(attrInts(node, 'output_padding'), 0)) return { reason: 'output_padding is set' }
  if (attrInts(node, 'output_shape')) return { reason: 'output_shape is set' }
  // With kernel = stride, SAME_* pads nothing either.
  const autoPad = attrString(node, 'auto_pad') ?? 'NOTSET'
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) {
    return { reason: `auto_pad ${autoPad}` }
  }
  if (w.dataType !== 1) return { reason: 'weights are not float32' }
  const biasName = node.input?.[2]
  if (biasName) {
    const b = ed.initializer(biasName)
    if (!b) return { reason: 'bias is not an initializer' }
    if (b.dataType !== 1) return { reason: 'bias is not float32' }
  }
  if (opset < 11) return { reason: `opset ${opset} < 11` }
  return { cin, cout, k: k as [number, number, number] }
}

/**
 * 1×1×1 Conv weights [T·Cout, Cin] and bias producing T = a·b·c channels per output channel:
 * channel `co·T + tap` holds kernel tap `tap` (row-major over the a×b×c kernel) of channel co, so
 * a reshape to [N, Cout, a, b, c, D, H, W] splits the taps out. `w` is ConvTranspose's
 * [Cin, Cout, a, b, c].
 */
export function depthToSpaceWeights(
  w: Float32Array,
  bias: Float32Array | undefined,
  cin: number,
  cout: number,
  taps: number,
): { weight: Float32Array; bias: Float32Array | undefined } {
  const weight = new Float32Array(taps * cout * cin)
  for (let ci = 0; ci < cin; ci++) {
    for (let co = 0; co < cout; co++) {
      for (let tap = 0; tap < taps; tap++) {
        weight[(co * taps + tap) * cin + ci] = w[(ci * cout + co) * taps + tap]!
      }
    }
  }
  const b =
    bias && Float32Array.from({ length: taps * cout }, (_, o) => bias[Math.floor(o / taps)]!)
  return { weight, bias: b }
}

/**
 * Rewrites every 3-D ConvTranspose of the main graph whose kernel equals its strides, with no
 * padding, dilation or groups, and initializer weights and bias. 3-D ones left alone (or of
 * unknown rank) are reported in `skipped`: they will not run on WebGPU.
 */
export function rewriteConvTranspose3d(ed: GraphEditor, opset: number): RewriteReport {
  const int64 = ed.constants('depth_to_space_const')
  // 1-D and 2-D ConvTranspose run on WebGPU as they are.
  return rewriteEach(
    ed,
    'ConvTranspose',
    (n) => check(n, ed, opset),
    /^[12]-D kernel$/,
    (node, chk, label) => {
      const { cin, cout, k } = chk
      const taps = k[0] * k[1] * k[2]
      const [x, wName, bName] = [node.input![0]!, node.input![1]!, node.input![2] ?? '']
      const b = bName ? tensorToFloat32(ed.initializer(bName)!) : undefined
      const r = depthToSpaceWeights(tensorToFloat32(ed.initializer(wName)!), b, cin, cout, taps)
      const base = node.name || 'ConvTranspose'
      const w1 = ed.float32(`${wName}_depth_to_space`, [taps * cout, cin, 1, 1, 1], r.weight)
      const b1 = r.bias && ed.float32(`${bName}_depth_to_space`, [taps * cout], r.bias)
      const conv = ed.op('Conv', base, b1 ? [x, w1, b1] : [x, w1], [
        intsAttr('kernel_shape', [1, 1, 1]),
      ])
      // Shapes are computed at run time so batch and spatial sizes stay dynamic; a 0 in a Reshape
      // target copies that dim (N) from its input.
      const shape = ed.op('Shape', base, [x])
      const dhw = ed.op('Slice', base, [shape.output, int64([2]), int64([5])])
      const t1 = ed.op('Concat', base, [int64([0, cout, ...k]), dhw.output], [intAttr('axis', 0)])
      const split = ed.op('Reshape', base, [conv.output, t1.output])
      // [N, Cout, a, b, c, D, H, W] → [N, Cout, D, a, H, b, W, c]
      const perm = [0, 1, 5, 2, 6, 3, 7, 4]
      const tr = ed.op('Transpose', base, [split.output], [intsAttr('perm', perm)])
      const dhw2 = ed.op('Mul', base, [dhw.output, int64(k)])
      const t2 = ed.op('Concat', base, [int64([0, cout]), dhw2.output], [intAttr('axis', 0)])
      const out = ed.op('Reshape', base, [tr.output, t2.output], [], node.output![0]!)
      return {
        nodes: [conv, shape, dhw, t1, split, tr, dhw2, t2, out].map((n) => n.node),
        orphans: [wName, bName],
        applied: `${label}: ConvTranspose ${k.join('×')} stride = kernel → 1×1×1 Conv + depth-to-space`,
      }
    },
  )
}

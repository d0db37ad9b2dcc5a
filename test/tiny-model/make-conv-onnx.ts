/**
 * A tiny ONNX graph of a given interface, for importing configs that come without weights:
 * `input` [N, 1, D, H, W] → 1×1×1 Conv → `output` [N, C, D, H, W] (opset 17, dynamic N/D/H/W),
 * channel c's weight `c − (C−1)/2` and bias 0, so it segments nothing meaningful but runs.
 *
 *   node --import tsx test/tiny-model/make-conv-onnx.ts out.onnx --classes 3 [--input image] [--output logits]
 */
import { writeFileSync } from 'node:fs'
import { encodeModel, float32Tensor, proto } from '../../src/inference/graph/onnx-model.js'

export function makeConvOnnx(o: {
  classes: number
  inputName?: string
  outputName?: string
}): Uint8Array {
  const C = o.classes
  const input = o.inputName ?? 'input'
  const output = o.outputName ?? 'output'
  const dim = (v: string | number): { dimParam?: string; dimValue?: number } =>
    typeof v === 'string' ? { dimParam: v } : { dimValue: v }
  const valueInfo = (name: string, ch: number): ReturnType<typeof proto.ValueInfoProto.create> =>
    proto.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: proto.TensorProto.DataType.FLOAT,
          shape: { dim: ['N', ch, 'D', 'H', 'W'].map(dim) },
        },
      },
    })
  const w = Float32Array.from({ length: C }, (_, c) => c - (C - 1) / 2)
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'volseg make-conv-onnx',
    graph: {
      name: 'conv1x1',
      input: [valueInfo(input, 1)],
      output: [valueInfo(output, C)],
      initializer: [
        float32Tensor('w', [C, 1, 1, 1, 1], w),
        float32Tensor('b', [C], new Float32Array(C)),
      ],
      node: [{ opType: 'Conv', input: [input, 'w', 'b'], output: [output], name: 'head' }],
    },
  })
}

if (
  process.argv[1] !== undefined &&
  import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))
) {
  const args = process.argv.slice(2)
  const flag = (k: string): string | undefined => {
    const i = args.indexOf(k)
    return i >= 0 ? args[i + 1] : undefined
  }
  const out = args[0]
  if (out === undefined) throw new Error('usage: make-conv-onnx.ts out.onnx --classes N')
  const inputName = flag('--input')
  const outputName = flag('--output')
  writeFileSync(
    out,
    makeConvOnnx({
      classes: Number(flag('--classes') ?? 2),
      ...(inputName === undefined ? {} : { inputName }),
      ...(outputName === undefined ? {} : { outputName }),
    }),
  )
}

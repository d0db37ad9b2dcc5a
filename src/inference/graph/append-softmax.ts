/**
 * Appends a channel Softmax to a logits output, so ONNX Runtime computes the probabilities with
 * its vectorised, multi-threaded kernels (or on the GPU) instead of a per-voxel JavaScript loop
 * (measured: 11 ms of JavaScript per 64³ tile of 3 classes on this CPU, 17 % of the network).
 * The output keeps its name; the logits tensor gets a fresh one.
 */
import { decodeModel, defaultOpset, encodeModel, GraphEditor, intAttr } from './onnx-model.js'

export interface AppendSoftmaxResult {
  readonly bytes: Uint8Array
  /** True when the output now holds probabilities. */
  readonly applied: boolean
  /** Why not, when not applied. */
  readonly reason?: string
}

/**
 * Rewrites graph output `outputName` ([N, C, …] logits) into `Softmax(axis = 1)` of itself.
 * Needs opset ≥ 13: older Softmax flattens every axis from `axis` on, which is not a channel
 * softmax for 5-D tensors. Leaves the model unchanged (with the reason) when it cannot apply.
 */
export function appendChannelSoftmax(
  modelBytes: Uint8Array,
  outputName: string,
): AppendSoftmaxResult {
  const model = decodeModel(modelBytes)
  const unchanged = (reason: string): AppendSoftmaxResult => ({
    bytes: modelBytes,
    applied: false,
    reason,
  })
  const opset = defaultOpset(model)
  if (opset < 13) return unchanged(`opset ${opset} < 13 has no per-axis Softmax`)
  const graph = model.graph!
  if (!(graph.output ?? []).some((o) => o.name === outputName)) {
    return unchanged(`no graph output "${outputName}"`)
  }
  const producer = (graph.node ?? []).find((n) => (n.output ?? []).includes(outputName))
  if (!producer) return unchanged(`output "${outputName}" is not computed by a node`)
  const ed = new GraphEditor(model)
  const logits = ed.fresh(`${outputName}_logits`)
  // Every reader of the old name (other outputs' subgraphs included) now reads the logits.
  const rename = (names: string[] | null | undefined): void => {
    if (!names) return
    for (let i = 0; i < names.length; i++) if (names[i] === outputName) names[i] = logits
  }
  for (const n of graph.node ?? []) {
    rename(n.input)
    rename(n.output)
  }
  for (const v of graph.valueInfo ?? []) if (v.name === outputName) v.name = logits
  const { node } = ed.op('Softmax', outputName, [logits], [intAttr('axis', 1)], outputName)
  graph.node = [...(graph.node ?? []), node]
  return { bytes: encodeModel(model), applied: true }
}

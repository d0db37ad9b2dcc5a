/**
 * Provider-specific graph rewrites, applied to the model bytes before a session is created.
 * Only onnxruntime's WebGPU provider needs any: it refuses 3-D ConvTranspose and runs 3-D Conv
 * as a naive kernel, so both are rewritten into exactly equivalent 2-D-friendly subgraphs.
 */
import { AppError } from '../../shared/errors.js'
import { decodeModel, defaultOpset, encodeModel, graphProblems, GraphEditor } from './onnx-model.js'
import { rewriteConv3dAsConv2d } from './rewrite-conv3d-as-conv2d.js'
import { rewriteConvTranspose3d } from './rewrite-conv-transpose-3d.js'

export { readGraphIO, type GraphIO, type GraphValue } from './onnx-model.js'

/** Execution providers the engine knows. */
export type Provider = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml'

/** The model to load, and what was (not) rewritten, for logs and the provider report. */
export interface RewriteResult {
  /** The model to load: the input bytes themselves when nothing was rewritten. */
  readonly bytes: Uint8Array
  /** One line per rewritten node: `'<node>: <what>'`. */
  readonly applied: string[]
  /** One line per node a rewrite targets but left alone: `'<node>: <op>, <why>'`. */
  readonly skipped: string[]
}

/**
 * Rewrites a model for one execution provider. Every provider gets the model validated (it must
 * decode and be self-contained); only `'webgpu'` gets rewrites. The opset is never changed: the
 * rewrites need opset ≥ 11 (Pad with a `pads` input, Slice with inputs) and skip older graphs.
 *
 * @throws AppError `E_MODEL` when the bytes are not a self-contained ONNX model;
 *   `E_INTERNAL` if a rewrite broke the graph's order or naming (a bug).
 */
export function rewriteForProvider(modelBytes: Uint8Array, provider: Provider): RewriteResult {
  const model = decodeModel(modelBytes)
  if (provider !== 'webgpu') return { bytes: modelBytes, applied: [], skipped: [] }
  const opset = defaultOpset(model)
  const soundBefore = graphProblems(model.graph!).length === 0
  const ed = new GraphEditor(model)
  const reports = [rewriteConvTranspose3d(ed, opset), rewriteConv3dAsConv2d(ed, opset)]
  const applied = reports.flatMap((r) => r.applied)
  const skipped = reports.flatMap((r) => r.skipped)
  if (applied.length === 0) return { bytes: modelBytes, applied, skipped }
  const problems = graphProblems(model.graph!)
  if (soundBefore && problems.length > 0) {
    throw new AppError(
      'E_INTERNAL',
      `graph rewrite for ${provider} broke the graph: ${problems[0]}`,
    )
  }
  return { bytes: encodeModel(model), applied, skipped }
}

/**
 * Decoding, encoding and small editing helpers for ONNX models (onnx-proto / protobufjs). Pure:
 * runs in Node and in the browser, so graph rewrites can happen wherever the session is created.
 */
import onnxProto from 'onnx-proto'
import type { onnx } from 'onnx-proto'
import { AppError } from '../../shared/errors.js'

/** The onnx-proto namespace (a CommonJS module, hence the default import). */
export const proto = onnxProto.onnx

/** protobufjs decodes int64 fields as `Long` objects when the `long` package is present. */
export type Int64 = number | { toNumber(): number }

/** An int64 field as a number (0 when unset). */
export function toNumber(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0
  return typeof v === 'number' ? v : v.toNumber()
}

/**
 * Decodes an ONNX model, refusing anything that is not a self-contained graph.
 *
 * @throws AppError `E_MODEL` when the bytes are not an ONNX model, have no graph, or any tensor
 *   keeps its data outside the file (external data: its `location` could point anywhere).
 */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  let model: onnx.ModelProto
  try {
    model = proto.ModelProto.decode(bytes)
  } catch (e) {
    throw new AppError('E_MODEL', `not an ONNX model: ${(e as Error).message}`, { cause: e })
  }
  if (!model.graph) throw new AppError('E_MODEL', 'the ONNX model has no graph')
  forEachTensor(model.graph, (t) => {
    if (
      t.dataLocation === proto.TensorProto.DataLocation.EXTERNAL ||
      (t.externalData ?? []).length
    ) {
      const location = (t.externalData ?? []).find((e) => e.key === 'location')?.value ?? '?'
      throw new AppError(
        'E_MODEL',
        `tensor "${t.name ?? ''}" keeps its data outside model.onnx (external data at "${location}"); ` +
          'only self-contained models are supported',
      )
    }
  })
  return model
}

/** Encodes a model back to bytes (a plain Uint8Array, also in Node). */
export function encodeModel(model: onnx.IModelProto): Uint8Array {
  const b = proto.ModelProto.encode(model).finish()
  // Node's Buffer may be a slice of a shared pool: hand out bytes that own their buffer.
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
    ? new Uint8Array(b.buffer)
    : new Uint8Array(b)
}

/** Version of the default (`ai.onnx`) operator set the model imports, 0 when none. */
export function defaultOpset(model: onnx.IModelProto): number {
  const o = (model.opsetImport ?? []).find((x) => !x.domain || x.domain === 'ai.onnx')
  return toNumber(o?.version)
}

/** Every graph nested in a node attribute (If/Loop/Scan bodies). */
export function subgraphs(node: onnx.INodeProto): onnx.IGraphProto[] {
  const out: onnx.IGraphProto[] = []
  for (const a of node.attribute ?? []) {
    if (a.g) out.push(a.g)
    out.push(...(a.graphs ?? []))
  }
  return out
}

/** Calls `f` on every dense tensor of the graph: initializers, sparse values, node attributes. */
function forEachTensor(graph: onnx.IGraphProto, f: (t: onnx.ITensorProto) => void): void {
  for (const t of graph.initializer ?? []) f(t)
  for (const s of graph.sparseInitializer ?? []) {
    if (s.values) f(s.values)
    if (s.indices) f(s.indices)
  }
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.t) f(a.t)
      for (const t of a.tensors ?? []) f(t)
      if (a.sparseTensor?.values) f(a.sparseTensor.values)
      if (a.sparseTensor?.indices) f(a.sparseTensor.indices)
      for (const s of a.sparseTensors ?? []) {
        if (s.values) f(s.values)
        if (s.indices) f(s.indices)
      }
    }
    for (const g of subgraphs(n)) forEachTensor(g, f)
  }
}

/** What one rewrite pass did: nodes rewritten, and candidates left alone (with the reason). */
export interface RewriteReport {
  readonly applied: string[]
  readonly skipped: string[]
}

/** What a rewrite does to one node: its replacement, the weights it may orphan, a report line. */
export interface NodeRewrite {
  readonly nodes: readonly onnx.INodeProto[]
  readonly orphans: readonly string[]
  readonly applied: string
}

/**
 * The walk every rewrite shares: each default-domain `opType` node of the main graph is planned
 * (`plan` returns the rewrite's parameters, or `{ reason }` when it cannot apply), replaced by
 * `build`'s nodes, and reported. Reasons matching `quiet` (nodes that need no rewrite) are not
 * listed in `skipped`. Weights left unread afterwards are dropped.
 */
export function rewriteEach<P extends object>(
  ed: GraphEditor,
  opType: string,
  plan: (node: onnx.INodeProto) => { reason: string } | P,
  quiet: RegExp,
  build: (node: onnx.INodeProto, plan: P, label: string) => NodeRewrite,
): RewriteReport {
  const applied: string[] = []
  const skipped: string[] = []
  const orphans: string[] = []
  let i = 0
  while (i < (ed.graph.node ?? []).length) {
    const node = ed.graph.node![i]!
    if (node.opType !== opType || !isDefaultDomain(node)) {
      i++
      continue
    }
    const label = node.name || `${opType} #${i}`
    const p = plan(node)
    if ('reason' in p) {
      if (!quiet.test(p.reason)) skipped.push(`${label}: ${opType}, ${p.reason}`)
      i++
      continue
    }
    const r = build(node, p, label)
    ed.replace(i, r.nodes)
    i += r.nodes.length
    orphans.push(...r.orphans)
    applied.push(r.applied)
  }
  ed.dropUnused(orphans)
  return { applied, skipped }
}

/** Dimensions of a tensor as numbers. */
export function tensorDims(t: onnx.ITensorProto): number[] {
  return (t.dims ?? []).map(toNumber)
}

/**
 * The values of a float32 tensor, from `raw_data` (little-endian) or `float_data`.
 *
 * @throws AppError `E_MODEL` when the tensor is not float32 or its data does not match its dims.
 */
export function tensorToFloat32(t: onnx.ITensorProto): Float32Array {
  const name = t.name ?? ''
  if (t.dataType !== proto.TensorProto.DataType.FLOAT) {
    throw new AppError('E_MODEL', `tensor "${name}" is not float32 (data type ${t.dataType})`)
  }
  const n = tensorDims(t).reduce((a, b) => a * b, 1)
  const raw = t.rawData
  if (raw && raw.byteLength > 0) {
    if (raw.byteLength !== 4 * n) {
      throw new AppError(
        'E_MODEL',
        `tensor "${name}" holds ${raw.byteLength} bytes, expected ${4 * n}`,
      )
    }
    // raw_data may sit at any offset of the model buffer: read through a DataView, not a view.
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    const out = new Float32Array(n)
    for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, true)
    return out
  }
  const f = t.floatData ?? []
  if (f.length !== n) {
    throw new AppError('E_MODEL', `tensor "${name}" holds ${f.length} values, expected ${n}`)
  }
  return Float32Array.from(f)
}

/** A float32 tensor stored as little-endian `raw_data`. */
export function float32Tensor(
  name: string,
  dims: readonly number[],
  data: Float32Array,
): onnx.TensorProto {
  const raw = new Uint8Array(4 * data.length)
  const v = new DataView(raw.buffer)
  for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i]!, true)
  return proto.TensorProto.create({
    name,
    dims: [...dims],
    dataType: proto.TensorProto.DataType.FLOAT,
    rawData: raw,
  })
}

/** A 1-D int64 tensor (shapes, axes, pads). */
export function int64Tensor(name: string, values: readonly number[]): onnx.TensorProto {
  return proto.TensorProto.create({
    name,
    dims: [values.length],
    dataType: proto.TensorProto.DataType.INT64,
    int64Data: [...values],
  })
}

/** Whether a node belongs to the default (`ai.onnx`) operator domain. */
export function isDefaultDomain(node: onnx.INodeProto): boolean {
  return !node.domain || node.domain === 'ai.onnx'
}

/** The attribute `name` of a node, if set. */
export function attribute(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name)
}

/** An `ints` attribute as numbers, undefined when the node does not set it. */
export function attrInts(node: onnx.INodeProto, name: string): number[] | undefined {
  const a = attribute(node, name)
  return a ? (a.ints ?? []).map(toNumber) : undefined
}

/** An `int` attribute, undefined when the node does not set it. */
export function attrInt(node: onnx.INodeProto, name: string): number | undefined {
  const a = attribute(node, name)
  return a ? toNumber(a.i) : undefined
}

/** A string attribute (ASCII, as ONNX's enum-like attributes are). */
export function attrString(node: onnx.INodeProto, name: string): string | undefined {
  const s = attribute(node, name)?.s
  return s ? String.fromCharCode(...s) : undefined
}

/** A new `ints` attribute. */
export function intsAttr(name: string, ints: readonly number[]): onnx.AttributeProto {
  return proto.AttributeProto.create({
    name,
    type: proto.AttributeProto.AttributeType.INTS,
    ints: [...ints],
  })
}

/** A new `int` attribute. */
export function intAttr(name: string, i: number): onnx.AttributeProto {
  return proto.AttributeProto.create({ name, type: proto.AttributeProto.AttributeType.INT, i })
}

/**
 * Ordered problems of a graph (empty when sound): a node reading a value that no earlier node,
 * input or initializer produces (not topologically sorted), or a value produced twice.
 * Outer-scope names used inside subgraphs are not checked.
 */
export function graphProblems(graph: onnx.IGraphProto): string[] {
  const problems: string[] = []
  const have = new Set<string>()
  const define = (name: string, by: string): void => {
    if (have.has(name)) problems.push(`value "${name}" is defined twice (${by})`)
    have.add(name)
  }
  for (const t of graph.initializer ?? []) define(t.name ?? '', 'initializer')
  // Before IR version 4, initializers are also listed as graph inputs: not a redefinition.
  for (const i of graph.input ?? []) if (!have.has(i.name ?? '')) define(i.name ?? '', 'input')
  const nodeNames = new Set<string>()
  for (const n of graph.node ?? []) {
    const label = n.name || n.opType || '?'
    if (n.name) {
      if (nodeNames.has(n.name)) problems.push(`node name "${n.name}" is used twice`)
      nodeNames.add(n.name)
    }
    for (const x of n.input ?? []) {
      if (x && !have.has(x)) problems.push(`node "${label}" reads "${x}" before it is defined`)
    }
    for (const y of n.output ?? []) if (y) define(y, `node "${label}"`)
  }
  for (const o of graph.output ?? []) {
    if (!have.has(o.name ?? '')) problems.push(`graph output "${o.name ?? ''}" is never defined`)
  }
  return problems
}

/**
 * Edits one graph in place: fresh unique names, new constants, node replacement. Names are kept
 * unique across the main graph and its subgraphs (ONNX requires it: subgraphs see outer names).
 */
export class GraphEditor {
  /** The main graph, edited in place. */
  readonly graph: onnx.IGraphProto
  private readonly names = new Set<string>()
  private readonly inits = new Map<string, onnx.ITensorProto>()
  /** Before IR version 4, every initializer must also be a graph input. */
  private readonly initsAreInputs: boolean

  constructor(model: onnx.IModelProto) {
    if (!model.graph) throw new AppError('E_MODEL', 'the ONNX model has no graph')
    this.graph = model.graph
    this.initsAreInputs = toNumber(model.irVersion) < 4
    for (const t of this.graph.initializer ?? []) this.inits.set(t.name ?? '', t)
    const collect = (g: onnx.IGraphProto): void => {
      for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
        this.names.add(v.name ?? '')
      }
      for (const t of g.initializer ?? []) this.names.add(t.name ?? '')
      for (const n of g.node ?? []) {
        if (n.name) this.names.add(n.name)
        for (const x of [...(n.input ?? []), ...(n.output ?? [])]) this.names.add(x)
        for (const s of subgraphs(n)) collect(s)
      }
    }
    collect(this.graph)
  }

  /** A name not used anywhere in the model, derived from `base`. */
  fresh(base: string): string {
    let name = base
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`
    this.names.add(name)
    return name
  }

  /** The initializer called `name`, if the value is one. */
  initializer(name: string | undefined): onnx.ITensorProto | undefined {
    return name === undefined ? undefined : this.inits.get(name)
  }

  /** Adds an initializer (renamed to a fresh name from its own) and returns its name. */
  addInitializer(t: onnx.TensorProto): string {
    t.name = this.fresh(t.name)
    this.graph.initializer = [...(this.graph.initializer ?? []), t]
    this.inits.set(t.name, t)
    if (this.initsAreInputs) {
      const input = proto.ValueInfoProto.create({
        name: t.name,
        type: {
          tensorType: {
            elemType: t.dataType,
            shape: { dim: t.dims.map((d) => ({ dimValue: d })) },
          },
        },
      })
      this.graph.input = [...(this.graph.input ?? []), input]
    }
    return t.name
  }

  /** A cache of int64 constants named from `base`: one initializer per distinct value list. */
  constants(base: string): (values: readonly number[]) => string {
    const made = new Map<string, string>()
    return (values) => {
      const key = values.join()
      let name = made.get(key)
      if (name === undefined) made.set(key, (name = this.int64(base, values)))
      return name
    }
  }

  /** Adds a 1-D int64 initializer named from `base`; returns its name. */
  int64(base: string, values: readonly number[]): string {
    return this.addInitializer(int64Tensor(base, values))
  }

  /** Adds a float32 initializer named from `base`; returns its name. */
  float32(base: string, dims: readonly number[], data: Float32Array): string {
    return this.addInitializer(float32Tensor(base, dims, data))
  }

  /** A node with a fresh name and one fresh output named after it; returns the output. */
  op(
    opType: string,
    base: string,
    inputs: readonly string[],
    attrs: onnx.IAttributeProto[] = [],
    output?: string,
  ): { node: onnx.NodeProto; output: string } {
    const name = this.fresh(`${base}/${opType}`)
    const out = output ?? this.fresh(`${name}_output`)
    const node = proto.NodeProto.create({
      name,
      opType,
      input: [...inputs],
      output: [out],
      attribute: attrs,
    })
    return { node, output: out }
  }

  /** Replaces the node at `index` by `nodes` (which must read only values defined before it). */
  replace(index: number, nodes: readonly onnx.INodeProto[]): void {
    const all = this.graph.node ?? []
    this.graph.node = [...all.slice(0, index), ...nodes, ...all.slice(index + 1)]
  }

  /** Drops the given initializers where no node, subgraph or graph output reads them any more. */
  dropUnused(candidates: Iterable<string>): void {
    const used = new Set<string>()
    const collect = (g: onnx.IGraphProto): void => {
      for (const n of g.node ?? []) {
        for (const x of n.input ?? []) used.add(x)
        for (const s of subgraphs(n)) collect(s)
      }
      for (const o of g.output ?? []) used.add(o.name ?? '')
    }
    collect(this.graph)
    const drop = new Set([...candidates].filter((c) => !used.has(c) && this.inits.has(c)))
    if (drop.size === 0) return
    this.graph.initializer = (this.graph.initializer ?? []).filter((t) => !drop.has(t.name ?? ''))
    this.graph.input = (this.graph.input ?? []).filter((i) => !drop.has(i.name ?? ''))
    for (const d of drop) this.inits.delete(d)
  }
}

/** One graph input or output as declared in the model. */
export interface GraphValue {
  readonly name: string
  /** `'float32'`, `'float16'`, … (onnxruntime's names); `'sequence'` etc. for non-tensors. */
  readonly elemType: 'float32' | 'float16' | string
  /**
   * Dims: a number when fixed, the `dim_param` name or `null` when dynamic. Empty when the
   * graph declares no shape (or for a scalar).
   */
  readonly shape: (number | string | null)[]
}

/** Graph inputs (initializers excluded), outputs, and the default-domain opset. */
export interface GraphIO {
  readonly inputs: GraphValue[]
  readonly outputs: GraphValue[]
  readonly opset: number
}

const ELEM_TYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
}

function graphValue(v: onnx.IValueInfoProto): GraphValue {
  const name = v.name ?? ''
  const t = v.type
  if (!t?.tensorType) {
    const kind = t?.sequenceType
      ? 'sequence'
      : t?.mapType
        ? 'map'
        : t?.optionalType
          ? 'optional'
          : 'unknown'
    return { name, elemType: kind, shape: [] }
  }
  const e = t.tensorType.elemType ?? 0
  const shape = (t.tensorType.shape?.dim ?? []).map((d) =>
    d.dimValue !== null && d.dimValue !== undefined ? toNumber(d.dimValue) : d.dimParam || null,
  )
  return { name, elemType: ELEM_TYPES[e] ?? `type-${e}`, shape }
}

/**
 * The inputs a caller must feed and the outputs a graph produces, as declared in the model.
 *
 * @throws AppError `E_MODEL` as {@link decodeModel}.
 */
export function readGraphIO(modelBytes: Uint8Array): GraphIO {
  const model = decodeModel(modelBytes)
  const graph = model.graph!
  const inits = new Set((graph.initializer ?? []).map((t) => t.name))
  return {
    inputs: (graph.input ?? []).filter((i) => !inits.has(i.name)).map(graphValue),
    outputs: (graph.output ?? []).map(graphValue),
    opset: defaultOpset(model),
  }
}

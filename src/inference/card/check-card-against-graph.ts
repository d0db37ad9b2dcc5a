/**
 * Cross-checks a model card against the inputs and outputs its ONNX graph declares, before any
 * tile runs: a wrong name, channel count or patch size would otherwise surface as an opaque
 * runtime error, or worse, as a silently wrong mask (a half-resolution deep-supervision head).
 */
import { AppError } from '../../shared/errors.js'
import type { ModelCard } from '../../shared/model-card.js'

/** One graph input or output. A dim is a number when fixed, a string (symbolic) or null when dynamic. */
export type IOInfo = { name: string; elemType: string; shape: (number | string | null)[] }

/** The inputs and outputs of an ONNX graph, as the runtime reports them. */
export type GraphIO = { inputs: IOInfo[]; outputs: IOInfo[] }

const FLOAT_TYPES = ['float32', 'float16']

/** A dim the graph fixes. Non-positive numbers (-1, 0) are how some exporters spell "dynamic". */
function fixed(d: number | string | null | undefined): d is number {
  return typeof d === 'number' && Number.isInteger(d) && d > 0
}

function showShape(shape: readonly (number | string | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`
}

function names(list: readonly IOInfo[]): string {
  return list.length === 0 ? 'none' : list.map((t) => `"${t.name}"`).join(', ')
}

/** Checks one tensor `[N, C, D, H, W]` against the card, pushing sentences to `problems`. */
function checkTensor(
  role: 'input' | 'output',
  t: IOInfo,
  channels: number,
  channelsWhat: string,
  card: ModelCard,
  problems: string[],
): void {
  const what = `${role} "${t.name}"`
  if (!FLOAT_TYPES.includes(t.elemType)) {
    problems.push(
      `${what} has element type ${t.elemType}; the engine handles float32 or float16 only`,
    )
  }
  if (t.shape.length !== 5) {
    problems.push(
      `${what} has rank ${t.shape.length} (shape ${showShape(t.shape)}); the engine needs 5 dims [N, C, D, H, W]`,
    )
    return
  }
  const [n, c, ...spatial] = t.shape
  const maxBatch = card.maxBatch ?? 1
  if (fixed(n) && n < maxBatch) {
    problems.push(`${what} fixes the batch at ${n} but the card's maxBatch is ${maxBatch}`)
  }
  if (fixed(c) && c !== channels) {
    problems.push(`${what} has ${c} channels but the card says ${channelsWhat}`)
  }
  const bad = spatial.some((d, i) => fixed(d) && d !== card.patchSize[i])
  if (!bad) return
  let hint = ''
  const dims = spatial.map((d, i) => (fixed(d) ? d : card.patchSize[i]!))
  const ratios = dims.map((d, i) => card.patchSize[i]! / d)
  if (role === 'output' && ratios.every((r) => r >= 1) && ratios.some((r) => r > 1)) {
    hint =
      ' — it looks like a lower-resolution deep-supervision head; name the full-resolution output in the card'
  } else if (
    [...dims].sort((a, b) => a - b).join() === [...card.patchSize].sort((a, b) => a - b).join()
  ) {
    hint = ' — the same sizes in another order: patchSize must be in tensor order (D, H, W)'
  }
  problems.push(
    `${what} has spatial dims ${showShape(spatial)} but the card's patchSize is ${showShape([...card.patchSize])} (tensor order D, H, W)${hint}`,
  )
}

/**
 * Refuses a card whose input/output names, ranks, channel counts, element types or (fixed) patch
 * dims disagree with the graph. Dynamic dims are accepted as they are.
 *
 * @throws AppError `E_MODEL` listing every disagreement.
 */
export function checkCardAgainstGraph(card: ModelCard, io: GraphIO, file: string): void {
  const problems: string[] = []

  const input = io.inputs.find((t) => t.name === card.input.name)
  if (input === undefined) {
    problems.push(
      `the card's input "${card.input.name}" is not an input of the graph (its inputs: ${names(io.inputs)})`,
    )
  } else {
    const others = io.inputs.filter((t) => t !== input)
    if (others.length > 0) {
      problems.push(
        `the graph has other inputs the engine would not feed: ${names(others)} (it feeds only "${input.name}")`,
      )
    }
    const ch = card.input.channels
    checkTensor('input', input, ch, `input.channels = ${ch}`, card, problems)
  }

  const output = io.outputs.find((t) => t.name === card.output.name)
  if (output === undefined) {
    const ds =
      io.outputs.length > 1
        ? '; graphs exported with deep supervision have one output per resolution: name the full-resolution one'
        : ''
    problems.push(
      `the card's output "${card.output.name}" is not an output of the graph (its outputs: ${names(io.outputs)})${ds}`,
    )
  } else {
    const n = card.labels.length
    checkTensor('output', output, n, `${n} labels (one channel per label)`, card, problems)
  }

  if (problems.length > 0) {
    throw new AppError(
      'E_MODEL',
      `The model graph does not match its card: ${problems.join('; ')}.`,
      { file, details: { problems } },
    )
  }
}

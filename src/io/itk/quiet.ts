/**
 * itk-wasm prints pipeline warnings and exceptions with `console.log`/`console.error` and throws a
 * bare number (a wasm exception pointer). We capture that text so the CLI prints one clean line
 * and errors carry the decoder's own reason.
 */
export class WasmPipelineError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message)
    this.name = 'WasmPipelineError'
  }
}

/**
 * A line of decoder output that reports a failure even though the call returned: MetaIO prints
 * "Uncompress failed" and hands back a zero-filled image. ITK `WARNING:` blocks are not failures.
 */
export function decoderComplaint(text: string): string | undefined {
  const body = text.replace(/WARNING: In [^\n]*\n[^\n]*\n?/g, '')
  for (const line of body.split('\n')) {
    if (/\bfail(ed|ure)?\b|\berror\b|exception|\bcannot\b|could not/i.test(line)) return line.trim()
  }
  return undefined
}

/**
 * Runs `fn` with console output captured; on a throw, rethrows with the captured reason, and with
 * `failOnComplaint`, a call that returns after printing a failure line (see
 * {@link decoderComplaint}) throws too.
 */
export async function muteWasmStdio<T>(
  fn: () => Promise<T>,
  options: { failOnComplaint?: boolean } = {},
): Promise<T> {
  const saved = { log: console.log, error: console.error, warn: console.warn, info: console.info }
  const lines: string[] = []
  const capture = (...args: unknown[]): void => {
    lines.push(args.map(String).join(' '))
  }
  console.log = console.error = console.warn = console.info = capture
  let result: T
  try {
    result = await fn()
  } catch (e) {
    const text = lines.join('\n')
    throw new WasmPipelineError(reasonFrom(text, e), text)
  } finally {
    Object.assign(console, saved)
  }
  const text = lines.join('\n')
  const complaint = options.failOnComplaint === true ? decoderComplaint(text) : undefined
  if (complaint !== undefined) {
    throw new WasmPipelineError(`the decoder reported "${complaint}"`, text)
  }
  return result
}

/** The most informative line of ITK's stderr: an exception description or warning text. */
function reasonFrom(text: string, e: unknown): string {
  const desc = /Description:\s*(.+)/.exec(text)?.[1]
  if (desc) return desc.trim()
  const itkWarn = /\)\s*:\s*([^\n]+)/.exec(text.replace(/^.*WARNING: In [^\n]*\n/s, ''))?.[1]
  if (itkWarn) return itkWarn.trim()
  if (e instanceof Error && !/^\d+$/.test(e.message)) return e.message
  return typeof e === 'number' ? `the decoder aborted (wasm exception ${e})` : String(e)
}

/**
 * Entry of the desktop app's helper process (`utilityProcess`, see
 * `electron/main/utility-runner.ts`). It runs the unchanged job worker (`src/jobs/worker.ts`),
 * which speaks Node's fork IPC (`process.send`, `process.on('message')`): this entry maps that
 * onto `process.parentPort` before loading it. Nothing else runs here.
 */
export {}

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void
  postMessage(message: unknown): void
}

const port = (process as unknown as { parentPort?: ParentPort }).parentPort
if (port === undefined) {
  process.stderr.write('volseg host: not started as a utility process\n')
  process.exit(2)
}
// The worker's replies and events go to main; `then` runs once posted (the worker exits then).
process.send = ((message: unknown, ...rest: unknown[]): boolean => {
  port.postMessage(message)
  const then = rest.find((r) => typeof r === 'function') as (() => void) | undefined
  if (then) setImmediate(then)
  return true
}) as typeof process.send
port.on('message', (e) => {
  process.emit('message', e.data as never, undefined as never)
})
// Built next to dist/jobs/: dist/electron/host.mjs → dist/jobs/worker.js.
await import(new URL('../jobs/worker.js', import.meta.url).href)

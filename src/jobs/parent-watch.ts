/**
 * Ties a forked worker's life to its parent's. When the parent goes away (killed, crashed, or
 * exited without waiting) the worker must stop at once and publish nothing: an orphan would
 * write outputs after the command had already reported, or, blocked in a reader, live on with
 * no timeout watching it. Three layers, because a blocked event loop runs no handler:
 * - the IPC channel's 'disconnect' event ends the process (the usual case, within ms);
 * - {@link parentGone} is polled between tiles and before every file is published;
 * - on Linux and macOS a small worker thread polls the parent pid every 500 ms and SIGKILLs this
 *   process when it is gone, which works even while the main thread is stuck in wasm or in a
 *   synchronous onnxruntime call.
 */
import { Worker } from 'node:worker_threads'

let parentPid: number | undefined

/** True when the process that forked this one has gone (or the IPC channel is closed). */
export function parentGone(): boolean {
  if (parentPid === undefined) return false
  // An orphan is re-parented (to init or a subreaper), so its ppid changes.
  if (process.ppid !== parentPid || process.connected === false) return true
  try {
    process.kill(parentPid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

// The watchdog thread: plain JS (eval), so it needs no build step of its own. It kills only
// after two polls in a row see the parent gone, leaving the main thread's prompt exit (which
// removes temp files) the first chance.
const WATCHDOG = `
const { workerData } = require('node:worker_threads')
const parent = workerData.parent
let seen = 0
const gone = () => {
  if (process.ppid !== parent) return true
  try { process.kill(parent, 0); return false } catch (e) { return e.code === 'ESRCH' }
}
setInterval(() => {
  seen = gone() ? seen + 1 : 0
  if (seen >= 2) process.kill(process.pid, 'SIGKILL')
}, workerData.intervalMs)
`

/**
 * Starts watching the parent (call once, first thing in the worker). `onGone` runs on the IPC
 * 'disconnect' event; it should stop the work and exit promptly.
 */
export function watchParent(onGone: () => void, intervalMs = 500): void {
  if (parentPid !== undefined || process.send === undefined) return
  parentPid = process.ppid
  process.once('disconnect', onGone)
  if (process.platform === 'win32') return // no re-parenting; 'disconnect' still fires
  const w = new Worker(WATCHDOG, {
    eval: true,
    // Not the worker's flags: `--input-type=module` would make this CommonJS text a module.
    execArgv: [],
    workerData: { parent: parentPid, intervalMs },
    // The watchdog needs no heap to speak of; keep its isolate small.
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    stdout: false,
    stderr: false,
  })
  w.unref() // never keeps the worker alive by itself
  w.on('error', () => undefined) // a watchdog that failed to start leaves the other two layers
}

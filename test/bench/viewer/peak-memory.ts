/**
 * Peak resident memory (VmHWM, Linux /proc) of a process tree, for the benchmark's report: the
 * server and its long-lived job workers, and the browser's renderer processes.
 */
import { readFileSync, readdirSync } from 'node:fs'

interface Proc {
  readonly pid: number
  readonly ppid: number
  readonly hwmKiB: number
  readonly cmdline: string
}

function readProc(pid: number): Proc | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const field = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
    return { pid, ppid: field('PPid'), hwmKiB: field('VmHWM'), cmdline }
  } catch {
    return undefined // gone meanwhile, or not ours to read
  }
}

/** Every live process below `rootPid`, `rootPid` included. */
export function processTree(rootPid: number): Proc[] {
  const all = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== undefined)
  const inTree = new Set([rootPid])
  // Parents may be listed after their children: repeat until nothing new joins.
  for (let grew = true; grew;) {
    grew = false
    for (const p of all) {
      if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
        inTree.add(p.pid)
        grew = true
      }
    }
  }
  return all.filter((p) => inTree.has(p.pid))
}

/** Sum of the peak RSS (MiB) of the processes below `rootPid` whose command line matches. */
export function peakRssMiB(rootPid: number, match: (cmdline: string) => boolean): number {
  const kib = processTree(rootPid)
    .filter((p) => match(p.cmdline))
    .reduce((sum, p) => sum + p.hwmKiB, 0)
  return Math.round(kib / 1024)
}

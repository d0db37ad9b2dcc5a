import { CHROMIUM_ARGS, startServer } from '../e2e/harness.js'
import { launchRawPage } from './viewer/raw-cdp.js'
const server = await startServer('/tmp/probe/data', '/tmp/probe/out')
const u = new URL(server.url); u.search = '?bench'
const raw = await launchRawPage(u.href, CHROMIUM_ARGS)
await raw.waitFor(`document.body?.dataset.ready === 'true' && document.querySelector('.file-list button[data-name="synth.nii.gz"]')`, 120000)
const code = `(async () => {
  const log = []
  const P = WebSocket.prototype
  const send = P.send
  P.send = function (d) { log.push('send ' + Math.round(performance.now()) + ' ' + d.byteLength); return send.call(this, d) }
  new PerformanceObserver((l) => { for (const e of l.getEntries()) log.push('long ' + Math.round(e.startTime) + ' +' + Math.round(e.duration)) }).observe({ entryTypes: ['longtask'] })
  const { store } = window.volsegBench
  let sets = 0
  const t0 = performance.now(); log.push('t0 ' + Math.round(t0))
  await new Promise((resolve) => { const stop = store.subscribe((s) => { sets++; if (!s.volume || s.volume.info.name !== 'synth.nii.gz') return; if (!s.voxelsLoading) { log.push('loaded ' + Math.round(performance.now())); stop(); resolve() } }); document.querySelector('.file-list button[data-name="synth.nii.gz"]').click() })
  await new Promise((r) => setTimeout(r, 300))
  log.push('sets ' + sets)
  return log.join('\\n')
})()`
await raw.cdp('Profiler.enable'); await raw.cdp('Profiler.setSamplingInterval', { interval: 200 }); await raw.cdp('Profiler.start')
console.log(await raw.evaluate(code))
const prof: any = (await raw.cdp('Profiler.stop'))!.profile
const self = new Map<string, number>()
const dt = prof.timeDeltas as number[]
const byId = new Map<number, any>(prof.nodes.map((n: any) => [n.id, n]))
prof.samples.forEach((id: number, i: number) => { const n = byId.get(id); const cf = n.callFrame; const k = cf.functionName + ' ' + cf.url.split('/').pop() + ':' + cf.lineNumber; self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0) / 1000) })
console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => Math.round(v) + ' ms ' + k).join('\n'))
await raw.close(); await server.stop()

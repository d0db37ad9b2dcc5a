/**
 * The preload of the one window (sandboxed: bundled to one CommonJS file, only `electron` is
 * required). It exposes `window.volseg` from {@link buildPreloadApi} and hands the bytes port
 * that main sends once per load to the page with `window.postMessage`, so result bytes reach the
 * page as its own `ArrayBuffer`s without a `contextBridge` copy.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { APP_ORIGIN, PORT_CHANNEL, PORT_MESSAGE } from '../../src/shared/ipc-channels.js'
import { buildPreloadApi } from './api-builder.js'

const api = buildPreloadApi({
  invoke: (channel, payload) => ipcRenderer.invoke(channel, payload),
  on(channel, listener) {
    // The event object stays here: only the payload goes on.
    const wrapped = (_e: Electron.IpcRendererEvent, payload: unknown): void => listener(payload)
    ipcRenderer.on(channel, wrapped)
    return () => {
      ipcRenderer.removeListener(channel, wrapped)
    }
  },
})

contextBridge.exposeInMainWorld('volseg', api)

ipcRenderer.on(PORT_CHANNEL, (e) => {
  const port = e.ports[0]
  if (port === undefined) return
  window.postMessage({ type: PORT_MESSAGE }, APP_ORIGIN, [port])
})

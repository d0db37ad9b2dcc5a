/**
 * The one frozen table of execution providers, and what this machine can offer. Only
 * `src/inference/ort/` imports onnxruntime-node (lint-enforced).
 */
import { existsSync, readdirSync } from 'node:fs'
import { cpus, platform } from 'node:os'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import * as ort from 'onnxruntime-node'

export type ProviderId = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml'
export type ProviderChoice = ProviderId | 'auto'

export const PROVIDERS: readonly ProviderId[] = Object.freeze([
  'cpu',
  'webgpu',
  'cuda',
  'dml',
  'coreml',
])

/** `auto` tries these in order and keeps the first that builds and matches the CPU reference. */
export const AUTO_ORDER: readonly ProviderId[] = Object.freeze([
  'cuda',
  'dml',
  'coreml',
  'webgpu',
  'cpu',
])

/** Provider id → onnxruntime-node execution provider name. */
export const ORT_EP_NAME: Readonly<Record<ProviderId, string>> = Object.freeze({
  cpu: 'cpu',
  webgpu: 'webgpu',
  cuda: 'cuda',
  dml: 'dml',
  coreml: 'coreml',
})

export interface ProviderStatus {
  readonly id: ProviderId
  readonly available: boolean
  /** Why not, in words (shown to the user). */
  readonly reason?: string
}

/** Folder of onnxruntime-node's native binding (where the CUDA provider libraries go). */
function bindingDir(): string | undefined {
  try {
    const req = createRequire(import.meta.url)
    const root = dirname(req.resolve('onnxruntime-node/package.json'))
    const bin = join(root, 'bin')
    for (const napi of readdirSync(bin)) {
      const d = join(bin, napi, platform(), process.arch)
      if (existsSync(d)) return d
    }
  } catch {
    // fall through: reported as unavailable
  }
  return undefined
}

/** Which providers this installation and OS can try (building a session is the real test). */
export function providerStatus(): ProviderStatus[] {
  const listed = new Map(ort.listSupportedBackends().map((b) => [b.name, b]))
  const dir = bindingDir()
  return PROVIDERS.map((id): ProviderStatus => {
    switch (id) {
      case 'cpu':
        return { id, available: true }
      case 'webgpu':
        return listed.has('webgpu')
          ? { id, available: true }
          : { id, available: false, reason: 'this onnxruntime-node build has no WebGPU provider' }
      case 'cuda': {
        const lib =
          platform() === 'win32'
            ? 'onnxruntime_providers_cuda.dll'
            : 'libonnxruntime_providers_cuda.so'
        if (dir !== undefined && existsSync(join(dir, lib))) return { id, available: true }
        return {
          id,
          available: false,
          reason:
            'the CUDA provider is not installed (with internet access: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js; see README)',
        }
      }
      case 'dml':
        return platform() === 'win32' && listed.has('dml')
          ? { id, available: true }
          : { id, available: false, reason: 'DirectML runs on Windows only' }
      case 'coreml':
        return platform() === 'darwin' && listed.has('coreml')
          ? { id, available: true }
          : { id, available: false, reason: 'CoreML runs on macOS only' }
    }
  })
}

/** A short device description for results (the CPU model, or the provider's GPU). */
export function deviceName(id: ProviderId): string {
  if (id === 'cpu') return `${cpus()[0]?.model?.trim() ?? 'CPU'} (${cpus().length} threads)`
  return `GPU via ${id}`
}

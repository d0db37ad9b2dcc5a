// build/electron-builder.config.mjs through electron-builder's own validation (its JSON schema
// and deprecation checks, run offline), and the release settings the issue asks for. Packaging
// itself needs an Electron binary and is not run here (build/README.md).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT } from '../helpers.js'

interface Config {
  [k: string]: unknown
  electronFuses: Record<string, boolean>
  asarUnpack: string[]
  extraResources: { from: string; to: string }[]
  linux: { target: string[] }
  win: { target: string[] }
  mac: { target: string[] }
  files: string[]
}

const load = async (): Promise<Config> =>
  (
    (await import(pathToFileURL(join(ROOT, 'build', 'electron-builder.config.mjs')).href)) as {
      default: Config
    }
  ).default

type Validate = (c: unknown, logger: unknown) => Promise<void>
const validator = async (): Promise<{ validate: Validate; logger: unknown }> => {
  const cfg = (await import('app-builder-lib/out/util/config/config.js' as string)) as {
    validateConfiguration: Validate
  }
  const util = (await import('builder-util' as string)) as {
    DebugLogger: new (b: boolean) => unknown
  }
  return { validate: cfg.validateConfiguration, logger: new util.DebugLogger(false) }
}

test("electron-builder's own validation accepts the config, and refuses a broken one", async () => {
  const config = await load()
  const { validate, logger } = await validator()
  await validate(config, logger)
  await assert.rejects(validate({ ...config, notAnOption: true }, logger))
  await assert.rejects(validate({ ...config, electronFuses: { runAsNode: 'no' } }, logger))
})

test('release fuses, targets, unpacked native libraries and bundled models', async () => {
  const c = await load()
  assert.equal(c.electronFuses.runAsNode, false)
  assert.equal(c.electronFuses.enableCookieEncryption, true)
  assert.equal(c.electronFuses.enableEmbeddedAsarIntegrityValidation, true)
  assert.equal(c.electronFuses.onlyLoadAppFromAsar, true)
  assert.equal(c.electronFuses.enableNodeOptionsEnvironmentVariable, false)
  assert.equal(c.electronFuses.enableNodeCliInspectArguments, false)
  assert.equal(c.asar, true)
  assert.deepEqual(c.linux.target, ['AppImage', 'deb'])
  assert.deepEqual(c.win.target, ['nsis'])
  assert.deepEqual(c.mac.target, ['dmg'])
  assert.ok(c.asarUnpack.some((g) => g.startsWith('node_modules/onnxruntime-node/bin/')))
  assert.ok(c.asarUnpack.includes('**/*.node'))
  const models = c.extraResources.find((r) => r.to === 'models/brain-extract')
  assert.ok(models && existsSync(join(ROOT, models.from, 'model.onnx')))
  // The app's entry (package.json main) is in what the asar takes.
  const pkg = (await import(pathToFileURL(join(ROOT, 'package.json')).href, {
    with: { type: 'json' },
  })) as { default: { main: string } }
  assert.equal(pkg.default.main, 'dist/electron/main.mjs')
  assert.ok(c.files.includes('dist/**/*') && c.files.includes('renderer/dist/**/*'))
})

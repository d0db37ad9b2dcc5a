import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ESLint } from 'eslint'
import { ROOT } from '../helpers.js'

// The probe files do not exist, so lint them without type information (the layering rules need none).
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfig: {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false, project: null } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
    },
  },
})

async function messages(file: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath: join(ROOT, file) })
  return (r?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`)
}

test('layering rule refuses imports against the layer order', async () => {
  const bad: [string, string, RegExp][] = [
    [
      'src/core/x-probe.ts',
      "import { openVolume } from '../io/open-volume.js'\nexport const x = openVolume\n",
      /no-restricted-paths/,
    ],
    [
      'src/shared/x-probe.ts',
      "import { el } from '../core/geometry/affine.js'\nexport const x = el\n",
      /no-restricted-paths/,
    ],
    [
      'src/core/x-probe.ts',
      "import { readFile } from 'node:fs/promises'\nexport const x = readFile\n",
      /no-restricted-imports/,
    ],
    [
      'src/jobs/x-probe.ts',
      "import daikon from 'daikon'\nexport const x = daikon\n",
      /no-restricted-imports/,
    ],
    [
      'src/cli/x-probe.ts',
      "import { openVolume } from '../io/open-volume.js'\nexport const x = openVolume\n",
      /no-restricted-paths/,
    ],
  ]
  for (const [file, code, rule] of bad) {
    const m = await messages(file, code)
    assert.ok(
      m.some((x) => rule.test(x)),
      `${file} should be refused: ${m.join('; ')}`,
    )
  }
})

test('layering rule allows the intended direction', async () => {
  const m = await messages(
    'src/io/x-probe.ts',
    "import { el } from '../core/geometry/affine.js'\nexport const x = el\n",
  )
  assert.deepEqual(
    m.filter((x) => /restricted/.test(x)),
    [],
  )
})

// The layering rules around the desktop shell, with the real config: the renderer imports neither
// Electron nor Node, src/ never imports Electron, the sandboxed preload requires nothing but
// electron and nothing of main.
test('renderer, src and preload are kept off Electron and Node', async () => {
  const bad: [string, string][] = [
    [
      'renderer/src/x-probe.ts',
      "import { ipcRenderer } from 'electron'\nexport const x = ipcRenderer\n",
    ],
    [
      'renderer/src/x-probe.ts',
      "import { readFile } from 'node:fs/promises'\nexport const x = readFile\n",
    ],
    ['renderer/src/x-probe.ts', "import { join } from 'path'\nexport const x = join\n"],
    [
      'renderer/src/x-probe.ts',
      "import { GrantTable } from '../../electron/main/grants.js'\nexport const x = GrantTable\n",
    ],
    ['src/service/x-probe.ts', "import { app } from 'electron'\nexport const x = app\n"],
    ['src/serve/x-probe.ts', "import { app } from 'electron'\nexport const x = app\n"],
    ['src/io/x-probe.ts', "import { app } from 'electron'\nexport const x = app\n"],
    ['src/jobs/x-probe.ts', "import { app } from 'electron'\nexport const x = app\n"],
    ['src/shared/x-probe.ts', "import { app } from 'electron'\nexport const x = app\n"],
    [
      'src/service/x-probe.ts',
      "import { GrantTable } from '../../electron/main/grants.js'\nexport const x = GrantTable\n",
    ],
    [
      'electron/preload/x-probe.ts',
      "import { readFile } from 'node:fs'\nexport const x = readFile\n",
    ],
    [
      'electron/preload/x-probe.ts',
      "import { GrantTable } from '../main/grants.js'\nexport const x = GrantTable\n",
    ],
    [
      'electron/main/x-probe.ts',
      "import { openVolume } from '../../src/io/open-volume.js'\nexport const x = openVolume\n",
    ],
    [
      'electron/main/x-probe.ts',
      "import { el } from '../../renderer/src/panels/dom.js'\nexport const x = el\n",
    ],
  ]
  for (const [file, code] of bad) {
    const m = await messages(file, code)
    assert.ok(
      m.some((x) => /no-restricted-(imports|paths)/.test(x)),
      `${file} should be refused for: ${code.split('\n')[0]} (got: ${m.join('; ')})`,
    )
  }
})

test('what the layers may import stays allowed', async () => {
  const good: [string, string][] = [
    [
      'electron/main/x-probe.ts',
      "import { app } from 'electron'\nimport { readFile } from 'node:fs/promises'\nexport const x = [app, readFile]\n",
    ],
    [
      'electron/preload/x-probe.ts',
      "import { contextBridge } from 'electron'\nimport { API_METHODS } from '../../src/shared/api.js'\nexport const x = [contextBridge, API_METHODS]\n",
    ],
    [
      'renderer/src/x-probe.ts',
      "import { API_METHODS } from '../../src/shared/api.js'\nexport const x = API_METHODS\n",
    ],
  ]
  for (const [file, code] of good) {
    const m = (await messages(file, code)).filter((x) => /no-restricted/.test(x))
    assert.deepEqual(m, [], file)
  }
})

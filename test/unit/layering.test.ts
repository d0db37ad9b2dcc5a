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

// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import importX from 'eslint-plugin-import-x'
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript'

/**
 * Layering (docs/architecture.md §2), enforced here, not in review:
 * each entry: a folder and the folders it must not import from.
 */
const LAYERS = {
  'src/shared': [
    'src/core',
    'src/io',
    'src/inference',
    'src/jobs',
    'src/service',
    'src/serve',
    'src/cli',
    'electron',
    'renderer',
  ],
  'src/core': [
    'src/io',
    'src/inference',
    'src/jobs',
    'src/service',
    'src/serve',
    'src/cli',
    'electron',
    'renderer',
  ],
  'src/io': [
    'src/inference',
    'src/jobs',
    'src/service',
    'src/serve',
    'src/cli',
    'electron',
    'renderer',
  ],
  'src/inference': [
    'src/io',
    'src/jobs',
    'src/service',
    'src/serve',
    'src/cli',
    'electron',
    'renderer',
  ],
  'src/jobs': ['src/service', 'src/serve', 'src/cli', 'electron', 'renderer'],
  'src/service': [
    'src/io',
    'src/inference',
    'src/jobs',
    'src/serve',
    'src/cli',
    'electron',
    'renderer',
  ],
  'src/serve': ['src/core', 'src/io', 'src/inference', 'src/cli', 'electron', 'renderer'],
  'src/cli': ['src/core', 'src/io', 'src/inference', 'electron', 'renderer'],
  renderer: [
    'src/io',
    'src/inference',
    'src/jobs',
    'src/service',
    'src/serve',
    'src/cli',
    'electron',
  ],
  electron: ['src/io', 'src/inference', 'src/core', 'renderer'],
  // The preload is bundled alone into a sandbox: shared code only, nothing of main or host.
  'electron/preload': ['electron/main', 'electron/host', 'src/service', 'src/serve', 'src/jobs'],
}

/** Runtime-neutral layers: no Node built-ins and no decoder/runtime packages. */
const PURE_BANNED = [
  'node:*',
  'fs',
  'fs/*',
  'path',
  'os',
  'zlib',
  'child_process',
  'electron',
  'itk-wasm',
  '@itk-wasm/*',
  'daikon',
  'onnxruntime-node',
  'onnxruntime-*',
]

/** `src/` never imports Electron: the core runs the same under serve, the CLI and the app. */
const ELECTRON_BANNED = {
  group: ['electron', 'electron/*'],
  message: 'src/ must not import electron (only electron/ does; see GUIDE §1.3)',
}

/** Node built-ins by their bare names (the `node:` forms are banned by pattern). */
const NODE_BUILTINS = [
  'fs',
  'fs/*',
  'path',
  'os',
  'zlib',
  'child_process',
  'crypto',
  'http',
  'https',
  'net',
  'stream',
  'url',
  'util',
  'worker_threads',
  'module',
]

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'test/fixtures/**',
      '.device/**',
      'test-artifacts/**',
      'renderer/dist/**',
      'test/e2e/artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // renderer/vite.config.ts runs in Node, outside renderer/tsconfig.json (DOM only)
        projectService: { allowDefaultProject: ['renderer/vite.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    // Resolves the `.js` specifiers of our TypeScript sources, so path zones can be checked.
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      curly: ['error', 'multi-line'],
      'max-lines': ['error', { max: 600, skipBlankLines: true, skipComments: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: Object.entries(LAYERS).map(([target, from]) => ({
            target: `./${target}`,
            from: from.map((f) => `./${f}`),
            message: `layering: ${target} must not import from this folder (see docs/architecture.md §2)`,
          })),
        },
      ],
    },
  },
  {
    files: ['src/shared/**/*.ts', 'src/core/**/*.ts', 'src/inference/**/*.ts'],
    ignores: ['src/inference/ort/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: PURE_BANNED,
              message:
                'src/shared, src/core and src/inference are pure: no Node built-ins or runtime packages',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/io/**', 'src/inference/**', 'src/shared/**', 'src/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['itk-wasm', '@itk-wasm/*', 'daikon', 'onnxruntime-node'],
              message: 'only src/io decodes images and only src/inference/ort loads onnxruntime',
            },
            ELECTRON_BANNED,
          ],
        },
      ],
    },
  },
  {
    // The layers the two rules above leave out: they must not import Electron either.
    files: ['src/io/**/*.ts', 'src/inference/ort/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ELECTRON_BANNED] }] },
  },
  {
    // The viewer runs in a sandboxed page (or a browser tab): no Node, no Electron, ever.
    files: ['renderer/**/*.ts'],
    ignores: ['renderer/vite.config.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['electron', 'electron/*', 'node:*', ...NODE_BUILTINS],
              message: 'renderer runs in a sandboxed page: no Node built-ins and no Electron',
            },
          ],
        },
      ],
    },
  },
  {
    // The sandboxed preload may require only `electron` (contextBridge, ipcRenderer).
    files: ['electron/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', ...NODE_BUILTINS],
              message: 'a sandboxed preload can require nothing but electron',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
      },
    },
  },
)

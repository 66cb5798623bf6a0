import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import prettier from 'eslint-config-prettier'
import globals from 'globals'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  { languageOptions: { globals: globals.node } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The pure core: sources -> spec -> pyvalues -> tag -> plan -> dockerfile. It reads the workspace's files and
    // nothing else: no inputs, no processes, no network, no SDK, and none of the modules at the edges.
    files: ['src/{sources,spec,pyvalues,tag,plan,dockerfile}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@actions/*', '@aws-sdk/*', 'google-auth-library', 'p-limit'],
              message: 'The pure core never reaches the edges: take the value as a parameter instead.',
            },
            {
              group: [
                'node:child_process',
                'child_process',
                'node:http',
                'node:https',
                'node:net',
                'node:dns',
              ],
              message:
                'The pure core starts no process and opens no connection: do it at the edge (src/exec.ts).',
            },
            {
              group: [
                '**/exec.js',
                '**/docker/*',
                '**/registry/*',
                '**/connections/*',
                '**/cloud/**',
                '**/build/*',
                '**/report/*',
                '**/preview/*',
                '**/main.js',
                '**/inputs.js',
                '**/actions-logger.js',
                '**/github.js',
                '**/state.js',
              ],
              message: 'The pure core imports no module at the edges; the edges import the core.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'fetch', message: 'The pure core opens no connection.' }],
    },
  },
  {
    files: ['scripts/**', 'bench/**', '__tests__/**'],
    rules: { 'no-console': 'off' },
  },
)

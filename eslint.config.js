import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that perform I/O. The core is pure: ARCHITECTURE.md, "No I/O in the core". */
const ioModules = [
  'node:*', 'fs', 'fs/*', 'net', 'http', 'https', 'child_process', 'worker_threads', 'os', 'path',
  'better-sqlite3', 'pg', 'nats', '@nats-io/*', '@eventstore/*', '@sagaflow/store-*',
  '@sagaflow/engine', '@sagaflow/nats', '@sagaflow/worker', '@sagaflow/cli',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/dist-test/**', '**/.ui-types/**', '**/node_modules/**', 'coverage/**', '.sagaflow/**', 'packages/cli/templates/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['packages/core/**/*.ts'],
    ignores: ['packages/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ioModules, message: 'packages/core is pure: no I/O modules (ARCHITECTURE.md, "No I/O in the core").' }],
      }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'packages/core is pure: time is an input (the `now` argument).' },
        { object: 'Math', property: 'random', message: 'packages/core is deterministic: derive jitter from the decision (see retry-policy.ts).' },
      ],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'packages/core is pure: no process access.' },
        { name: 'fetch', message: 'packages/core is pure: no network access.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);

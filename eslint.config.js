// Lint: typescript-eslint's recommended rules, plus the determinism boundary: workflow files may import only
// @temporalio/workflow, pure modules of definitions/, and (as types) activities/types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.venv/**', '.cairn/**', 'test/fixtures/forbidden-workflow/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https', 'stream', 'worker_threads'], message: 'Workflow code is deterministic: no Node built-ins (do the I/O in an activity).' },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing', '@temporalio/common', '@temporalio/proto'], message: 'Workflow code may import only @temporalio/workflow from the SDK.' },
            { group: ['../activities/*', '!../activities/types'], message: 'Workflows import activity TYPES only (activities/types.ts).' },
            { group: ['../workers/*', '../client/*', '../cli/*', '../ui/*'], message: 'Workflows may not import composition roots, clients or the CLI.' },
            { group: ['@duckdb/*', 'libsql', 'pg', 'snowflake-sdk', '@google-cloud/*'], message: 'Drivers belong in activities.' },
          ],
        },
      ],
    },
  },
  {
    files: ['definitions/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process'], message: 'definitions/ is pure: no Node built-ins, no I/O.' },
            { group: ['@temporalio/*'], message: 'definitions/ is pure: no Temporal.' },
            { group: ['../activities/*', '../workers/*', '../workflows/*', '../client/*', '../cli/*'], message: 'definitions/ imports nothing outside itself.' },
          ],
        },
      ],
    },
  },
);

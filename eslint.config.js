import js from '@eslint/js'
import reactHooks from 'eslint-plugin-react-hooks'
import globals from 'globals'
import tseslint from 'typescript-eslint'
import areas from './scripts/eslint/area-boundaries.js'

export default tseslint.config(
  { ignores: ['build/', '.react-router/', 'node_modules', 'node_modules/', '.data/', 'playwright-report/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // Shared code never imports an area: areas import shared code (ARCHITECTURE.md). An area plugs in by
    // registering (jobs: app/jobs/registry.server.ts, maintenance: onMaintenance), not by being imported.
    files: ['app/http/**', 'app/db/**', 'app/jobs/**', 'app/storage/**', 'app/components/**'],
    ignores: [
      // The composition root: one import line per area's jobs.server.ts, so the worker knows every job.
      'app/jobs/registry.server.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^#app/|/|^)features/',
              message: 'Shared code (app/http, app/db, app/jobs, app/storage, app/components) must not import an area: let the area register itself, or move what is shared out of the area.',
            },
          ],
        },
      ],
    },
  },
  {
    // The API wrapper authenticates every request: identity (app/features/auth) is the one area the HTTP layer
    // may use, through its public module (caller, session, CSRF).
    files: ['app/http/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^#app/|/|^)features/(?!auth/auth\\.server\\.ts$)',
              message: 'app/http may use only the auth area, through auth.server.ts; other areas register with shared code instead of being imported by it.',
            },
          ],
        },
      ],
    },
  },
  {
    // An area is imported only through its public modules: <area>.server.ts, schemas.ts and its other top-level plain
    // modules (docs/decisions/010-area-rooms.md). Tests and benchmarks may reach into an area's rooms.
    files: ['app/**/*.{ts,tsx}', 'server/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test.tsx'],
    plugins: { areas },
    // ops: its public module is the next step of issue 17 item 6.
    rules: { 'areas/public-only': ['error', { pending: ['ops'] }] },
  },
  {
    // Playwright fixtures use `use()` and empty destructuring by design.
    files: ['tests/e2e/**'],
    rules: { 'react-hooks/rules-of-hooks': 'off', 'no-empty-pattern': 'off' },
  },
)

import path from 'node:path'
import { defineConfig } from 'vitest/config'

// Separate from vite.config.ts: the React Router plugin is for the app build, not for tests.
export default defineConfig({
  resolve: { alias: [{ find: /^#app\/(.*)$/, replacement: path.resolve(import.meta.dirname, 'app/$1') }, { find: /^#tests\/(.*)$/, replacement: path.resolve(import.meta.dirname, 'tests/$1') }] },
  test: {
    include: ['app/**/*.test.{ts,tsx}', 'tests/integration/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['tests/setup.ts'],
    globalSetup: ['tests/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    env: { NODE_ENV: 'test', LOG_REQUESTS: 'false' },
  },
})

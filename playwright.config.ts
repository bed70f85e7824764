import { defineConfig } from '@playwright/test'
import { chromiumPath } from './tests/e2e/chromium.ts'

const PORT = Number(process.env.E2E_PORT ?? 3210)
// One fresh embedded database per run, removed before the server starts (first boot migrates and seeds it).
const dataDir = process.env.E2E_DATA_DIR ?? '.data/e2e'

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromiumPath() ?? undefined,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    // The production build on a fresh embedded database: first boot migrates and seeds the demo data. Production
    // refuses local state (app/env.server.ts); the suite says explicitly that this one machine's is what it wants.
    command: `rm -rf ${dataDir} && npm start`,
    url: `http://localhost:${PORT}/healthz`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: { PORT: String(PORT), DATA_DIR: dataDir, LOG_REQUESTS: 'false', NODE_ENV: 'production', SIMULATE_ACTIVITY: 'false', ALLOW_LOCAL_STATE_IN_PRODUCTION: 'true' },
  },
})

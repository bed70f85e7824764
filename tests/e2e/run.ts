import { spawnSync } from 'node:child_process'
import { chromiumPath } from './chromium.ts'

/** Runs the Playwright suite against the production build; skips with a printed reason only when no Chromium exists. */
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'inherit', env: process.env })
// The production build always runs (it is what the e2e suite serves, and it catches route-module mistakes).
const build = run('npm', ['run', 'build'])
if (build.status !== 0) process.exit(build.status ?? 1)
const chromium = chromiumPath()
if (!chromium) {
  console.log('e2e: SKIPPED — no Chromium found (install Debian `chromium` or set CHROMIUM_PATH).')
  process.exit(0)
}
console.log(`e2e: using ${chromium}`)
const test = run('npx', ['playwright', 'test', ...process.argv.slice(2)])
process.exit(test.status ?? 1)

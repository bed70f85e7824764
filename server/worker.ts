/**
 * `npm run worker`: a process that only runs background jobs (Fly process group `worker`). It opens the
 * database (migrating it like the web process would), starts pg-boss with every registered job and schedule,
 * and on SIGTERM/SIGINT lets running jobs finish before closing.
 */
import { lockHolder } from '../app/db/data-dir-lock.server.ts'
import { closeDb, embeddedDataDir, getDb } from '../app/db/index.server.ts'
import { getEnv } from '../app/env.server.ts'
import { definedJobs } from '../app/jobs/jobs.server.ts'
import { startJobs, stopJobs } from '../app/jobs/registry.server.ts'

const started = Date.now()
const env = getEnv()
if (!env.DATABASE_URL) {
  // PGlite is one process's database: the web process runs the jobs itself, and a second process must not open its files.
  const holder = lockHolder(embeddedDataDir(env))
  console.error(
    '[worker] needs DATABASE_URL. On the embedded database (no DATABASE_URL) `npm run dev` / `npm start` run the jobs in-process' +
      (holder ? ` (as "${holder.command}", pid ${holder.pid}, does now).` : '.'),
  )
  process.exit(1)
}
const db = await getDb()
await startJobs()
const { jobs, schedules } = definedJobs()
console.log(
  `[worker] ${db.engine} ready in ${Date.now() - started} ms: ${jobs.length} job(s) ${jobs.join(', ') || '-'}; ` +
    `${schedules.length} schedule(s) ${schedules.map((s) => `${s.name} (${s.cron})`).join(', ') || '-'}`,
)

// Running jobs get this long to finish after SIGTERM (Fly's kill_timeout for the worker group must be longer).
const SHUTDOWN_GRACE_MS = env.NODE_ENV === 'production' ? 20_000 : 5_000
let stopping = false
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, async () => {
    if (stopping) return
    stopping = true
    console.log(`[worker] ${sig}: letting running jobs finish (up to ${SHUTDOWN_GRACE_MS / 1000} s)`)
    try {
      await stopJobs({ timeoutMs: SHUTDOWN_GRACE_MS })
      await closeDb()
    } finally {
      process.exit(0)
    }
  })
}

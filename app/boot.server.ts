import { getDb } from '#app/db/index.server.ts'
import { demoLogins, seedDemo } from '#app/demo/seed.server.ts'
import { getEnv } from '#app/env.server.ts'
import { initAuthProvider } from '#app/features/auth/auth.server.ts'

/**
 * Everything a process does once before serving: open + migrate the database, seed demo data on the
 * embedded default's first boot, start the in-process job worker. Returns what to print.
 */
export async function bootApp(opts: { worker?: boolean } = {}) {
  const env = getEnv()
  const started = Date.now()
  await initAuthProvider()
  const db = await getDb()
  const wantSeed = env.SEED_DEMO_DATA ? env.SEED_DEMO_DATA === 'true' : db.engine === 'pglite'
  const seeded = wantSeed ? await seedDemo(db, { log: (m) => console.log(`[seed] ${m}`) }) : false
  const runWorker = opts.worker ?? (env.RUN_WORKER ? env.RUN_WORKER === 'true' : db.engine === 'pglite' || env.NODE_ENV !== 'production')
  if (runWorker) {
    // The job registry imports every feature's job definitions, then starts the pg-boss worker.
    const { startJobs } = await import('#app/jobs/registry.server.ts')
    await startJobs()
    // The demo churn model is trained by a job (pg-boss runs only now): queued on the boot that seeded.
    if (seeded) {
      const { queueDemoModels } = await import('#app/demo/models.server.ts')
      // A demo model that cannot be queued must not stop the app from serving.
      await queueDemoModels(db, (m) => console.log(`[seed] ${m}`)).catch((e) => console.error('[seed] the demo churn model was not queued:', e))
    }
  }
  if (env.NODE_ENV === 'development' && env.SIMULATE_ACTIVITY !== 'false') {
    const { startSimulator } = await import('#app/demo/simulate.server.ts')
    startSimulator(db)
  }
  return { db, seeded, bootMs: Date.now() - started, logins: wantSeed ? demoLogins() : [] }
}

import { describe, expect, it } from 'vitest'
import { openPostgres } from '#app/db/db.server.ts'
import { driverExecutor } from '#app/jobs/boss.server.ts'

/*
  pg-boss's first act on a fresh Postgres pool is a multi-statement script on a reserved connection. postgres.js's
  reserve() never settled on a cold pool (fetch_types off: porsager/postgres#751), so `npm run worker` in production —
  which opens the pool without migrating first — hung before its first job. On the server database only.
*/

const url = process.env.TEST_DATABASE_URL
if (!url) console.log('[skipped] jobs-cold-pool: needs TEST_DATABASE_URL (a Postgres server; PGlite has no pool)')

describe.skipIf(!url)('pg-boss on a cold Postgres pool', () => {
  it('runs its first script without a query before it', async () => {
    const db = openPostgres(url!, { max: 2 })
    try {
      const run = driverExecutor(db).executeSql('select 1 as a; select 2 as b', [])
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the first script did not settle in 5 s')), 5000))
      expect(await Promise.race([run, timeout])).toEqual({ rows: [{ b: 2 }] })
    } finally {
      await db.close()
    }
  })
})

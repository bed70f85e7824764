/**
 * npm run db:migrate | db:reset | db:seed | db:service-token
 * Works on the database the app would use: DATABASE_URL, or the embedded PGlite under DATA_DIR.
 */
import { getDb, closeDb } from '../app/db/index.server.ts'
import { openPglite, openPostgres } from '../app/db/db.server.ts'
import { migrate, resetSchema } from '../app/db/migrate.server.ts'
import { demoLogins, seedDemo } from '../app/demo/seed.server.ts'
import { getEnv } from '../app/env.server.ts'
import { signAccessToken } from '../app/features/auth/tokens.server.ts'
import path from 'node:path'

const command = process.argv[2]
const env = getEnv()
const log = (m: string) => console.log(m)

async function open() {
  return env.DATABASE_URL ? openPostgres(env.DATABASE_URL, { max: 2 }) : openPglite(path.resolve(env.DATA_DIR, 'pglite'))
}

switch (command) {
  case 'migrate': {
    const db = await open()
    const applied = await migrate(db, { log })
    // The job queue's own schema (pg-boss) too, so web processes can enqueue before a worker ever started.
    const { migrateJobSchema } = await import('../app/jobs/boss.server.ts')
    await migrateJobSchema(db)
    console.log(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date')
    await db.close()
    break
  }
  case 'reset': {
    const db = await open()
    await resetSchema(db)
    await migrate(db, { log })
    await seedDemo(db, { log })
    console.log('database reset, migrated and seeded')
    await db.close()
    break
  }
  case 'seed': {
    const db = await getDb()
    const seeded = await seedDemo(db, { log })
    console.log(seeded ? 'demo data seeded' : 'demo data already present')
    for (const l of demoLogins()) console.log(`  ${l.username} / ${l.password} (${l.role}, ${l.tenant})`)
    await closeDb()
    break
  }
  case 'service-token': {
    // A service_role token for trusted servers (exports, callbacks). Pass the tenant with X-Tenant-Id or as argv[3].
    const tenant = process.argv[3]
    const { token } = await signAccessToken(
      { sub: '00000000-0000-0000-0000-000000000000', role: 'service_role', app_metadata: tenant ? { tenant_id: tenant } : {} },
      Number(process.argv[4] ?? 3600),
    )
    console.log(token)
    break
  }
  default:
    console.error('usage: tsx scripts/db.ts migrate|reset|seed|service-token [tenant_id] [ttl_seconds]')
    process.exit(2)
}
process.exit(0)

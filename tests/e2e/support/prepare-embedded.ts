/**
 * Gives DATA_DIR a migrated embedded database with the demo tenants' logins and none of their data (seconds,
 * where the full demo seed takes a minute): the starting point of the process tests in embedded-db.spec.ts.
 */
import { openConfiguredDb } from '../../../app/db/index.server.ts'
import { seedDemo } from '../../../app/demo/seed.server.ts'

const db = await openConfiguredDb({ migrate: true })
await seedDemo(db, { seeders: [] })
await db.close()
process.exit(0)

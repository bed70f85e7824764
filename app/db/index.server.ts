import path from 'node:path'
import { getEnv } from '#app/env.server.ts'
import { openPglite, openPostgres, type Db } from './db.server.ts'
import { migrate } from './migrate.server.ts'

type Boot = { db: Promise<Db> }
// One database per process: a globalThis singleton survives Vite's module reloads (PGlite allows one instance per data dir).
const g = globalThis as { __hotdashDb?: Boot }

export function getDb(): Promise<Db> {
  g.__hotdashDb ??= { db: boot() }
  return g.__hotdashDb.db
}

/** Uses an already-open database (tests open their own). */
export function installDb(db: Db) {
  g.__hotdashDb = { db: Promise.resolve(db) }
}

export async function closeDb() {
  const b = g.__hotdashDb
  g.__hotdashDb = undefined
  if (b) await (await b.db).close()
}

async function boot(): Promise<Db> {
  const env = getEnv()
  const log = (m: string) => {
    if (env.NODE_ENV !== 'test') console.log(`[db] ${m}`)
  }
  const db = env.DATABASE_URL
    ? openPostgres(env.DATABASE_URL, { max: env.DATABASE_POOL_MAX })
    : await openPglite(path.resolve(env.DATA_DIR, 'pglite'))
  log(env.DATABASE_URL ? 'using Postgres from DATABASE_URL' : `using embedded PGlite in ${path.resolve(env.DATA_DIR, 'pglite')}`)
  // The embedded database migrates itself; a server database is migrated by `npm run db:migrate` (Fly release_command).
  if (db.engine === 'pglite' || env.NODE_ENV !== 'production') {
    const applied = await migrate(db, { log })
    if (applied.length) log(`applied ${applied.length} migration(s)`)
  }
  return db
}

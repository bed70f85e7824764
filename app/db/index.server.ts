import path from 'node:path'
import { getEnv, type Env } from '#app/env.server.ts'
import { DataDirLockedError } from './data-dir-lock.server.ts'
import { DataDirDamagedError, isWasmFailure, openPglite, openPostgres, type Db } from './db.server.ts'
import { migrate } from './migrate.server.ts'

type Boot = { db: Promise<Db> }
// One database per process: on globalThis it survives Vite re-running this module after an edit in dev (PGlite allows one
// instance per data dir; decision 005).
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

/** Where the embedded database lives: `${DATA_DIR}/pglite`. */
export const embeddedDataDir = (env: Env = getEnv()) => path.resolve(env.DATA_DIR, 'pglite')

/**
 * The database this process is configured for: DATABASE_URL, else the embedded one (locked to this process).
 * `migrate`: apply pending migrations, as the app does on boot.
 */
export async function openConfiguredDb(opts: { migrate: boolean; poolMax?: number; log?: (msg: string) => void }): Promise<Db> {
  const env = getEnv()
  const log = opts.log ?? (() => {})
  if (env.DATABASE_URL) {
    const db = openPostgres(env.DATABASE_URL, { max: opts.poolMax ?? env.DATABASE_POOL_MAX })
    if (opts.migrate) await migrateLogged(db, log)
    return db
  }
  const dir = embeddedDataDir(env)
  const db = await openPglite(dir, { log })
  try {
    if (opts.migrate) await migrateLogged(db, log)
  } catch (e) {
    await db.close().catch(() => {})
    throw isWasmFailure(e) ? new DataDirDamagedError(dir, e) : e
  }
  return db
}

async function migrateLogged(db: Db, log: (msg: string) => void) {
  const applied = await migrate(db, { log })
  if (applied.length) log(`applied ${applied.length} migration(s)`)
}

/** The embedded database is locked by another process, or cannot be read: nothing this process can do but say so. */
export const isStartupError = (e: unknown): e is DataDirLockedError | DataDirDamagedError =>
  e instanceof DataDirLockedError || e instanceof DataDirDamagedError

/** Prints a startup error as one line (plus what this command could do instead) and exits non-zero. */
export function exitOnStartupError(e: DataDirLockedError | DataDirDamagedError, hint?: string): never {
  console.error(`[db] ${e.message}${hint ? ` ${hint}` : ''}`)
  process.exit(1)
}

async function boot(): Promise<Db> {
  const env = getEnv()
  const log = (m: string) => {
    if (env.NODE_ENV !== 'test') console.log(`[db] ${m}`)
  }
  log(env.DATABASE_URL ? 'using Postgres from DATABASE_URL' : `using embedded PGlite in ${embeddedDataDir(env)}`)
  try {
    // The embedded database migrates itself; a server database is migrated by `npm run db:migrate` (Fly release_command).
    return await openConfiguredDb({ migrate: !env.DATABASE_URL || env.NODE_ENV !== 'production', log })
  } catch (e) {
    if (isStartupError(e) && env.NODE_ENV !== 'test') exitOnStartupError(e)
    throw e
  }
}

import crypto from 'node:crypto'
import fs from 'node:fs'
import { inject } from 'vitest'
import { openPglite, openPostgres, type Db } from '#app/db/db.server.ts'
import { withDatabase } from '../global-setup.ts'

export interface TestDatabase {
  db: Db
  engine: 'pglite' | 'postgres'
  url?: string
  close(): Promise<void>
}

/**
 * A migrated database of its own for one test file: PGlite loaded from the run's migrated dump, or — when
 * TEST_DATABASE_URL is set — a clone of the run's template database on that Postgres. `timeZone` sets the session
 * TimeZone of every connection (as a customer's Postgres might have it), instead of the server's default.
 */
export async function createTestDatabase(opts: { timeZone?: string } = {}): Promise<TestDatabase> {
  if (opts.timeZone && !/^[A-Za-z_]+(\/[A-Za-z_+-]+)*$/.test(opts.timeZone)) throw new Error(`not a time zone name: ${opts.timeZone}`)
  const template = inject('pgTemplate')
  const base = process.env.TEST_DATABASE_URL
  if (base && template) {
    const name = `hd_t_${process.pid}_${crypto.randomBytes(4).toString('hex')}`
    const admin = openPostgres(base, { max: 1 })
    await admin.exec(`create database ${name} template ${template}`)
    if (opts.timeZone) await admin.exec(`alter database ${name} set timezone = '${opts.timeZone}'`)
    await admin.close()
    const url = withDatabase(base, name)
    const db = openPostgres(url, { max: 5 })
    return {
      db,
      engine: 'postgres',
      url,
      async close() {
        await db.close()
        const a = openPostgres(base, { max: 1 })
        await a.exec(`drop database if exists ${name} with (force)`)
        await a.close()
      },
    }
  }
  const dump = fs.readFileSync(inject('pgliteDump'))
  const db = await openPglite(undefined, { loadDataDir: new Blob([dump]) })
  if (opts.timeZone) await db.exec(`set timezone = '${opts.timeZone}'`)
  return { db, engine: 'pglite', close: () => db.close() }
}

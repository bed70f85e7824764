import type { Db } from '#app/db/db.server.ts'
import { logError } from '#app/http/log.server.ts'
import { ident, limitIdle, serverLoadTx, type LoadTx } from './load-tx.server.ts'

/**
 * A second transaction, on its own connection, for a new dataset's bronze table: Postgres loads bronze on one
 * backend while the upload's transaction loads silver on another (a COPY occupies its connection, so on one
 * connection the two loads run one after the other). Postgres only: PGlite has a single connection.
 *
 * Atomicity: the side transaction lists its table in public.datalake_staging and commits just before the upload's
 * transaction, which deletes that row as its last statement. So the upload's commit makes the dataset, its
 * registry rows and the bronze table visible at once. If the upload fails after the side commit, `discard` drops the
 * table; if the process dies in between, the maintenance job drops tables staged for over an hour. Either drops a
 * table only after deleting its staging row itself: a table whose row the upload deleted (it committed) stays.
 */
export interface SideLoad {
  tx: LoadTx
  /** Stages `schema.table` (created by the caller on `tx`); dropped unless `unstage` runs on the upload's transaction. */
  stage(schema: string, table: string): Promise<void>
  /** Commits the side transaction, then removes the staging rows on the upload's transaction (`main`). */
  commitBefore(main: LoadTx): Promise<void>
  /** After a failure: rolls the side transaction back, or drops what it committed. Never throws. */
  discard(): Promise<void>
}

class Rollback extends Error {}

export async function openSideLoad(db: Db): Promise<SideLoad | null> {
  if (db.engine !== 'postgres') return null
  let release!: (commit: boolean) => void
  const gate = new Promise<boolean>((resolve) => (release = resolve))
  let opened!: (tx: LoadTx) => void
  const ready = new Promise<LoadTx>((resolve) => (opened = resolve))
  const done = db.transaction(async (sql) => {
    await limitIdle(db, sql)
    opened(serverLoadTx(sql))
    if (!(await gate)) throw new Rollback('side load discarded')
  })
  done.catch(() => {})
  const tx = await Promise.race([ready, done.then(() => Promise.reject(new Error('side transaction ended early')))])
  const staged: [string, string][] = []
  let committed = false
  return {
    tx,
    async stage(schema, table) {
      await tx.query(`insert into public.datalake_staging (schema_name, table_name) values ($1, $2)`, [schema, table])
      staged.push([schema, table])
    },
    async commitBefore(main) {
      // Stamped at commit: maintenance gives an upload an hour from here, however long its load took.
      for (const [schema, table] of staged) {
        await tx.query(`update public.datalake_staging set created_at = clock_timestamp() where schema_name = $1 and table_name = $2`, [schema, table])
      }
      release(true)
      await done
      committed = true
      for (const [schema, table] of staged) {
        const { rows } = await main.query(`delete from public.datalake_staging where schema_name = $1 and table_name = $2 returning 1`, [schema, table])
        // Gone means maintenance took it for dead (over an hour after the side commit) and dropped the table: fail.
        if (!rows.length) throw new Error(`staged table ${schema}.${table} was dropped before the upload committed`)
      }
    },
    async discard() {
      if (!committed) {
        release(false)
        await done.catch(() => {})
        return
      }
      await dropStaged(db, staged).catch((e) => logError(e, { staged }))
    },
  }
}

/**
 * Drops staged tables whose staging row still exists. The row goes first: if the upload's transaction deleted it
 * (committed, or about to: the delete waits for its lock), the table is the dataset's and stays.
 */
async function dropStaged(db: Db, tables: [string, string][]): Promise<number> {
  let dropped = 0
  for (const [schema, table] of tables) {
    await db.transaction(async (sql) => {
      const { rows } = await sql.query(`delete from public.datalake_staging where schema_name = $1 and table_name = $2 returning 1`, [schema, table])
      if (!rows.length) return
      await sql.exec(`drop table if exists ${ident(schema)}.${ident(table)}`)
      dropped++
    })
  }
  return dropped
}

/** Drops tables staged longer than `olderThan` ago (their upload died between its two commits); returns how many. */
export async function dropStaleStaged(db: Db, olderThan = '1 hour'): Promise<number> {
  const { rows } = await db.query<{ schema_name: string; table_name: string }>(
    `select schema_name, table_name from public.datalake_staging where created_at < now() - $1::interval`,
    [olderThan],
  )
  return dropStaged(
    db,
    rows.map((r) => [r.schema_name, r.table_name]),
  )
}

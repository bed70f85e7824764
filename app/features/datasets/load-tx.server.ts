import type { PGlite, Transaction } from '@electric-sql/pglite'
import type postgres from 'postgres'
import { setCaller, type Claims, type Db, type Sql } from '#app/db/db.server.ts'

/**
 * One transaction that switches between the caller (RLS applies: metadata rows, permission checks) and the
 * server's own role (creating and bulk-loading the datalake tables, which no API role may touch). Everything
 * commits together or not at all: a failed upload leaves no dataset row and no table.
 */
export interface LoadTx extends Sql {
  asCaller(): Promise<void>
  asServer(): Promise<void>
  /** Bulk-loads COPY text (tab-separated, \N for NULL) into `table (columns)`; both already quoted. */
  copy(table: string, columns: string[], text: string): Promise<void>
}

export async function withLoadTx<T>(db: Db, claims: Claims, fn: (tx: LoadTx) => Promise<T>): Promise<T> {
  if (db.engine === 'postgres') {
    const sql = db.raw as postgres.Sql
    return (await sql.begin(async (t) => {
      const query: Sql['query'] = async (text, params) => {
        const r = await t.unsafe(text, (params ?? []) as any[])
        return { rows: r as any, rowCount: r.count ?? r.length }
      }
      const tx = makeTx(query, (s) => t.unsafe(s).simple().then(() => {}), claims, async (table, columns, text) => {
        if (!text) return
        const stream = await t.unsafe(`copy ${table} (${columns.join(', ')}) from stdin`).writable()
        await new Promise<void>((resolve, reject) => {
          stream.on('error', reject)
          stream.on('finish', resolve)
          stream.end(text)
        })
      })
      await tx.asCaller()
      return fn(tx)
    })) as T
  }
  const pg = db.raw as PGlite
  return pg.transaction(async (t: Transaction) => {
    const query: Sql['query'] = async (text, params) => {
      const r = await t.query<any>(text, params as any[])
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length }
    }
    const tx = makeTx(query, (s) => t.exec(s).then(() => {}), claims, async (table, columns, text) => {
      if (!text) return
      await t.query(`copy ${table} (${columns.join(', ')}) from '/dev/blob'`, [], { blob: new Blob([text]) })
    })
    await tx.asCaller()
    return fn(tx)
  })
}

function makeTx(query: Sql['query'], exec: (s: string) => Promise<void>, claims: Claims, copy: LoadTx['copy']): LoadTx {
  const sql: Sql = { query, exec }
  return {
    query,
    exec,
    copy,
    asCaller: () => setCaller(sql, claims),
    // Back to the connection's own role for this transaction only; the caller's claims stay set.
    asServer: async () => {
      await query(`select set_config('role', 'none', true)`)
    },
  }
}

/** A Postgres identifier, double-quoted. Names reaching here are validated, this only quotes. */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`

import type { Sql } from '#app/db/db.server.ts'

/**
 * Runs fn in the caller's transaction with the session's own role: for what no API role may touch (credentials,
 * the meter, another tenant's published asset internals) after the feature has checked the caller may. In the same
 * transaction, because PGlite has one connection and the caller's transaction holds it.
 */
export async function asServer<T>(sql: Sql, fn: () => Promise<T>): Promise<T> {
  const { rows } = await sql.query<{ role: string }>(`select current_user::text as role`)
  await sql.query(`select set_config('role', 'none', true)`)
  try {
    return await fn()
  } finally {
    await sql.query(`select set_config('role', $1, true)`, [rows[0].role])
  }
}

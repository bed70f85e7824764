import type { Sql } from '#app/db/db.server.ts'

/**
 * Runs fn in the caller's transaction with the session's own role, for reads of tables no API role can read (silver,
 * the registry across tenants) after the caller was shown to see what they name. Back to the caller's role after,
 * also when fn throws (the original error is the one that matters). In the same transaction: PGlite has one
 * connection, and the caller's transaction holds it.
 */
export async function withServerRole<T>(sql: Sql, fn: () => Promise<T>): Promise<T> {
  const { rows } = await sql.query<{ role: string }>(`select current_user::text as role`)
  await sql.query(`select set_config('role', 'none', true)`)
  try {
    return await fn()
  } finally {
    await sql.query(`select set_config('role', $1, true)`, [rows[0].role]).catch(() => {})
  }
}

import type { Db, Sql } from '#app/db/db.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { logError } from '#app/http/log.server.ts'

/** The service answers and its database runs a query (as anon on the API route: `sql`, else the database itself). */
export async function checkHealth(db: Db, sql: Sql = db) {
  const started = performance.now()
  try {
    const { rows } = await sql.query<{ migrations: number }>(`select app.health() as migrations`)
    return {
      status: 'ok',
      database: { engine: db.engine, ok: true, migrations: rows[0].migrations, latency_ms: Math.round(performance.now() - started) },
      version: '1',
      time: new Date().toISOString(),
    }
  } catch (e) {
    // The driver's text (host names, users, paths) goes to the log, never to an unauthenticated caller.
    logError(e, { check: 'health', engine: db.engine })
    throw new ApiError(503, 'DATABASE_ERROR', 'Database is not answering')
  }
}

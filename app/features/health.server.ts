import type { Db } from '#app/db/db.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { logError } from '#app/http/log.server.ts'

/** The service answers and its database runs a query. */
export async function checkHealth(db: Db) {
  const started = performance.now()
  try {
    const { rows } = await db.query<{ migrations: number }>(
      `select count(*)::int as migrations from supabase_migrations.schema_migrations`,
    )
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

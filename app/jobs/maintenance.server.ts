import type { Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { dropStaleStaged } from '#app/features/datasets/side-load.server.ts'
import { defineSchedule } from './jobs.server.ts'

/**
 * Deletes credentials that can never be used again: refresh tokens past their expiry, and API keys that
 * expired or were revoked more than 30 days ago (kept that long so an admin can still see why a client fails).
 */
export async function pruneExpiredCredentials(sql: Sql) {
  const { rows } = await sql.query<{ refresh_tokens: number; api_keys: number }>(`
    with tokens as (
      delete from app.refresh_tokens where expires_at < now() returning 1
    ), keys as (
      delete from public.api_keys
      where expires_at < now() - interval '30 days' or revoked_at < now() - interval '30 days'
      returning 1
    )
    select (select count(*) from tokens)::int as refresh_tokens, (select count(*) from keys)::int as api_keys`)
  return rows[0]
}

// Hourly, off the top of the hour. Also drops datalake tables an upload staged but never committed (side-load.server.ts).
defineSchedule('maintenance.prune', '17 * * * *', async () => {
  const db = await getDb()
  return { ...(await pruneExpiredCredentials(db)), staged_tables_dropped: await dropStaleStaged(db) }
})

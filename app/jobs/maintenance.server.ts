import type { Db, Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
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

type MaintenanceTask = (db: Db) => Promise<unknown>
const tasks = new Map<string, MaintenanceTask>()

/**
 * Adds a task to the hourly prune, from an area's jobs.server.ts (e.g. datasets drops tables an upload staged but
 * never committed). `name` is the key of its result in the run's output. Shared code never imports an area: areas
 * register here.
 */
export function onMaintenance(name: string, task: MaintenanceTask) {
  tasks.set(name, task)
}

export const maintenanceTasks = () => [...tasks.keys()]

// Hourly, off the top of the hour. One failing task does not stop the others; the run fails after all have run.
defineSchedule('maintenance.prune', '17 * * * *', async () => {
  const db = await getDb()
  const out: Record<string, unknown> = { ...(await pruneExpiredCredentials(db)) }
  const failed: string[] = []
  for (const [name, task] of tasks) {
    try {
      out[name] = await task(db)
    } catch (e) {
      failed.push(`${name}: ${(e as Error).message}`)
    }
  }
  if (failed.length) throw new Error(`maintenance tasks failed: ${failed.join('; ')}`)
  return out
})

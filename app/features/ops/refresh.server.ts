import type { Db } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { defineSchedule } from '#app/jobs/jobs.server.ts'

/*
  The analytics views are refreshed CONCURRENTLY (readers are never blocked) every 5 minutes by a schedule, and a
  few seconds after an ingest or a queue decision (debounced: a burst of writes costs one refresh).
*/

/**
 * Refreshes every view from one snapshot (REPEATABLE READ), so a summary read from several views is consistent as of
 * the refresh. A refresh that waited for a concurrent one and then conflicts with it (40001) is dropped: the other
 * one read newer data.
 */
export async function refreshOpsViews(db: Db): Promise<Date | null> {
  try {
    return await db.transaction(async (tx) => {
      await tx.query(`set transaction isolation level repeatable read`)
      const { rows } = await tx.query<{ at: Date }>(`select analytics.refresh_views() as at`)
      return rows[0].at
    })
  } catch (e) {
    if ((e as { code?: string }).code === '40001') return null
    throw e
  }
}

let pending: ReturnType<typeof setTimeout> | null = null

/** Asks for a refresh soon; calls within `delayMs` of each other share one. */
export function requestOpsRefresh(delayMs = 3000) {
  if (pending) return
  pending = setTimeout(() => {
    pending = null
    void (async () => refreshOpsViews(await getDb()))().catch((e: Error) => console.warn('[ops] view refresh failed:', e.message))
  }, delayMs)
  pending.unref?.()
}

defineSchedule('ops.refresh-views', '*/5 * * * *', async () => ({ refreshed_at: await refreshOpsViews(await getDb()) }))

import type { Db } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { observeGeneration } from './views-cache.server.ts'

/*
  The analytics views are refreshed CONCURRENTLY (readers are never blocked) every 5 minutes by a schedule (jobs.server.ts), and a
  few seconds after an ingest or a queue decision (debounced: a burst of writes costs one refresh).
*/

/**
 * Refreshes every view from one snapshot (REPEATABLE READ), so a summary read from several views is consistent as of
 * the refresh. A refresh that waited for a concurrent one and then conflicts with it (40001) is dropped: the other
 * one read newer data. The read cache (views-cache.server.ts) serves the new generation from the next request.
 */
export async function refreshOpsViews(db: Db): Promise<Date | null> {
  try {
    const { at, generation } = await db.transaction(async (tx) => {
      await tx.query(`set transaction isolation level repeatable read`)
      const { rows } = await tx.query<{ at: Date }>(`select analytics.refresh_views() as at`)
      const g = await tx.query<{ g: number }>(`select analytics.views_generation() as g`)
      return { at: rows[0].at, generation: Number(g.rows[0].g) }
    })
    // This machine's read cache moves on before its caller sees the commit; the others hear the NOTIFY.
    observeGeneration(db, generation)
    return at
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

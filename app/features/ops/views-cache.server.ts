import type { Db } from '#app/db/db.server.ts'
import { getEnv } from '#app/env.server.ts'
import type { ReadCacheSource } from '#app/http/read-cache.server.ts'

/*
  The HD read endpoints' cache version (decision 018): the views' refresh generation and the UTC hour. Every answer
  is a function of the tenant, the parameters, the views' contents (changed only by a committed refresh) and the
  complete hours before now (the windows end at date_trunc('hour', now)), so that pair names it exactly.

  Each process learns a new generation from NOTIFY hd_ops_views (sent by analytics.refresh_views() at commit, to every
  web machine), from refreshOpsViews() on the machine that refreshed (at once, before its caller sees the commit), and
  by reading the row back every few seconds and on every (re)connect of the listener, so a lost notification costs
  at most RECONCILE_MS of staleness. Until the first read has answered, the version is unknown and nothing is cached.
*/

const CHANNEL = 'hd_ops_views'
const RECONCILE_MS = 5_000
const HOUR_MS = 3_600_000

class ViewsGeneration {
  current: number | null = null
  /** The first read has answered (or failed). */
  settled = false
  readonly ready: Promise<void>
  private timer?: ReturnType<typeof setInterval>

  constructor(private db: Db) {
    this.ready = this.start()
      .catch((e: Error) => {
        console.warn(`[ops] views generation listener failed (${e.message}); dashboard reads run uncached`)
      })
      .finally(() => {
        this.settled = true
      })
  }

  /** A generation seen anywhere (notification, own refresh, row): generations only grow. */
  observe(n: number) {
    if (Number.isFinite(n) && (this.current === null || n > this.current)) this.current = n
  }

  private async read() {
    const { rows } = await this.db.query<{ g: number }>(`select generation as g from analytics_private.refresh_log where view_name = 'all'`)
    if (rows[0]) this.observe(Number(rows[0].g))
  }

  private async start() {
    if (this.db.engine === 'pglite') {
      // One process per embedded database (decision 020): its notifications arrive as the refresh's query returns.
      const pg = this.db.raw as import('@electric-sql/pglite').PGlite
      await pg.listen(CHANNEL, (payload) => this.observe(Number(payload)))
      await this.read()
      return
    }
    const sql = this.db.raw as import('postgres').Sql
    await sql.listen(
      CHANNEL,
      (payload) => this.observe(Number(payload)),
      // called on the first LISTEN and after every reconnect: notifications sent while disconnected are lost
      () => void this.read().catch(() => {}),
    )
    await this.read()
    this.timer = setInterval(() => {
      this.read().catch((e: { code?: string }) => {
        if (e?.code === 'CONNECTION_ENDED' || e?.code === 'CONNECTION_DESTROYED') clearInterval(this.timer)
        else this.current = null // not known for sure: uncached until the database answers again
      })
    }, RECONCILE_MS)
    this.timer.unref?.()
  }
}

const generations = new WeakMap<Db, ViewsGeneration>()

/** The process's view of the generation on `db` (starts listening on first use). */
export function viewsGeneration(db: Db): ViewsGeneration {
  let g = generations.get(db)
  if (!g) generations.set(db, (g = new ViewsGeneration(db)))
  return g
}

/** A generation this process produced (its own refresh): known at once where a listener runs. */
export function observeGeneration(db: Db, generation: number) {
  generations.get(db)?.observe(generation)
}

export const opsViews: ReadCacheSource = {
  name: 'ops',
  version(db) {
    if (getEnv().READ_CACHE === 'off') return null
    const tracker = viewsGeneration(db)
    const at = (g: number | null) => (g === null ? null : `${g}.${Math.floor(Date.now() / HOUR_MS)}`)
    // the process's first reads wait for the listener (one round trip) rather than answer with another kind of ETag
    return tracker.current === null && !tracker.settled ? tracker.ready.then(() => at(tracker.current)) : at(tracker.current)
  },
}

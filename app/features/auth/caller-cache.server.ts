import crypto from 'node:crypto'
import type { Db } from '#app/db/db.server.ts'
import type { Caller } from './caller.server.ts'

/*
  The answers of a request's identity checks, kept per process for a few seconds (decision 070).

  Every authenticated request checks, in the database, that its tenant exists, its user is active in it, its session
  is not revoked, and loads its permissions (app.caller_context; an API key is looked up first). That statement was
  the one database round trip a cached dashboard read made, and most of its CPU. The checks still run on every
  request; their answer comes from here while it is known to be current:
  - an entry lives at most CALLER_CACHE_MS (5 s) and never past the token's or key's own expiry;
  - NOTIFY hd_caller (supabase/migrations/20251230000000_caller_change_notify.sql), sent at commit by any change to
    roles, permissions, profiles' active flag, tenants, sessions' revocation, API keys and clients, on any machine,
    drops the entries of the tenant it names (all of them for '');
  - a write request this process served drops its tenant's entries as it answers (before the client can send the
    next request), so a change made through this app is seen by the next request whatever the notification's timing;
  - until the listener is connected, after it reconnects (notifications sent meanwhile are lost) and when the listener
    cannot run, nothing is served from here.
  What is cached is the Caller itself: credentials that fail are never cached (a 401 is checked every time).
*/

export const CALLER_CACHE_MS = Number(process.env.HD_CALLER_CACHE_MS ?? 5_000)
const MAX_ENTRIES = 50_000
const CHANNEL = 'hd_caller'

interface Entry {
  caller: Caller
  until: number
}

class CallerCache {
  private entries = new Map<string, Entry>()
  /** The listener is connected and nothing was missed since the entries were made. */
  private live = false
  private waiters = new Map<string, () => void>()
  hits = 0
  misses = 0

  constructor(private db: Db) {
    if (CALLER_CACHE_MS > 0) {
      this.listen().catch((e: Error) => {
        this.live = false
        console.warn(`[auth] caller cache listener failed (${e.message}); identity checks run in the database every request`)
      })
    }
  }

  get(key: string): Caller | undefined {
    if (!this.live) return undefined
    const e = this.entries.get(key)
    if (!e) return undefined
    if (e.until <= Date.now()) {
      this.entries.delete(key)
      return undefined
    }
    this.hits++
    return e.caller
  }

  set(key: string, caller: Caller, expiresAtMs: number) {
    if (!this.live) return
    this.misses++
    if (this.entries.size >= MAX_ENTRIES) {
      // oldest first (insertion order): expired or not, they are the cheapest to lose
      for (const k of this.entries.keys()) {
        this.entries.delete(k)
        if (this.entries.size < MAX_ENTRIES * 0.9) break
      }
    }
    this.entries.set(key, { caller, until: Math.min(Date.now() + CALLER_CACHE_MS, expiresAtMs) })
  }

  /** Drops one tenant's entries, or all of them (no tenant: a change that does not name one). */
  invalidate(tenantId?: string | null) {
    if (!tenantId) {
      this.entries.clear()
      return
    }
    for (const [k, e] of this.entries) if (e.caller.tenantId === tenantId) this.entries.delete(k)
  }

  get size() {
    return this.entries.size
  }

  /**
   * Resolves once every change committed before the call has been heard: a listener receives notifications in
   * commit order, so hearing one sent now means all earlier ones have arrived. For a change made in this process
   * without going through a request (a script, a test's own SQL) that the next request must see.
   */
  async sync(timeoutMs = 5_000): Promise<void> {
    if (!this.live) return
    const nonce = `sync:${crypto.randomUUID()}`
    let timer: ReturnType<typeof setTimeout> | undefined
    const heard = new Promise<void>((resolve, reject) => {
      this.waiters.set(nonce, resolve)
      timer = setTimeout(() => reject(new Error(`caller cache: no notification within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      await this.db.query(`select pg_notify('${CHANNEL}', $1)`, [nonce])
      await heard
    } catch (e) {
      this.entries.clear() // not heard: assume anything was missed
      throw e
    } finally {
      clearTimeout(timer)
      this.waiters.delete(nonce)
    }
  }

  private async listen() {
    const onNotify = (payload: string) => {
      if (payload.startsWith('sync:')) this.waiters.get(payload)?.()
      else this.invalidate(payload || null)
    }
    if (this.db.engine === 'pglite') {
      // One process per embedded database: a change's notification arrives as its statement returns.
      const pg = this.db.raw as import('@electric-sql/pglite').PGlite
      await pg.listen(CHANNEL, onNotify)
      this.live = true
      return
    }
    const sql = this.db.raw as import('postgres').Sql
    await sql.listen(CHANNEL, onNotify, () => {
      // the first LISTEN and every reconnect: what was sent while disconnected is lost, so start empty
      this.entries.clear()
      this.live = true
    })
  }
}

const caches = new WeakMap<Db, CallerCache>()

/** The process's caller cache on `db` (starts listening on first use); null when switched off (HD_CALLER_CACHE_MS=0). */
export function callerCache(db: Db): CallerCache | null {
  if (CALLER_CACHE_MS <= 0) return null
  let c = caches.get(db)
  if (!c) caches.set(db, (c = new CallerCache(db)))
  return c
}

/** A write this process served for `tenantId` (or without a caller: every tenant) may have changed an identity check. */
export function callerChanged(db: Db, tenantId: string | null | undefined) {
  caches.get(db)?.invalidate(tenantId)
}

import type { Db } from '#app/db/db.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { LIVE_THREADS } from '../load/encode-paths.server.ts'
import { openSideLoad, type SideLoad } from '../load/side-load.server.ts'

/**
 * Admission: how many uploads may hold what at once. These counts are per process on purpose: what they protect —
 * the live pool's threads, the database pool's connections, the request's memory — belongs to this process.
 *
 * - Per tenant, at most HD_UPLOAD_TENANT_MAX uploads (upload and files/add) at a time: one tenant's slow clients
 *   cannot take every connection and thread. Over the cap: a 429 naming `concurrent_uploads`, before any byte is read.
 * - At most LIVE_THREADS uploads load while they arrive (one live-pool thread each); the others store first.
 * - At most MAX_SIDE_LOADS uploads load bronze on a second connection; the others load it after silver.
 */

const tenantMax = () => Math.max(1, Number(process.env.HD_UPLOAD_TENANT_MAX ?? 3))
/** Seconds a refused client is told to wait (an upload of a few MB takes about that long). */
const RETRY_AFTER_SECONDS = 10
const running = new Map<string, number>()

/** Takes one of the tenant's upload places; the returned function gives it back (call it once, in a finally). */
export function admitUpload(tenantId: string): () => void {
  const max = tenantMax()
  const n = running.get(tenantId) ?? 0
  if (n >= max) {
    throw new ApiError(
      429,
      'RATE_LIMIT_EXCEEDED',
      `At most ${max} uploads at a time per tenant: wait for one to finish`,
      { limit: 'concurrent_uploads', max, retry_after: RETRY_AFTER_SECONDS, fields: [{ field: 'files', message: `at most ${max} uploads at a time` }] },
      { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    )
  }
  running.set(tenantId, n + 1)
  let done = false
  return () => {
    if (done) return
    done = true
    const left = (running.get(tenantId) ?? 1) - 1
    if (left > 0) running.set(tenantId, left)
    else running.delete(tenantId)
  }
}

let liveLoads = 0
/** Uploads started while their first file arrived, since the process started (tests check the path was taken). */
export const uploadCounters = { live: 0 }

/** A place for a load that reads its first file as it arrives, or null when both live threads are taken. */
export function takeLiveSlot(): (() => void) | null {
  if (liveLoads >= LIVE_THREADS) return null
  liveLoads++
  uploadCounters.live++
  let done = false
  return () => {
    if (!done) liveLoads--
    done = true
  }
}

/**
 * Uploads that load bronze on a second connection at once: each holds two pool connections, so they are few (the
 * rest load bronze after silver on one connection, as files/add always does).
 */
const MAX_SIDE_LOADS = 2
let sideLoads = 0

/** A second transaction for a new dataset's bronze table, when the engine, the pool and the cap allow one. */
export async function takeSideLoad(db: Db): Promise<{ side: SideLoad; release: () => void } | null> {
  // Each such upload may hold one connection while it waits for its second: the pool must keep one more for them.
  if (db.engine !== 'postgres' || db.poolSize < MAX_SIDE_LOADS + 2 || sideLoads >= MAX_SIDE_LOADS || process.env.HD_UPLOAD_SIDE_LOAD === 'off') return null
  sideLoads++
  let done = false
  const release = () => {
    if (!done) sideLoads--
    done = true
  }
  try {
    const side = await openSideLoad(db)
    if (!side) release()
    return side && { side, release }
  } catch (e) {
    release()
    throw e
  }
}

/** What is held right now (tests and health output). */
export function admissionStats() {
  return { uploads: Object.fromEntries(running), live: liveLoads, side: sideLoads }
}

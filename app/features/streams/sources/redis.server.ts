import { Redis } from 'ioredis'
import type { Db } from '#app/db/db.server.ts'
import type { StreamRow } from '../apply.server.ts'
import { applyBrokerBatch, messageEvent, type ConsumerOptions, type RunningConsumer } from './batch.server.ts'
import { CONSUMER_GROUP, redisStreamKey } from './config.server.ts'

/*
  A Redis Streams source: consumer group `hotdash` on hotdash:stream:<id>, one consumer per worker process, so
  several workers share the stream's entries. Each read is applied in one transaction that also records the entry
  ids (public.stream_applied); XACK follows the commit. A crash before the commit leaves the entries pending and
  they are applied later (by this consumer reading its pending list on restart, or by another one claiming them
  after CLAIM_IDLE_MS); a crash between commit and XACK redelivers entries whose ids are already recorded: skipped.
  Recorded ids below the group's oldest pending entry are acknowledged for good, and are pruned.
*/

type Entry = [id: string, fields: string[]]
type XRead = [key: string, entries: Entry[]][] | null

const CLAIM_IDLE_MS = 30_000
const PRUNE_EVERY_MS = 5_000

const idParts = (id: string): [number, number] => {
  const [ms, seq] = id.split('-')
  return [Number(ms), Number(seq ?? 0)]
}

export function startRedisConsumer(db: Db, stream: StreamRow, url: string, opts: ConsumerOptions & { claimIdleMs?: number; blockMs?: number }): RunningConsumer {
  const key = redisStreamKey(stream.id)
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, enableAutoPipelining: false })
  const count = opts.batchSize ?? 1000
  const claimIdle = opts.claimIdleMs ?? CLAIM_IDLE_MS
  let stopped = false
  let batches = 0
  let lastClaim = 0
  let lastPrune = 0

  async function ensureGroup() {
    try {
      // From the start of the stream: entries XADDed before the stream's first consumer started count too.
      await redis.xgroup('CREATE', key, CONSUMER_GROUP, '0', 'MKSTREAM')
    } catch (e) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e
    }
  }

  async function apply(entries: Entry[]) {
    if (!entries.length) return
    batches++
    const fault = opts.fault && opts.fault.batch === batches ? opts.fault.point : undefined
    const ids = entries.map(([id]) => idParts(id))
    const raw = entries.map(([, f]) => {
      const o: Record<string, string> = {}
      for (let i = 0; i + 1 < (f?.length ?? 0); i += 2) o[f[i]] = f[i + 1]
      return f ? messageEvent(o) : null
    })
    const applied = await applyBrokerBatch(db, stream, raw, { ids, ingestMs: ids.map(([ms]) => ms) }, fault)
    await redis.xack(key, CONSUMER_GROUP, ...entries.map(([id]) => id))
    if (applied) opts.onBatch?.(applied)
  }

  async function prune() {
    const pending = (await redis.xpending(key, CONSUMER_GROUP)) as [number, string | null, string | null, unknown]
    let below: [number, number] | null = null
    if (Number(pending[0]) > 0 && pending[1]) below = idParts(pending[1])
    else {
      const groups = (await redis.xinfo('GROUPS', key)) as unknown[][]
      for (const g of groups) {
        const o: Record<string, unknown> = {}
        for (let i = 0; i + 1 < g.length; i += 2) o[String(g[i])] = g[i + 1]
        if (o.name === CONSUMER_GROUP && typeof o['last-delivered-id'] === 'string') {
          const [ms, seq] = idParts(o['last-delivered-id'])
          below = [ms, seq + 1]
        }
      }
    }
    if (below) await db.query(`delete from public.stream_applied where stream_id = $1 and (msg_hi, msg_lo) < ($2::bigint, $3::bigint)`, [stream.id, below[0], below[1]])
  }

  const done = (async () => {
    try {
      await ensureGroup()
      // Our own pending entries first (a restart of this consumer after a crash), then new ones.
      for (;;) {
        const r = (await redis.xreadgroup('GROUP', CONSUMER_GROUP, opts.consumer, 'COUNT', count, 'STREAMS', key, '0')) as XRead
        const entries = r?.[0]?.[1] ?? []
        if (!entries.length || stopped) break
        await apply(entries)
      }
      while (!stopped) {
        const now = Date.now()
        if (now - lastClaim >= Math.min(claimIdle, 5000)) {
          lastClaim = now
          // Entries a dead consumer read and never acked.
          const claimed = (await redis.xautoclaim(key, CONSUMER_GROUP, opts.consumer, claimIdle, '0-0', 'COUNT', count)) as [string, Entry[]]
          await apply((claimed?.[1] ?? []).filter((e) => e && e[1]))
        }
        const r = (await redis.xreadgroup('GROUP', CONSUMER_GROUP, opts.consumer, 'COUNT', count, 'BLOCK', opts.blockMs ?? 500, 'STREAMS', key, '>')) as XRead
        if (stopped) break
        await apply(r?.[0]?.[1] ?? [])
        if (Date.now() - lastPrune >= PRUNE_EVERY_MS) {
          lastPrune = Date.now()
          await prune()
        }
      }
    } catch (e) {
      if (!stopped) opts.log?.(`[streams] redis consumer ${opts.consumer} of ${stream.id} stopped: ${(e as Error).message}`)
      if ((e as Error).name !== 'InjectedFault' && !stopped) throw e
    } finally {
      redis.disconnect()
    }
  })()

  return {
    streamId: stream.id,
    done: done.catch(() => {}),
    async stop() {
      stopped = true
      redis.disconnect()
      await done.catch(() => {})
    },
  }
}

/**
 * Streams benchmark: `npm run bench:streams [-- --seconds 10] [--batch 1000]`.
 *
 * A stream with a 1-minute tumbling window and 5 aggregations (count, sum, avg, min, max), fed
 *  1. through the http source (the events route's feature function, minus HTTP), two batches in flight;
 *  2. through Redis Streams (the real consumer: XREADGROUP → one Postgres transaction → XACK), drained from a backlog,
 *     then at a paced rate of half that for the latency;
 * with a live subscriber (the feed behind SSE and WebSocket) timing event in → window update out, P50/P99. Beside it
 * the floor: a bare XADD / XREADGROUP / XACK loop on the same Redis, no processing. Uses DATABASE_URL when set
 * (Postgres), else an in-memory PGlite; the Redis parts need REDIS_URL. Prints the load average (a shared machine).
 */
import os from 'node:os'
import { performance } from 'node:perf_hooks'

const args = process.argv.slice(2)
const arg = (name: string, def: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : def)
const SECONDS = Number(arg('--seconds', '10'))
const BATCH = Number(arg('--batch', '1000'))
process.env.LOG_REQUESTS = 'false'
process.env.JWT_SECRET ??= 'hot-dash-bench-secret-0123456789abcdef0123456789'

const { openPostgres, openPglite } = await import('../app/db/db.server.ts')
const { installDb } = await import('../app/db/index.server.ts')
const { migrate } = await import('../app/db/migrate.server.ts')
const { createTenant, provisionUser } = await import('../app/features/auth/auth.server.ts')
const { builtinProvider } = await import('../app/features/auth/auth.server.ts')
const { authenticateRequest } = await import('../app/features/auth/auth.server.ts')
const { asCaller } = await import('../app/db/db.server.ts')
const st = await import('../app/features/streams/streams.server.ts')
const { openFeed } = await import('../app/features/streams/feed.server.ts')
const { STREAM_COLUMNS } = await import('../app/features/streams/apply.server.ts')
const { startRedisConsumer } = await import('../app/features/streams/sources/redis.server.ts')
const { Redis } = await import('ioredis')

const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ')
console.log(`bench:streams — ${os.cpus().length} cores, load average ${load()} (1/5/15 min); ${SECONDS} s per phase, batches of ${BATCH}`)

const db = process.env.DATABASE_URL ? openPostgres(process.env.DATABASE_URL, { max: 6 }) : await openPglite(undefined)
installDb(db)
await migrate(db)
console.log(`database: ${db.engine}`)
const slug = `bench-${Date.now().toString(36)}`
const tenant = await createTenant(db, { name: `Bench ${slug}`, slug })
const password = 'bench-password-0123'
await provisionUser(db, { tenantId: tenant.id, email: `${slug}@bench.example`, username: `${slug}-ds`, password, roles: ['data_scientist'] })
const tokens = (await builtinProvider.signIn(db, `${slug}-ds`, password))!
const caller = (await authenticateRequest(new Request('http://bench/', { headers: { authorization: `Bearer ${tokens.access_token}` } }), db))!
const request = new Request('http://bench/api/v1/stream/create', { method: 'POST' })
const ANALYTICS = { window: '1m', aggregations: ['count', 'sum', 'avg', 'min', 'max'] as ('count' | 'sum' | 'avg' | 'min' | 'max')[] }

async function newStream(name: string, type: 'http' | 'redis') {
  const body = { stream_name: name, source: { type } as { type: 'http' }, analytics: { ...ANALYTICS, type: 'tumbling' as const, value_field: 'value', time_field: 'timestamp', group_by: [], allowed_lateness: '10s', anomaly: { enabled: true, threshold: 3.5, history: 20, min_history: 5 } } }
  return asCaller(db, caller.claims, (tx) => st.createStream(tx, caller, body, request))
}

const pct = (xs: number[], q: number) => {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]
}
const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—')

/** Follows the stream's live feed; resolves each waiter when events_processed reaches its count. */
async function follow(id: string) {
  const waiters: { n: number; t0: number }[] = []
  const latencies: number[] = []
  const stop = new AbortController()
  await openFeed(caller, id, (m) => {
    if (m.type !== 'update') return
    const n = (m.data as { metrics: { events_processed: number } }).metrics.events_processed
    const now = performance.now()
    while (waiters.length && waiters[0].n <= n) latencies.push(now - waiters.shift()!.t0)
  }, stop.signal)
  return { expect: (n: number, t0: number) => waiters.push({ n, t0 }), latencies, stop: () => stop.abort() }
}

const events = (n: number) => {
  const now = Date.now()
  return Array.from({ length: n }, (_, i) => ({ timestamp: now - (i % 500), value: (i * 7919) % 1000 }))
}

// ------------------------------------------------------------------ 1. http source
{
  const s = await newStream(`${slug}-http`, 'http')
  const live = await follow(s.stream_id)
  let sent = 0
  const t0 = performance.now()
  const worker = async () => {
    while (performance.now() - t0 < SECONDS * 1000) {
      const batch = events(BATCH)
      sent += batch.length
      live.expect(sent, performance.now())
      await st.ingestEvents(caller, s.stream_id, { events: batch })
    }
  }
  await Promise.all([worker(), worker()])
  const secs = (performance.now() - t0) / 1000
  await new Promise((r) => setTimeout(r, 200))
  live.stop()
  console.log(`http source:  ${fmt(sent / secs)} events/s sustained (${sent} events in ${secs.toFixed(1)} s); event → SSE update P50 ${fmt(pct(live.latencies, 0.5))} ms, P99 ${fmt(pct(live.latencies, 0.99))} ms`)
}

// ------------------------------------------------------------------ 2. Redis
const REDIS_URL = process.env.REDIS_URL
if (!REDIS_URL) console.log('redis: SKIPPED — REDIS_URL is not set')
else {
  const redis = new Redis(REDIS_URL)
  const produce = async (key: string, n: number) => {
    for (let i = 0; i < n; i += BATCH) {
      const p = redis.pipeline()
      for (const e of events(Math.min(BATCH, n - i))) p.xadd(key, '*', 'data', JSON.stringify(e))
      await p.exec()
    }
  }

  // The floor: bare XADD → XREADGROUP → XACK, no processing, for SECONDS.
  const floorKey = `hotdash:bench:floor:${slug}`
  await redis.xgroup('CREATE', floorKey, 'g', '0', 'MKSTREAM')
  const reader = new Redis(REDIS_URL)
  let consumed = 0
  let producing = true
  const t0 = performance.now()
  const producer = (async () => {
    while (performance.now() - t0 < SECONDS * 1000) await produce(floorKey, BATCH * 5)
    producing = false
  })()
  const consumer = (async () => {
    for (;;) {
      const r = (await reader.xreadgroup('GROUP', 'g', 'c', 'COUNT', BATCH, 'BLOCK', 100, 'STREAMS', floorKey, '>')) as [string, [string, string[]][]][] | null
      const entries = r?.[0]?.[1] ?? []
      if (entries.length) {
        await reader.xack(floorKey, 'g', ...entries.map((e) => e[0]))
        consumed += entries.length
      } else if (!producing) break
    }
  })()
  await Promise.all([producer, consumer])
  const floorRate = consumed / ((performance.now() - t0) / 1000)
  await redis.del(floorKey)
  reader.disconnect()
  console.log(`redis floor:  ${fmt(floorRate)} events/s (bare XADD + XREADGROUP + XACK, same Redis, same batches)`)

  // Our consumer, draining a backlog (throughput).
  const s = await newStream(`${slug}-redis`, 'redis')
  const key = s.source.stream_key as string
  const backlog = Math.max(BATCH * 10, Math.round(floorRate * SECONDS * 0.2))
  await produce(key, backlog)
  const { rows } = await db.query(`select ${STREAM_COLUMNS} from public.streams s where s.id = $1`, [s.stream_id])
  const t1 = performance.now()
  let done = 0
  let resolveDrained!: () => void
  const drained = new Promise<void>((r) => (resolveDrained = r))
  const c = startRedisConsumer(db, rows[0] as never, REDIS_URL, {
    consumer: 'bench',
    batchSize: BATCH,
    onBatch: (b) => {
      done = b.stream.events_processed
      if (done >= backlog) resolveDrained()
    },
  })
  await Promise.race([drained, new Promise((r) => setTimeout(r, 120_000))])
  const drainRate = done / ((performance.now() - t1) / 1000)
  console.log(`redis source: ${fmt(drainRate)} events/s draining a backlog of ${backlog} (${((100 * drainRate) / floorRate).toFixed(0)} % of the floor; target ≥ 33 %)`)

  // Paced at half the drain rate: latency from XADD to the window update on the live feed.
  const live = await follow(s.stream_id)
  const rate = Math.max(100, drainRate / 2)
  const per = Math.max(1, Math.round(rate / 20)) // 20 ticks per second
  let sent = done
  const t2 = performance.now()
  while (performance.now() - t2 < SECONDS * 1000) {
    const tick = performance.now()
    sent += per
    live.expect(sent, tick)
    await produce(key, per)
    const wait = 50 - (performance.now() - tick)
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  }
  await new Promise((r) => setTimeout(r, 1500))
  live.stop()
  await c.stop()
  await redis.del(key)
  redis.disconnect()
  console.log(`redis source: paced at ${fmt(per * 20)} events/s: event → SSE update P50 ${fmt(pct(live.latencies, 0.5))} ms, P99 ${fmt(pct(live.latencies, 0.99))} ms (${live.latencies.length} ticks)`)
}
console.log(`load average at the end ${load()}`)
await db.close()
process.exit(0)

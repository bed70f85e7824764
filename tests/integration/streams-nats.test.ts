import os from 'node:os'
import { connect, type NatsConnection } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { expectedWindows, seeded, type Ev } from '#tests/support/streams.ts'
import { dropNatsConsumer, startNatsConsumer } from '#app/features/streams/sources/nats.server.ts'
import type { StreamRow } from '#app/features/streams/apply.server.ts'
import { STREAM_COLUMNS } from '#app/features/streams/apply.server.ts'

/** The NATS JetStream source against the machine's NATS: a durable consumer shared by workers, a killed consumer, no loss, no double count. */

const NATS_URL = process.env.NATS_URL
if (!NATS_URL) console.log('streams-nats: SKIPPED — NATS_URL is not set (CI sets it when NATS answers on 127.0.0.1:4222)')

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)

describe.skipIf(!NATS_URL)('nats source', { timeout: 120_000 }, () => {
  let app: TestApp
  let a: TestTenant
  let nc: NatsConnection
  const ids: string[] = []

  beforeAll(async () => {
    app = await setupTestApp()
    a = await app.createTenant()
    nc = await connect({ servers: NATS_URL! })
  })
  afterAll(async () => {
    for (const id of ids) await dropNatsConsumer(NATS_URL!, id)
    await nc.close()
    await app.close()
  })

  async function newStream(name: string) {
    const r = await json(
      app.fetch('/api/v1/stream/create', {
        method: 'POST',
        headers: a.data_scientist.auth,
        json: { stream_name: name, source: { type: 'nats' }, analytics: { window: '10s', aggregations: ['count', 'sum', 'min', 'max'], group_by: ['region'], allowed_lateness: '1h' } },
      }),
    )
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body.source.subject).toBe(`hotdash.stream.${r.body.stream_id}`)
    ids.push(r.body.stream_id)
    const { rows } = await app.db.query<StreamRow>(`select ${STREAM_COLUMNS} from public.streams s where s.id = $1`, [r.body.stream_id])
    return { id: r.body.stream_id as string, key: r.body.source.subject as string, row: rows[0] }
  }

  function events(n: number, seed: number): Ev[] {
    const r = seeded(seed)
    return Array.from({ length: n }, (_, i) => ({ timestamp: T0 + Math.floor(r() * 120_000), value: Math.round(r() * 1000) / 10, region: ['eu', 'us'][i % 2] }))
  }

  async function produce(key: string, evs: Ev[]) {
    const js = nc.jetstream()
    for (let i = 0; i < evs.length; i += 250) await Promise.all(evs.slice(i, i + 250).map((e) => js.publish(key, JSON.stringify(e))))
  }

  async function waitProcessed(id: string, n: number, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs
    let last = -1
    while (Date.now() < deadline) {
      const m = await json(app.fetch(`/api/v1/stream/${id}/metrics`, { headers: a.viewer.auth }))
      last = m.body.metrics.events_processed
      if (last >= n) return m.body
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`stream ${id}: ${last} of ${n} events after ${timeoutMs} ms`)
  }

  async function expectExact(id: string, evs: Ev[]) {
    const w = await json(app.fetch(`/api/v1/stream/${id}/windows?limit=5000`, { headers: a.viewer.auth }))
    const exp = expectedWindows(evs, { size: 10_000, lateness: 3_600_000, groupBy: true })
    expect(w.body.windows).toHaveLength(exp.windows.length)
    const byId = new Map(w.body.windows.map((x: any) => [`${Date.parse(x.window_start)}|${x.series_key}`, x]))
    for (const e of exp.windows) {
      const got: any = byId.get(`${e.start}|${e.key}`)
      expect(got.values.count).toBe(e.values.length)
      expect(got.values.sum).toBeCloseTo(e.values.reduce((s, v) => s + v, 0), 6)
      expect(got.values.min).toBe(Math.min(...e.values))
      expect(got.values.max).toBe(Math.max(...e.values))
    }
  }

  it('consumes what was published, in windows equal to a test-side computation; latency from the JetStream timestamps', async () => {
    const s = await newStream('nats-plain')
    const evs = events(1500, 1)
    await produce(s.key, evs)
    const c = startNatsConsumer(app.db, s.row, NATS_URL!, { consumer: `${os.hostname()}-plain`, batchSize: 400 })
    const m = await waitProcessed(s.id, evs.length)
    await c.stop()
    expect(m.metrics.events_processed).toBe(evs.length)
    expect(m.metrics.avg_latency_ms).toBeGreaterThan(0)
    await expectExact(s.id, evs)
  })

  it('killed after its commit and before its acks: the redelivered messages are skipped (no double count)', async () => {
    const s = await newStream('nats-after-commit')
    const evs = events(1500, 2)
    await produce(s.key, evs)
    const dead = startNatsConsumer(app.db, s.row, NATS_URL!, { consumer: 'worker-a', batchSize: 500, fault: { point: 'after-commit', batch: 2 }, ackWaitMs: 1000 })
    await dead.done
    // batches are what arrived within a flush: the first one committed and was acked, the second committed, never acked
    const before = (await waitProcessed(s.id, 1)).metrics.events_processed
    expect(before).toBeLessThan(evs.length)
    let skipped = 0
    const again = startNatsConsumer(app.db, s.row, NATS_URL!, { consumer: 'worker-a2', batchSize: 500, ackWaitMs: 1000, onBatch: (b) => (skipped += b.duplicates) })
    const m = await waitProcessed(s.id, evs.length)
    await new Promise((r) => setTimeout(r, 300))
    await again.stop()
    expect((await json(app.fetch(`/api/v1/stream/${s.id}/metrics`, { headers: a.viewer.auth }))).body.metrics.events_processed).toBe(evs.length)
    expect(m.metrics.events_processed).toBe(evs.length)
    expect(skipped).toBeGreaterThan(0) // the committed, unacked batch came back and was skipped
    await expectExact(s.id, evs)
  })

  it('killed inside its transaction: the messages are redelivered to another worker (no loss)', async () => {
    const s = await newStream('nats-before-commit')
    const evs = events(1200, 3)
    await produce(s.key, evs)
    const dead = startNatsConsumer(app.db, s.row, NATS_URL!, { consumer: 'worker-b', batchSize: 400, fault: { point: 'before-commit', batch: 3 }, ackWaitMs: 1000 })
    await dead.done
    const before = (await waitProcessed(s.id, 1)).metrics.events_processed
    expect(before).toBeLessThan(evs.length)
    const other = startNatsConsumer(app.db, s.row, NATS_URL!, { consumer: 'worker-c', batchSize: 400, ackWaitMs: 1000 })
    await waitProcessed(s.id, evs.length)
    await new Promise((r) => setTimeout(r, 300))
    await other.stop()
    expect((await json(app.fetch(`/api/v1/stream/${s.id}/metrics`, { headers: a.viewer.auth }))).body.metrics.events_processed).toBe(evs.length)
    await expectExact(s.id, evs)
  })

  it('two workers pulling one durable consumer share a stream: every event counted once', async () => {
    const s = await newStream('nats-shared')
    const evs = events(1500, 4)
    const got = { x: 0, y: 0 }
    const x = startNatsConsumer(app.db, s.row, NATS_URL!, { consumer: 'worker-x', batchSize: 100, onBatch: (b) => (got.x += b.accepted) })
    const y = startNatsConsumer(app.db, s.row, NATS_URL!, { consumer: 'worker-y', batchSize: 100, onBatch: (b) => (got.y += b.accepted) })
    await produce(s.key, evs)
    await waitProcessed(s.id, evs.length)
    await new Promise((r) => setTimeout(r, 300))
    await Promise.all([x.stop(), y.stop()])
    console.log(`streams-nats: two consumers applied ${got.x} + ${got.y} events`)
    expect(got.x + got.y).toBe(evs.length)
    expect(got.x).toBeGreaterThan(0)
    expect(got.y).toBeGreaterThan(0)
    await expectExact(s.id, evs)
  })
})

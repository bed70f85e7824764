import os from 'node:os'
import { connect, type NatsConnection } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { brokerStreams } from '#tests/support/broker-streams.ts'
import type { Ev } from '#tests/support/streams.ts'
import { dropNatsConsumer, startNatsConsumer } from '#app/features/streams/sources/nats.server.ts'

/** The NATS JetStream source against the machine's NATS: a durable consumer shared by workers, a killed consumer, no loss, no double count. */

const NATS_URL = process.env.NATS_URL
if (!NATS_URL) console.log('streams-nats: SKIPPED — NATS_URL is not set (CI sets it when NATS answers on 127.0.0.1:4222)')

describe.skipIf(!NATS_URL)('nats source', { timeout: 120_000 }, () => {
  let app: TestApp
  let a: TestTenant
  let nc: NatsConnection
  const { newStream, events, metrics, waitProcessed, expectExact, created: ids } = brokerStreams('nats', () => ({ app, tenant: a }))

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

  async function produce(key: string, evs: Ev[]) {
    const js = nc.jetstream()
    for (let i = 0; i < evs.length; i += 250) await Promise.all(evs.slice(i, i + 250).map((e) => js.publish(key, JSON.stringify(e))))
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
    expect((await metrics(s.id)).metrics.events_processed).toBe(evs.length)
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
    expect((await metrics(s.id)).metrics.events_processed).toBe(evs.length)
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

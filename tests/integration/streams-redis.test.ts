import { spawn, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { brokerStreams } from '#tests/support/broker-streams.ts'
import type { Ev } from '#tests/support/streams.ts'
import { startRedisConsumer } from '#app/features/streams/sources/redis.server.ts'

/** The Redis Streams source against the machine's Redis: consumer groups, a killed consumer, no loss, no double count. */

const REDIS_URL = process.env.REDIS_URL
if (!REDIS_URL) console.log('streams-redis: SKIPPED — REDIS_URL is not set (CI sets it when redis-cli ping answers on 127.0.0.1:6379)')

describe.skipIf(!REDIS_URL)('redis source', { timeout: 120_000 }, () => {
  let app: TestApp
  let a: TestTenant
  let redis: Redis
  const { newStream, events, metrics, waitProcessed, expectExact, created: keys } = brokerStreams('redis', () => ({ app, tenant: a }))

  beforeAll(async () => {
    app = await setupTestApp()
    a = await app.createTenant()
    redis = new Redis(REDIS_URL!)
  })
  afterAll(async () => {
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
    await app.close()
  })

  async function produce(key: string, evs: Ev[]) {
    for (let i = 0; i < evs.length; i += 500) {
      const p = redis.pipeline()
      for (const e of evs.slice(i, i + 500)) p.xadd(key, '*', 'data', JSON.stringify(e))
      await p.exec()
    }
  }

  it('consumes what was XADDed, in windows equal to a test-side computation; latency from the entry ids', async () => {
    const s = await newStream('redis-plain')
    const evs = events(1500, 1)
    await produce(s.key, evs)
    const c = startRedisConsumer(app.db, s.row, REDIS_URL!, { consumer: `${os.hostname()}-plain`, batchSize: 400 })
    const m = await waitProcessed(s.id, evs.length)
    await c.stop()
    expect(m.metrics.events_processed).toBe(evs.length)
    expect(m.metrics.avg_latency_ms).toBeGreaterThan(0)
    await expectExact(s.id, evs)
    // every entry acknowledged
    expect(((await redis.xpending(s.key, 'hotdash')) as unknown[])[0]).toBe(0)
  })

  it('killed after its commit and before XACK: the restarted consumer skips the redelivered entries (no double count)', async () => {
    const s = await newStream('redis-after-commit')
    const evs = events(1500, 2)
    await produce(s.key, evs)
    const dead = startRedisConsumer(app.db, s.row, REDIS_URL!, { consumer: 'worker-a', batchSize: 500, fault: { point: 'after-commit', batch: 2 } })
    await dead.done
    const pending = (await redis.xpending(s.key, 'hotdash')) as unknown[]
    expect(pending[0]).toBe(500) // batch 2 committed, never acked
    expect((await waitProcessed(s.id, 1000)).metrics.events_processed).toBe(1000)
    let skipped = 0
    const again = startRedisConsumer(app.db, s.row, REDIS_URL!, { consumer: 'worker-a', batchSize: 500, onBatch: (b) => (skipped += b.duplicates) })
    const m = await waitProcessed(s.id, evs.length)
    await new Promise((r) => setTimeout(r, 300))
    await again.stop()
    expect((await metrics(s.id)).metrics.events_processed).toBe(evs.length)
    expect(m.metrics.events_processed).toBe(evs.length)
    expect(skipped).toBeGreaterThan(0) // the committed, unacked batch came back and was skipped
    await expectExact(s.id, evs)
  })

  it('killed inside its transaction: another consumer claims the pending entries (no loss)', async () => {
    const s = await newStream('redis-before-commit')
    const evs = events(1200, 3)
    await produce(s.key, evs)
    const dead = startRedisConsumer(app.db, s.row, REDIS_URL!, { consumer: 'worker-b', batchSize: 400, fault: { point: 'before-commit', batch: 3 } })
    await dead.done
    expect((await waitProcessed(s.id, 800)).metrics.events_processed).toBe(800)
    // another worker: it claims worker-b's pending entries once they have been idle 200 ms
    const other = startRedisConsumer(app.db, s.row, REDIS_URL!, { consumer: 'worker-c', batchSize: 400, claimIdleMs: 200 })
    await waitProcessed(s.id, evs.length)
    await new Promise((r) => setTimeout(r, 300))
    await other.stop()
    expect((await metrics(s.id)).metrics.events_processed).toBe(evs.length)
    await expectExact(s.id, evs)
  })

  it('two consumers of one group share a stream: every event counted once', async () => {
    const s = await newStream('redis-shared')
    const evs = events(1500, 4)
    const got = { x: 0, y: 0 }
    const x = startRedisConsumer(app.db, s.row, REDIS_URL!, { consumer: 'worker-x', batchSize: 100, blockMs: 50, onBatch: (b) => (got.x += b.accepted) })
    const y = startRedisConsumer(app.db, s.row, REDIS_URL!, { consumer: 'worker-y', batchSize: 100, blockMs: 50, onBatch: (b) => (got.y += b.accepted) })
    await produce(s.key, evs)
    await waitProcessed(s.id, evs.length)
    await new Promise((r) => setTimeout(r, 300))
    await Promise.all([x.stop(), y.stop()])
    console.log(`streams-redis: two consumers applied ${got.x} + ${got.y} events`)
    expect(got.x + got.y).toBe(evs.length)
    expect(got.x).toBeGreaterThan(0)
    expect(got.y).toBeGreaterThan(0)
    await expectExact(s.id, evs)
  })
  // A real crash: the production worker (`npm run worker`) consuming while events arrive, SIGKILLed mid-stream —
  // inside a transaction, between commit and XACK, or between reads, wherever it happens to be — then a new worker
  // process (another pid, so another consumer name in the group) claims what the dead one read and never acked.
  it.runIf(!!process.env.TEST_DATABASE_URL)('a worker process SIGKILLed mid-stream, a new one started: no loss, no double count', async () => {
    const s = await newStream('redis-sigkill')
    const evs = events(12_000, 5)
    const root = path.resolve(import.meta.dirname, '../..')
    const worker = () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server/worker.ts')], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: app.url!, REDIS_URL: REDIS_URL!, HD_STREAM_CLAIM_IDLE_MS: '500', NODE_ENV: 'test' },
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      const ready = new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready in') && resolve())
        child.once('exit', (code) => reject(new Error(`worker exited ${code} before it was ready`)))
      })
      return { child, ready }
    }
    const processed = async () => (await metrics(s.id)).metrics.events_processed as number
    const children: ChildProcess[] = []
    try {
      const first = worker()
      children.push(first.child)
      await first.ready
      // Produce at a steady pace while the worker consumes, and kill it once it is well into the stream.
      let sent = 0
      const producing = (async () => {
        while (sent < evs.length) {
          await produce(s.key, evs.slice(sent, sent + 250))
          sent += 250
          await new Promise((r) => setTimeout(r, 25))
        }
      })()
      const deadline = Date.now() + 60_000
      while ((await processed()) < 3000) {
        if (Date.now() > deadline) throw new Error('the first worker did not consume 3000 events in 60 s')
        await new Promise((r) => setTimeout(r, 20))
      }
      first.child.kill('SIGKILL')
      await new Promise((r) => (first.child.exitCode === null && first.child.signalCode === null ? first.child.once('exit', r) : r(null)))
      const atKill = await processed()
      const pendingAtKill = Number(((await redis.xpending(s.key, 'hotdash')) as unknown[])[0])
      const second = worker()
      children.push(second.child)
      await second.ready
      await producing
      const m = await waitProcessed(s.id, evs.length)
      await new Promise((r) => setTimeout(r, 1000))
      console.log(`streams-redis: SIGKILL at ${atKill} events processed, ${pendingAtKill} read and unacked; the new worker finished the rest`)
      expect(atKill).toBeLessThan(evs.length)
      expect(await processed()).toBe(evs.length)
      expect(m.metrics.events_processed).toBe(evs.length)
      await expectExact(s.id, evs)
      expect(((await redis.xpending(s.key, 'hotdash')) as unknown[])[0]).toBe(0)
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    }
  }, 180_000)
})

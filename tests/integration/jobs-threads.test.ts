import { threadId } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { ThreadPool } from '#app/jobs/thread-pool.server.ts'

/*
  The worker_threads pool: CPU work runs on other threads (the event loop keeps ticking), aborting a
  running task terminates its thread and the pool replaces it, queued tasks can be dropped, errors and
  transfers cross the boundary intact. Threads load the TypeScript fixture through tsx.
*/

const FIXTURE = '#app/jobs/thread-pool.fixture.ts'
const pools: ThreadPool[] = []
const pool = (size?: number) => {
  const p = new ThreadPool(size)
  pools.push(p)
  return p
}
afterAll(() => Promise.all(pools.map((p) => p.close())))

// Independent check: a sieve of Eratosthenes, not the fixture's trial division.
function sievePrimesBelow(n: number) {
  const composite = new Uint8Array(n)
  let count = 0
  for (let i = 2; i < n; i++) {
    if (composite[i]) continue
    count++
    for (let j = i * i; j < n; j += i) composite[j] = 1
  }
  return count
}

describe('thread pool', () => {
  it('sizes itself to cores - 1, at least 1', () => {
    expect(pool().size).toBeGreaterThanOrEqual(1)
  })

  it('runs CPU-bound work off the main thread while the event loop keeps running', async () => {
    const p = pool(1)
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    const progress: unknown[] = []
    const t = Date.now()
    const r = await p.run<{ count: number; threadId: number }>(FIXTURE, 'countPrimes', 3_000_000, { onProgress: (v) => progress.push(v) })
    const ms = Date.now() - t
    clearInterval(timer)
    expect(r.count).toBe(sievePrimesBelow(3_000_000))
    expect(r.threadId).not.toBe(threadId)
    expect(progress).toEqual([25, 50, 75])
    // The main thread was free: its 10 ms timer fired through most of the computation.
    expect(ticks).toBeGreaterThan((ms / 10) * 0.25)
  })

  it('aborting a running task terminates its thread; the pool starts a fresh one', async () => {
    const p = pool(1)
    const first = await p.run<{ threadId: number }>(FIXTURE, 'spin', 1)
    const ac = new AbortController()
    const t = Date.now()
    const running = p.run(FIXTURE, 'spin', 30_000, { signal: ac.signal })
    setTimeout(() => ac.abort(), 200)
    await expect(running).rejects.toMatchObject({ name: 'AbortError' })
    expect(Date.now() - t).toBeLessThan(2000)
    const after = await p.run<{ threadId: number }>(FIXTURE, 'spin', 1)
    expect(after.threadId).not.toBe(first.threadId)
    expect(p.stats()).toMatchObject({ threads: 1, busy: 0, queued: 0 })
  })

  it('queues tasks beyond its size and drops a queued task when aborted', async () => {
    const p = pool(1)
    const busy = p.run<{ threadId: number }>(FIXTURE, 'spin', 300)
    const ac = new AbortController()
    const queued = p.run(FIXTURE, 'spin', 300, { signal: ac.signal })
    const third = p.run<{ threadId: number }>(FIXTURE, 'spin', 10)
    expect(p.stats()).toMatchObject({ busy: 1, queued: 2 })
    ac.abort(new Error('not needed any more'))
    await expect(queued).rejects.toThrow('not needed any more')
    const [a, c] = await Promise.all([busy, third])
    // The busy thread was not touched: the third task ran on the same thread after it.
    expect(c.threadId).toBe(a.threadId)
  })

  it('runs tasks in parallel up to its size', async () => {
    const p = pool(2)
    await Promise.all([p.run(FIXTURE, 'spin', 1), p.run(FIXTURE, 'spin', 1)]) // warm both threads
    type Spin = { threadId: number; startedAt: number; endedAt: number }
    const [x, y] = await Promise.all([p.run<Spin>(FIXTURE, 'spin', 400), p.run<Spin>(FIXTURE, 'spin', 400)])
    expect(x.threadId).not.toBe(y.threadId)
    // Both busy loops were running at the same time.
    expect(x.startedAt < y.endedAt && y.startedAt < x.endedAt).toBe(true)
  })

  it('brings a thrown error back with its name and message', async () => {
    await expect(pool(1).run(FIXTURE, 'fail', 'bad input')).rejects.toMatchObject({ name: 'RangeError', message: 'bad input' })
  })

  it('moves transferred buffers instead of copying them', async () => {
    const data = Float64Array.from({ length: 100_000 }, (_, i) => i)
    const buf = data.buffer
    const sum = await pool(1).run<number>(FIXTURE, 'sumFloat64', buf, { transfer: [buf] })
    expect(sum).toBe((99_999 * 100_000) / 2)
    expect(buf.byteLength).toBe(0)
  })

  it('refuses relative module paths and reports a missing export', async () => {
    const p = pool(1)
    await expect(p.run('./thread-pool.fixture.ts', 'spin', 1)).rejects.toThrow(/absolute path/)
    await expect(p.run(FIXTURE, 'nope', 1)).rejects.toThrow(/exports no function 'nope'/)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const ac = new AbortController()
    ac.abort()
    await expect(pool(1).run(FIXTURE, 'spin', 1, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' })
  })
})

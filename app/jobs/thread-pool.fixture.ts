import { threadId } from 'node:worker_threads'

/** CPU-bound work for the thread pool's tests: counts primes below n by trial division. */
export function countPrimes(n: number, ctx?: { progress(value: unknown): void }) {
  let count = 0
  for (let i = 2; i < n; i++) {
    let prime = true
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false
        break
      }
    }
    if (prime) count++
    if (ctx && i % Math.max(1, Math.floor(n / 4)) === 0) ctx.progress(Math.round((i / n) * 100))
  }
  return { count, threadId }
}

/** Busy-waits for ms milliseconds (blocks its thread, as a training loop would). */
export function spin(ms: number) {
  const startedAt = Date.now()
  const end = startedAt + ms
  let x = 0
  while (Date.now() < end) x++
  return { threadId, x, startedAt, endedAt: Date.now() }
}

export function sumFloat64(buf: ArrayBuffer) {
  const a = new Float64Array(buf)
  let s = 0
  for (const v of a) s += v
  return s
}

export function fail(message: string) {
  throw new RangeError(message)
}

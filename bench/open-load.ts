/** Load shapes the HTTP benches share (bench/ops.ts, bench/inference.ts, bench/marketplace.ts). */

/** The p-th percentile (nearest rank) of xs. */
export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

/**
 * Open-model load: arrival i leaves at start + i / rate whatever the earlier answers do, so a slow answer never holds
 * back the next arrival (autocannon's overallRate fires its connections in lock-step once per tick, which measures its
 * own bursts). `send(i)` makes request i and reads its answer whole, returning the status; latency = send to last
 * byte. A thrown error counts as a non-2xx.
 */
export async function openLoad(rate: number, seconds: number, send: (i: number) => Promise<number>) {
  const total = Math.round(rate * seconds)
  const lat: number[] = []
  let non2xx = 0
  const started = performance.now()
  const inflight: Promise<void>[] = []
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    inflight.push(
      (async () => {
        const s = performance.now()
        try {
          const status = await send(i)
          if (status < 200 || status >= 300) non2xx++
        } catch {
          non2xx++
        }
        lat.push(performance.now() - s)
      })(),
    )
  }
  await Promise.all(inflight)
  const rps = total / ((performance.now() - started) / 1000)
  return { p50: pct(lat, 50), p95: pct(lat, 95), p99: pct(lat, 99), max: Math.max(...lat), rps, total, non2xx }
}

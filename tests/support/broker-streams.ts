import { expect } from 'vitest'
import { STREAM_COLUMNS, type StreamRow } from '#app/features/streams/apply.server.ts'
import { json, type TestApp, type TestTenant } from './app.ts'
import { expectedWindows, seeded, type Ev } from './streams.ts'

/**
 * What the broker source tests (Redis Streams, NATS JetStream) share: a stream of that source made through the API,
 * generated events, waiting for the metrics to count them, and the windows held to the test-side computation.
 * `ctx` is read when a helper runs (the app and tenant are made in beforeAll).
 */
export function brokerStreams(source: 'redis' | 'nats', ctx: () => { app: TestApp; tenant: TestTenant }) {
  const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)
  const keyPrefix = source === 'redis' ? 'hotdash:stream:' : 'hotdash.stream.'
  const created: string[] = []

  async function newStream(name: string) {
    const { app, tenant } = ctx()
    const r = await json(
      app.fetch('/api/v1/stream/create', {
        method: 'POST',
        headers: tenant.data_scientist.auth,
        json: { stream_name: name, source: { type: source }, analytics: { window: '10s', aggregations: ['count', 'sum', 'min', 'max'], group_by: ['region'], allowed_lateness: '1h' } },
      }),
    )
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    const key: string = source === 'redis' ? r.body.source.stream_key : r.body.source.subject
    expect(key).toBe(`${keyPrefix}${r.body.stream_id}`)
    created.push(source === 'redis' ? key : r.body.stream_id)
    const { rows } = await app.db.query<StreamRow>(`select ${STREAM_COLUMNS} from public.streams s where s.id = $1`, [r.body.stream_id])
    return { id: r.body.stream_id as string, key, row: rows[0] }
  }

  /** n events over two minutes from T0, two regions, values with one decimal. */
  function events(n: number, seed: number): Ev[] {
    const r = seeded(seed)
    return Array.from({ length: n }, (_, i) => ({ timestamp: T0 + Math.floor(r() * 120_000), value: Math.round(r() * 1000) / 10, region: ['eu', 'us'][i % 2] }))
  }

  async function metrics(id: string) {
    const { app, tenant } = ctx()
    return (await json(app.fetch(`/api/v1/stream/${id}/metrics`, { headers: tenant.viewer.auth }))).body
  }

  async function waitProcessed(id: string, n: number, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs
    let last = -1
    while (Date.now() < deadline) {
      const m = await metrics(id)
      last = m.metrics.events_processed
      if (last >= n) return m
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`stream ${id}: ${last} of ${n} events after ${timeoutMs} ms`)
  }

  async function expectExact(id: string, evs: Ev[]) {
    const { app, tenant } = ctx()
    const w = await json(app.fetch(`/api/v1/stream/${id}/windows?limit=5000`, { headers: tenant.viewer.auth }))
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

  /** Redis: the stream keys made; NATS: the stream ids (their consumers are dropped by id). */
  return { newStream, events, metrics, waitProcessed, expectExact, created }
}

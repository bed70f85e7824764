import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'
import { apiKeyHeaders } from '#tests/support/analytics-data.ts'
import { exactP95, expectedWindows, readSse, seeded, type Ev } from '#tests/support/streams.ts'
import { robustZ } from '#app/features/streams/windows.ts'

/** Real-time streams over the http source: window math against a test-side computation, anomalies, metrics, SSE, scopes, tenants. */

let app: TestApp
let a: TestTenant
let b: TestTenant

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
})
afterAll(() => app.close())

const create = (body: unknown, headers: Record<string, string> = a.data_scientist.auth) => json(app.fetch('/api/v1/stream/create', { method: 'POST', headers, json: body }))
const send = (id: string, events: unknown[], headers: Record<string, string> = a.data_scientist.auth) =>
  json(app.fetch(`/api/v1/stream/${id}/events`, { method: 'POST', headers, json: { events } }))
const get = (path: string, headers: Record<string, string> = a.viewer.auth) => json(app.fetch(path, { headers }))

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)
const ALL = ['count', 'sum', 'avg', 'min', 'max', 'p95'] as const

/** Events over ~3 minutes, mostly in order with jitter up to 4 s back and a few far-late ones. */
function makeEvents(n: number, seed: number): Ev[] {
  const r = seeded(seed)
  const out: Ev[] = []
  for (let i = 0; i < n; i++) {
    let t = T0 + Math.floor((i / n) * 180_000) - Math.floor(r() * 4000)
    if (r() < 0.01) t -= 30_000
    out.push({ timestamp: t, value: Math.round((r() * 200 - 20) * 100) / 100, region: ['eu', 'us', 'apac'][Math.floor(r() * 3)] })
  }
  return out
}

async function sendAll(id: string, events: Ev[], batch = 250) {
  for (let i = 0; i < events.length; i += batch) {
    const r = await send(id, events.slice(i, i + batch))
    expect(r.status, JSON.stringify(r.body)).toBe(200)
  }
}

function checkWindows(got: any[], events: Ev[], opts: { size: number; slide?: number; lateness: number; groupBy?: boolean }) {
  const exp = expectedWindows(events, opts)
  expect(got).toHaveLength(exp.windows.length)
  const byId = new Map(got.map((w) => [`${Date.parse(w.window_start)}|${w.series_key}`, w]))
  const watermark = exp.newest - opts.lateness
  for (const e of exp.windows) {
    const w = byId.get(`${e.start}|${e.key}`)
    expect(w, `window ${new Date(e.start).toISOString()} ${e.key}`).toBeDefined()
    expect(Date.parse(w.window_end) - Date.parse(w.window_start)).toBe(opts.size)
    const v = e.values
    expect(w.values.count).toBe(v.length)
    const sum = v.reduce((s, x) => s + x, 0)
    expect(w.values.sum).toBeCloseTo(sum, 6)
    expect(w.values.avg).toBeCloseTo(sum / v.length, 8)
    expect(w.values.min).toBe(Math.min(...v))
    expect(w.values.max).toBe(Math.max(...v))
    const p = exactP95(v)
    expect(Math.abs(w.values.p95 - p)).toBeLessThanOrEqual(0.01 * Math.abs(p) + 1e-9)
    expect(w.closed).toBe(e.start + opts.size <= watermark)
    if (opts.groupBy) expect(w.key).toEqual({ region: JSON.parse(e.key)[0] })
  }
  return exp
}

describe('http source: windows', () => {
  it('creates a stream in the spec shape', async () => {
    const r = await create({ stream_name: 'sales_events', source: { type: 'http' }, analytics: { window: '5m', aggregations: ['count', 'sum', 'avg'] } })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    expect(r.body.status).toBe('success')
    expect(r.body.stream_id).toMatch(/^stream_[0-9a-f]{16}$/)
    expect(r.body.websocket_url).toBe(`ws://hotdash.test/api/v1/stream/${r.body.stream_id}/ws`)
    expect(r.body.stream_status).toBe('active')
    const m = await get(`/api/v1/stream/${r.body.stream_id}/metrics`)
    expect(m.status).toBe(200)
    expect(m.body).toMatchObject({ stream_id: r.body.stream_id, status: 'running', metrics: { events_processed: 0, events_per_second: 0, avg_latency_ms: 0, anomalies_detected: 0 } })
    expect(Date.parse(m.body.last_updated)).toBeGreaterThan(0)
    // the same name twice is a conflict
    const again = await create({ stream_name: 'sales_events', source: { type: 'http' }, analytics: { window: '5m', aggregations: ['count'] } })
    expect(again.status).toBe(409)
  })

  it('tumbling windows per key with bounded lateness match a test-side computation', async () => {
    const r = await create({
      stream_name: 'tumbling',
      source: { type: 'http' },
      analytics: { window: '30s', aggregations: ALL, group_by: ['region'], allowed_lateness: '2s', anomaly: { enabled: false } },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    const id = r.body.stream_id
    const events = makeEvents(3000, 11)
    await sendAll(id, events)
    const w = await get(`/api/v1/stream/${id}/windows?limit=5000`)
    expect(w.status).toBe(200)
    const exp = checkWindows(w.body.windows, events, { size: 30_000, lateness: 2000, groupBy: true })
    expect(exp.late).toBeGreaterThan(0)
    const m = await get(`/api/v1/stream/${id}/metrics`)
    expect(m.body.metrics.events_processed).toBe(events.length)
    expect(m.body.metrics.late_events).toBe(exp.late)
    expect(m.body.metrics.events_per_second).toBeGreaterThan(0)
    expect(m.body.metrics.avg_latency_ms).toBeGreaterThanOrEqual(0)
    expect(m.body.metrics.watermark).toBe(new Date(exp.newest - 2000).toISOString())
  })

  it('sliding windows (1m sliding by 20s) match a test-side computation', async () => {
    const r = await create({
      stream_name: 'sliding',
      source: { type: 'http' },
      analytics: { window: '1m', type: 'sliding', slide: '20s', aggregations: ALL, allowed_lateness: '0s', anomaly: { enabled: false } },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(201)
    const events = makeEvents(1500, 5)
    await sendAll(r.body.stream_id, events, 500)
    const w = await get(`/api/v1/stream/${r.body.stream_id}/windows?limit=5000`)
    checkWindows(w.body.windows, events, { size: 60_000, slide: 20_000, lateness: 0 })
  })
})

describe('http source: anomalies and live output', () => {
  it('flags a window whose sum is far from the recent windows (robust z-score), stores and counts it', async () => {
    const r = await create({
      stream_name: 'anomalies',
      source: { type: 'http' },
      analytics: { window: '10s', aggregations: ['count', 'sum'], allowed_lateness: '0s', anomaly: { aggregation: 'sum', threshold: 3.5, history: 10, min_history: 5 } },
    })
    const id = r.body.stream_id
    const events: Ev[] = []
    for (let win = 0; win < 14; win++) {
      for (let j = 0; j < 10; j++) events.push({ timestamp: T0 + win * 10_000 + j * 900, value: win === 11 ? 100 : 10 + (j % 3) * 0.1 + (win % 4) * 0.05 })
    }
    events.push({ timestamp: T0 + 14 * 10_000, value: 1 }) // closes window 13
    await sendAll(id, events, 37)
    const an = await get(`/api/v1/stream/${id}/anomalies`)
    expect(an.status).toBe(200)
    expect(an.body.anomalies, JSON.stringify(an.body.anomalies)).toHaveLength(1)
    const found = an.body.anomalies[0]
    expect(found.window_start).toBe(new Date(T0 + 11 * 10_000).toISOString())
    // test-side: the sums of the 10 windows before it
    const sums = Array.from({ length: 14 }, (_, k) => events.filter((e) => e.timestamp >= T0 + k * 10_000 && e.timestamp < T0 + (k + 1) * 10_000).reduce((s, e) => s + e.value, 0))
    const expected = robustZ(sums[11], sums.slice(1, 11), 3.5)
    expect(found.value).toBeCloseTo(sums[11], 8)
    expect(found.median).toBeCloseTo(expected.median, 8)
    expect(found.z_score).toBeCloseTo(expected.z!, 6)
    expect(found.history_size).toBe(10)
    // the windows after the spike see it in their history but are not flagged (the median is robust)
    const m = await get(`/api/v1/stream/${id}/metrics`)
    expect(m.body.metrics.anomalies_detected).toBe(1)
  })

  it('SSE: a snapshot, then the update of a batch posted while listening', async () => {
    const r = await create({ stream_name: 'live', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count', 'sum'] } })
    const id = r.body.stream_id
    await sendAll(id, [{ timestamp: T0, value: 1 }])
    const controller = new AbortController()
    const res = await app.fetch(`/api/v1/stream/${id}/live`, { headers: a.viewer.auth, signal: controller.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reading = readSse(res, (type, data) => type === 'update' && data.metrics.events_processed === 3)
    await new Promise((ok) => setTimeout(ok, 100))
    await sendAll(id, [{ timestamp: T0 + 1000, value: 2 }, { timestamp: T0 + 2000, value: 3 }])
    const seen = await reading
    controller.abort()
    expect(seen[0].type).toBe('snapshot')
    expect(seen[0].data.windows).toHaveLength(1)
    expect(seen[0].data.windows[0].values).toEqual({ count: 1, sum: 1 })
    const update = seen.at(-1)!.data
    expect(update.windows).toHaveLength(1)
    expect(update.windows[0].values).toEqual({ count: 3, sum: 6 })
  })
})

describe('http source: bad input, scopes, tenants', () => {
  let id: string
  beforeAll(async () => {
    const r = await create({ stream_name: 'guarded', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['sum', 'p95'], group_by: ['region'] } })
    id = r.body.stream_id
  })

  it.each([
    [{ source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count'] } }, 'stream_name'],
    [{ stream_name: 'x', source: { type: 'ftp' }, analytics: { window: '1m', aggregations: ['count'] } }, 'source.type'],
    [{ stream_name: 'x', source: { type: 'http' }, analytics: { window: 'soon', aggregations: ['count'] } }, 'analytics.window'],
    [{ stream_name: 'x', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['median'] } }, 'analytics.aggregations.0'],
    [{ stream_name: 'x', source: { type: 'http' }, analytics: { window: '1m', aggregations: [] } }, 'analytics.aggregations'],
    [{ stream_name: 'x', source: { type: 'http' }, analytics: { window: '1m', type: 'sliding', aggregations: ['count'] } }, 'analytics.slide'],
    [{ stream_name: 'x', source: { type: 'http' }, analytics: { window: '1m', type: 'sliding', slide: '500ms', aggregations: ['count'] } }, 'analytics.slide'],
    [{ stream_name: 'x', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count'], anomaly: { aggregation: 'sum' } } }, 'analytics.anomaly.aggregation'],
    [{ stream_name: 'x', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count'], colour: 'red' } }, 'analytics'],
    [{ stream_name: 'x', source: { type: 'kafka', topic: 'transactions', brokers: ['broker1:9092'] }, analytics: { window: '1m', aggregations: ['count'] } }, 'source'],
  ])('create %# → 400 naming %s', async (body, field) => {
    const before = await get('/api/v1/stream/list', a.admin.auth)
    const r = await create(body)
    expect(r.status, JSON.stringify(r.body)).toBe(400)
    expect(r.body.status).toBe('error')
    expect(r.body.error.code).toBe('VALIDATION_ERROR')
    expect(JSON.stringify(r.body.error.details)).toContain(`"${field}`)
    expect((await get('/api/v1/stream/list', a.admin.auth)).body.total).toBe(before.body.total)
  })

  it.each([
    [[{ timestamp: T0, value: 1, region: 'eu' }, { timestamp: 'yesterday', value: 1, region: 'eu' }], 'events[1].timestamp'],
    [[{ timestamp: T0, value: '12', region: 'eu' }], 'events[0].value'],
    [[{ timestamp: T0, value: 1 }], 'events[0].region'],
    [[{ timestamp: T0, value: 1, region: { a: 1 } }], 'events[0].region'],
    [[], 'events'],
    [['not an object'], 'events.0'],
  ])('events %# → 400 naming %s, nothing applied', async (events, field) => {
    const r = await send(id, events)
    expect(r.status, JSON.stringify(r.body)).toBe(400)
    expect(r.body.error.details.fields.map((f: { field: string }) => f.field)).toContain(field)
    const m = await get(`/api/v1/stream/${id}/metrics`)
    expect(m.body.metrics.events_processed).toBe(0)
  })

  it('a malformed stream id is a 400, an unknown one a 404', async () => {
    expect((await get('/api/v1/stream/nope/metrics')).status).toBe(400)
    expect((await get('/api/v1/stream/stream_0000000000000000/metrics')).status).toBe(404)
  })

  it('API keys: analytics.read reads but cannot create a stream or send events; analytics.write can', async () => {
    const read = await apiKeyHeaders(app, a.admin, ['analytics.read'])
    const write = await apiKeyHeaders(app, a.admin, ['analytics.write'])
    const denied = await create({ stream_name: 'by-key', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count'] } }, read)
    expect(denied.status).toBe(403)
    expect(denied.body.error.code).toBe('FORBIDDEN')
    expect((await send(id, [{ timestamp: T0, value: 1, region: 'eu' }], read)).status).toBe(403)
    expect((await get(`/api/v1/stream/${id}/metrics`, read)).status).toBe(200)
    const made = await create({ stream_name: 'by-key', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count'] } }, write)
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    expect((await send(made.body.stream_id, [{ timestamp: T0 }], write)).status).toBe(200)
    // a viewer (analytics.read) cannot create either
    expect((await create({ stream_name: 'by-viewer', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count'] } }, a.viewer.auth)).status).toBe(403)
  })

  it("another tenant's stream is a 404 everywhere and absent from its list", async () => {
    for (const p of ['metrics', 'windows', 'anomalies', 'live', '']) expect((await get(`/api/v1/stream/${id}${p ? '/' + p : ''}`, b.admin.auth)).status).toBe(404)
    expect((await send(id, [{ timestamp: T0, value: 1, region: 'eu' }], b.admin.auth)).status).toBe(404)
    expect((await json(app.fetch(`/api/v1/stream/${id}`, { method: 'DELETE', headers: b.admin.auth }))).status).toBe(404)
    const list = await get('/api/v1/stream/list', b.admin.auth)
    expect(list.body.streams).toEqual([])
    // rows are invisible to the other tenant in SQL too (RLS)
    const rows = await app.db.transaction(async (tx) => {
      await tx.query(`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [
        JSON.stringify({ sub: b.admin.userId, role: 'authenticated', app_metadata: { tenant_id: b.id, roles: ['admin'] } }),
      ])
      return (await tx.query(`select (select count(*) from public.streams) s, (select count(*) from public.stream_windows) w`)).rows[0]
    })
    expect(rows).toEqual({ s: 0, w: 0 })
  })

  it('deleting a stream removes it with its windows', async () => {
    const r = await create({ stream_name: 'doomed', source: { type: 'http' }, analytics: { window: '1m', aggregations: ['count'] } })
    await sendAll(r.body.stream_id, [{ timestamp: T0, value: 1 }])
    expect((await json(app.fetch(`/api/v1/stream/${r.body.stream_id}`, { method: 'DELETE', headers: a.viewer.auth }))).status).toBe(403)
    expect((await json(app.fetch(`/api/v1/stream/${r.body.stream_id}`, { method: 'DELETE', headers: a.data_scientist.auth }))).status).toBe(204)
    expect((await get(`/api/v1/stream/${r.body.stream_id}`)).status).toBe(404)
    const { rows } = await app.db.query(`select count(*)::int as n from public.stream_windows where stream_id = $1`, [r.body.stream_id])
    expect(rows[0].n).toBe(0)
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asCaller, type Claims, type Sql } from '#app/db/db.server.ts'
import { generateOpsData, insertOpsData, type OpsData } from '#app/demo/ops.server.ts'
import { seededRandom } from '#app/demo/random.ts'
import { getActiveAnomalies, getDashboardSummary, getHourlyTrends } from '#app/features/ops/dashboard.server.ts'
import { getAgentAccuracy, getAgentSummary, getQueueMetrics, getTrainingQuality } from '#app/features/ops/agent-metrics.server.ts'
import { setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/*
  Every number of the analytics functions checked against an independent TypeScript computation over the generated
  raw records (not the SQL), at a fixed "now" so the data and the windows are deterministic.

  The whole file runs with the session TimeZone America/New_York, whose daylight-saving change (2026-03-08 07:00 UTC)
  lies inside every window here (the 168-hour trends, the 30-day queue metrics, the detector's 8 baseline weeks): the
  answers must be the UTC ones whatever TimeZone a customer's Postgres has (issue 15.1).
*/

const HOUR = 3_600_000
const NOW = new Date('2026-03-11T15:25:00Z')
const END = Math.floor(NOW.getTime() / HOUR) * HOUR

let app: TestApp
let a: TestTenant
let b: TestTenant
let quiet: TestTenant
let data: OpsData
let quietData: OpsData

const claimsOf = (t: TestTenant, user = t.viewer, role = 'viewer'): Claims => ({
  sub: user.userId,
  role: 'authenticated',
  app_metadata: { tenant_id: t.id, roles: [role] },
})
const as = <T,>(t: TestTenant, fn: (tx: Sql) => Promise<T>) => asCaller(app.db, claimsOf(t), fn)

beforeAll(async () => {
  app = await setupTestApp({ timeZone: 'America/New_York' })
  ;[a, b, quiet] = await Promise.all([app.createTenant(), app.createTenant(), app.createTenant()])
  data = generateOpsData(seededRandom(7), NOW, { days: 50 })
  quietData = generateOpsData(seededRandom(8), NOW, { days: 50, incidents: false, profile: { baseRate: 6, avgOrderValue: 120 } })
  await insertOpsData(app.db, a.id, data)
  await insertOpsData(app.db, quiet.id, quietData)
  // tenant b: a little data of its own, with very different numbers
  await insertOpsData(app.db, b.id, generateOpsData(seededRandom(9), NOW, { days: 3, incidents: false, profile: { baseRate: 1, avgOrderValue: 10 } }))
  await app.db.query(`select analytics.refresh_views()`)
}, 120_000)
afterAll(() => app?.close())

// ------------------------------------------------------------------ reference computations
// The definitions of the API reference: a cancelled order is no order; a refunded one is an order placed (and makes
// its customer active) with no revenue and nothing to fulfil.
const counted = (d: OpsData) => d.orders.filter((o) => o.status !== 'cancelled')
const inRange = (t: Date, from: number, to: number) => t.getTime() >= from && t.getTime() < to
// numeric rounding in Postgres is half away from zero
const r1 = (x: number) => (Math.sign(x) * Math.round(Math.abs(x) * 10)) / 10
const r2 = (x: number) => (Math.sign(x) * Math.round(Math.abs(x) * 100)) / 100
const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null)

function firstOrderAt(d: OpsData) {
  const first = new Map<number, number>()
  for (const o of counted(d)) {
    const t = o.created_at.getTime()
    if (!first.has(o.customer) || t < first.get(o.customer)!) first.set(o.customer, t)
  }
  return first
}

const firstHour = (d: OpsData) => Math.floor(Math.min(...counted(d).map((o) => o.created_at.getTime())) / HOUR) * HOUR

function windowStats(d: OpsData, from: number, to: number) {
  const os = counted(d).filter((o) => inRange(o.created_at, from, to))
  const kept = os.filter((o) => o.status !== 'refunded')
  const first = firstOrderAt(d)
  const active = new Set(os.map((o) => o.customer))
  const fresh = [...active].filter((c) => first.get(c)! >= from && first.get(c)! < to)
  return {
    orders: os.length,
    refunded: os.length - kept.length,
    revenue: kept.reduce((s, o) => s + o.total_price, 0),
    fulfilled: kept.filter((o) => o.fulfillment_status === 'fulfilled').length,
    pending: kept.filter((o) => o.fulfillment_status !== 'fulfilled').length,
    active: active.size,
    fresh: fresh.length,
    sessions: d.sessions.filter((s) => inRange(s.started_at, from, to)).length,
  }
}

// ------------------------------------------------------------------ tests
describe('dashboard summary', () => {
  it('matches the raw orders', async () => {
    const s = await as(a, (tx) => getDashboardSummary(tx, { now: NOW }))
    const last = windowStats(data, END - HOUR, END)
    const day = windowStats(data, END - 24 * HOUR, END)
    const prev = windowStats(data, END - 48 * HOUR, END - 24 * HOUR)
    expect(s.orders_last_hour).toBe(last.orders)
    expect(s.revenue_last_hour).toBeCloseTo(last.revenue, 2)
    expect(s.orders_last_24h).toBe(day.orders)
    expect(s.revenue_last_24h).toBeCloseTo(day.revenue, 2)
    expect(Math.abs(s.avg_order_value_24h! - day.revenue / (day.orders - day.refunded))).toBeLessThanOrEqual(0.0051)
    expect(s.orders_prev_24h).toBe(prev.orders)
    expect(s.revenue_prev_24h).toBeCloseTo(prev.revenue, 2)
    expect(Math.abs(s.avg_order_value_prev_24h! - prev.revenue / (prev.orders - prev.refunded))).toBeLessThanOrEqual(0.0051)
    expect(s.fulfillment_rate_24h).toBeCloseTo(r1((100 * day.fulfilled) / (day.fulfilled + day.pending)), 1)
    expect(s.orders_pending_24h).toBe(day.pending)
    expect(s.orders_refunded_24h).toBe(day.refunded)
    expect(s.active_customers_24h).toBe(day.active)
    expect(s.new_customers_24h).toBe(day.fresh)
    expect(s.returning_customers_24h).toBe(day.active - day.fresh)
    expect(new Date(s.last_updated).getTime()).toBeGreaterThan(0)
  })

  it('gives nulls, not NaN or errors, for a tenant without orders', async () => {
    const empty = await app.createTenant()
    const s = await as(empty, (tx) => getDashboardSummary(tx, { now: NOW }))
    expect(s).toMatchObject({ orders_last_24h: 0, revenue_last_24h: 0, avg_order_value_24h: null, fulfillment_rate_24h: null, active_customers_24h: 0 })
  })
})

describe('hourly trends', () => {
  it('matches the raw orders hour by hour, with hour-over-hour changes', async () => {
    const rows = await as(a, (tx) => getHourlyTrends(tx, { hours: 48, now: NOW }))
    expect(rows).toHaveLength(48)
    const first = firstOrderAt(data)
    for (const [i, r] of rows.entries()) {
      const h = END - (i + 1) * HOUR
      expect(new Date(r.hour_start).getTime()).toBe(h)
      const w = windowStats(data, h, h + HOUR)
      const p = windowStats(data, h - HOUR, h)
      const os = counted(data).filter((o) => inRange(o.created_at, h, h + HOUR))
      const fresh = new Set(os.filter((o) => first.get(o.customer)! >= h).map((o) => o.customer)).size
      expect(r.total_orders).toBe(w.orders)
      expect(r.orders_refunded).toBe(w.refunded)
      expect(r.total_revenue).toBeCloseTo(w.revenue, 2)
      expect(r.orders_fulfilled).toBe(w.fulfilled)
      expect(r.orders_pending).toBe(w.pending)
      expect(r.active_customers).toBe(w.active)
      expect(r.new_customers).toBe(fresh)
      expect(r.returning_customers).toBe(w.active - fresh)
      expect(r.total_sessions).toBe(w.sessions)
      if (w.fulfilled + w.pending) expect(r.fulfillment_rate_pct).toBeCloseTo(r1((100 * w.fulfilled) / (w.fulfilled + w.pending)), 1)
      else expect(r.fulfillment_rate_pct).toBeNull()
      if (w.orders - w.refunded) expect(Math.abs(r.avg_order_value! - w.revenue / (w.orders - w.refunded))).toBeLessThanOrEqual(0.0051)
      else expect(r.avg_order_value).toBeNull()
      if (p.orders) expect(r.orders_hoh_pct_change).toBeCloseTo(r1((100 * (w.orders - p.orders)) / p.orders), 1)
      else expect(r.orders_hoh_pct_change).toBeNull()
      if (p.revenue) expect(r.revenue_hoh_pct_change).toBeCloseTo(r1((100 * (w.revenue - p.revenue)) / p.revenue), 0)
      else expect(r.revenue_hoh_pct_change).toBeNull()
    }
  })

  it('clamps hours to 1..168', async () => {
    expect(await as(a, (tx) => getHourlyTrends(tx, { hours: 500, now: NOW }))).toHaveLength(168)
    expect(await as(a, (tx) => getHourlyTrends(tx, { hours: 0, now: NOW }))).toHaveLength(1)
  })
})

describe('anomaly detection', () => {
  it('finds every injected incident with the spec fields', async () => {
    const found = await as(a, (tx) => getActiveAnomalies(tx, { now: NOW }))
    const expectType = { outage: 'low_order_volume', revenue_spike: 'revenue_spike', fulfillment_delay: 'fulfillment_rate_drop' } as const
    for (const inc of data.incidents) {
      const hit = found.find((f) => new Date(f.hour_start).getTime() === inc.hourStart.getTime() && f.anomaly_type === expectType[inc.kind])
      expect(hit, `${inc.kind} at ${inc.hourStart.toISOString()}`).toBeDefined()
      expect(['high', 'critical']).toContain(hit!.severity)
      expect(Object.keys(hit!)).toEqual(expect.arrayContaining(['hour_start', 'anomaly_type', 'deviation_pct', 'severity', 'total_orders',
        'avg_orders_24h', 'total_revenue', 'avg_revenue_24h', 'fulfillment_rate_pct', 'avg_fulfillment_24h']))
    }
    // nothing else fires: only the incident hours
    const incidentHours = new Set(data.incidents.map((i) => i.hourStart.getTime()))
    expect(found.filter((f) => !incidentHours.has(new Date(f.hour_start).getTime()))).toEqual([])
    // most severe first
    const rank = { critical: 0, high: 1, medium: 2 }
    expect(found.map((f) => rank[f.severity])).toEqual([...found.map((f) => rank[f.severity])].sort())
  })

  it("every alert's fields mean what their names say", async () => {
    const found = await as(a, (tx) => getActiveAnomalies(tx, { now: NOW }))
    expect(found.length).toBeGreaterThan(0)
    const day = windowStats(data, END - 24 * HOUR, END)
    const avgOrders = r1(day.orders / 24)
    const avgRevenue = r2(day.revenue / 24)
    const avgFulfillment = r1((100 * day.fulfilled) / (day.fulfilled + day.pending))
    for (const f of found) {
      const h = new Date(f.hour_start).getTime()
      const w = windowStats(data, h, h + HOUR)
      const rate = w.fulfilled + w.pending ? r1((100 * w.fulfilled) / (w.fulfilled + w.pending)) : null
      expect(f).toMatchObject({ total_orders: w.orders, avg_orders_24h: avgOrders, avg_revenue_24h: avgRevenue, avg_fulfillment_24h: avgFulfillment, fulfillment_rate_pct: rate })
      expect(f.total_revenue).toBeCloseTo(w.revenue, 2)
      // deviation_pct: against the 24 h average shown beside it, positive in the direction the type names
      const shown = { low_order_volume: [avgOrders, w.orders, -1], revenue_drop: [avgRevenue, f.total_revenue, -1], revenue_spike: [avgRevenue, f.total_revenue, 1], fulfillment_rate_drop: [avgFulfillment, rate!, -1] }[f.anomaly_type]
      expect(f.deviation_pct, f.anomaly_type).toBeCloseTo(r1((100 * shown[2] * (shown[1] - shown[0])) / shown[0]), 1)
      // the detector's fields on one scale, the metric's own
      const observed = { orders: w.orders, revenue: w.revenue, fulfillment_rate_pct: (100 * w.fulfilled) / (w.fulfilled + w.pending) }[f.metric]
      expect(f.observed_value).toBeCloseTo(observed, 2)
      expect(f.robust_z).toBeCloseTo((f.observed_value - f.expected) / f.scale, 1)
      expect(Math.abs(f.robust_z - (f.observed_value - f.expected) / f.scale)).toBeLessThan(0.02)
      if (f.metric === 'orders') {
        // expected is the mean of the same hour in the baseline weeks (here none is an outlier)
        const weekly = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => h - k * 168 * HOUR).filter((t) => t >= firstHour(data)).map((t) => windowStats(data, t, t + HOUR).orders)
        const sorted = [...weekly].sort((x, y) => x - y)
        const med = weekly.length % 2 ? sorted[weekly.length >> 1] : (sorted[weekly.length / 2 - 1] + sorted[weekly.length / 2]) / 2
        if (weekly.every((x) => Math.abs(x - med) <= 3 * Math.sqrt(Math.max(med, 1)))) expect(f.expected).toBeCloseTo(mean(weekly)!, 2)
        expect(f.baseline_weeks).toBe(weekly.length)
        expect(f.scale).toBeGreaterThanOrEqual(Math.sqrt(Math.max(f.expected, 1)) - 0.001) // never below the Poisson scale
      }
    }
  })

  it('stays quiet on normal seasonal data, night hours included: at most one false alarm in a week', async () => {
    const alerts = new Set<string>()
    await as(quiet, async (tx) => {
      for (let k = 0; k < 168; k += 7) {
        const now = new Date(NOW.getTime() - k * HOUR)
        for (const f of await getActiveAnomalies(tx, { now })) alerts.add(`${new Date(f.hour_start).toISOString()} ${f.anomaly_type}`)
      }
    })
    expect(alerts.size, [...alerts].join(', ')).toBeLessThanOrEqual(1)
  })

  it('detects a revenue drop when a busy shop goes down', async () => {
    const busy = await app.createTenant()
    const d = generateOpsData(seededRandom(11), NOW, { days: 44, profile: { baseRate: 25, avgOrderValue: 90 } })
    await insertOpsData(app.db, busy.id, d)
    await app.db.query(`select analytics.refresh_views()`)
    const outage = d.incidents.find((i) => i.kind === 'outage')!.hourStart.getTime()
    const found = await as(busy, (tx) => getActiveAnomalies(tx, { now: NOW }))
    const kinds = found.filter((f) => new Date(f.hour_start).getTime() === outage).map((f) => f.anomaly_type)
    expect(kinds).toEqual(expect.arrayContaining(['low_order_volume', 'revenue_drop']))
  }, 120_000)
})

describe('agent metrics', () => {
  const day = (t: Date) => t.toISOString().slice(0, 10)
  const today = NOW.toISOString().slice(0, 10)
  const daysBack = (n: number) => new Date(Date.parse(today) - (n - 1) * 86_400_000).toISOString().slice(0, 10)

  it('queue metrics by day match the raw queue items', async () => {
    const rows = await as(a, (tx) => getQueueMetrics(tx, { groupBy: 'day', days: 7, now: NOW }))
    const items = data.items.filter((i) => day(i.created_at) >= daysBack(7) && i.created_at <= NOW)
    const days = [...new Set(items.map((i) => day(i.created_at)))].sort().reverse()
    expect(rows.map((r: any) => r.day_bucket)).toEqual(days)
    for (const r of rows as any[]) {
      const its = items.filter((i) => day(i.created_at) === r.day_bucket)
      const decided = its.filter((i) => i.reviewed_at)
      expect(r.total_items).toBe(its.length)
      for (const s of ['pending', 'approved', 'rejected', 'edited']) expect(r[`${s}_count`]).toBe(its.filter((i) => i.status === s).length)
      for (const p of ['urgent', 'high', 'normal', 'low']) expect(r[`${p}_count`]).toBe(its.filter((i) => i.priority === p).length)
      expect(r.avg_confidence).toBeCloseTo(mean(its.map((i) => i.confidence))!, 2)
      expect(r.min_confidence).toBe(Math.min(...its.map((i) => i.confidence)))
      expect(r.max_confidence).toBe(Math.max(...its.map((i) => i.confidence)))
      const res = mean(decided.map((i) => (i.reviewed_at!.getTime() - i.created_at.getTime()) / 60_000))
      if (res === null) expect(r.avg_resolution_minutes).toBeNull()
      else expect(r.avg_resolution_minutes).toBeCloseTo(res, 1)
    }
  })

  it('queue metrics by hour sum to the same items', async () => {
    const rows = (await as(a, (tx) => getQueueMetrics(tx, { groupBy: 'hour', days: 2, now: NOW }))) as any[]
    const items = data.items.filter((i) => day(i.created_at) >= daysBack(2) && i.created_at <= NOW)
    expect(rows.reduce((s, r) => s + r.total_items, 0)).toBe(items.length)
    expect(rows[0]).toHaveProperty('hour_bucket')
    const h = new Date(rows[0].hour_bucket).getTime()
    expect(rows[0].total_items).toBe(items.filter((i) => inRange(i.created_at, h, h + HOUR)).length)
  })

  it('accuracy by agent type and day matches the raw queries, and filters by agent', async () => {
    const rows = (await as(a, (tx) => getAgentAccuracy(tx, { days: 3, now: NOW }))) as any[]
    const qs = data.queries.filter((q) => day(q.created_at) >= daysBack(3) && q.created_at <= NOW)
    expect(rows.reduce((s, r) => s + r.total_queries, 0)).toBe(qs.length)
    for (const r of rows) {
      const g = qs.filter((q) => q.agent_type === r.agent_type && day(q.created_at) === r.day_bucket)
      expect(r.total_queries).toBe(g.length)
      expect(r.approved_queries).toBe(g.filter((q) => q.approved).length)
      expect(r.human_edited_queries).toBe(g.filter((q) => q.human_edited).length)
      expect(r.approval_rate_pct).toBeCloseTo((100 * r.approved_queries) / g.length, 1)
      expect(r.edit_rate_pct).toBeCloseTo((100 * r.human_edited_queries) / g.length, 1)
      expect(r.avg_latency_ms).toBeCloseTo(mean(g.map((q) => q.latency_ms))!, 0)
      expect(r.max_latency_ms).toBe(Math.max(...g.map((q) => q.latency_ms)))
      const acc = mean(g.filter((q) => q.accuracy_score !== null).map((q) => q.accuracy_score!))
      if (acc === null) expect(r.avg_accuracy_score).toBeNull()
      else expect(r.avg_accuracy_score).toBeCloseTo(acc, 1)
      expect(r.safe_to_send_count).toBe(g.filter((q) => q.safe_to_send).length)
    }
    const only = (await as(a, (tx) => getAgentAccuracy(tx, { days: 3, agent: 'billing_assistant', now: NOW }))) as any[]
    expect(only.length).toBeGreaterThan(0)
    expect(only.every((r) => r.agent_type === 'billing_assistant')).toBe(true)
  })

  it('training quality by day matches the raw annotations', async () => {
    const rows = (await as(a, (tx) => getTrainingQuality(tx, { days: 7, now: NOW }))) as any[]
    const ex = data.examples.filter((e) => day(e.created_at) >= daysBack(7) && e.created_at <= NOW)
    expect(rows.reduce((s, r) => s + r.total_training_examples, 0)).toBe(ex.length)
    for (const r of rows) {
      const g = ex.filter((e) => day(e.created_at) === r.day_bucket)
      const tenths = g.map((e) => Math.round(10 * e.accuracy_score) + Math.round(10 * e.helpfulness_score) + Math.round(10 * e.tone_score))
      expect(r.total_training_examples).toBe(g.length)
      expect(r.safe_examples).toBe(g.filter((e) => e.safe_to_send).length)
      expect(r.unsafe_examples).toBe(g.filter((e) => !e.safe_to_send).length)
      expect(r.safety_rate_pct).toBeCloseTo((100 * r.safe_examples) / g.length, 1)
      expect(r.avg_accuracy).toBeCloseTo(mean(g.map((e) => e.accuracy_score))!, 1)
      expect(r.overall_quality_score).toBeCloseTo(mean(tenths.map((t) => t / 30))!, 1)
      expect(r.high_quality_rate_pct).toBeCloseTo((100 * tenths.filter((t) => t >= 120).length) / g.length, 1)
      expect(r.unique_annotators).toBe(new Set(g.map((e) => e.annotator)).size)
      expect(r.unique_categories).toBe(new Set(g.map((e) => e.category)).size)
      for (const s of ['positive', 'neutral', 'negative']) expect(r[`${s}_sentiment`]).toBe(g.filter((e) => e.sentiment === s).length)
      expect(r.avg_model_confidence).toBeCloseTo(mean(g.map((e) => e.model_confidence))!, 1)
      expect(r.avg_response_time_ms).toBeCloseTo(mean(g.map((e) => e.response_time_ms))!, 0)
    }
  })

  it('the 24 h agent summary matches the raw records', async () => {
    const s = await as(a, (tx) => getAgentSummary(tx, { now: NOW }))
    const from = END - 24 * HOUR
    const qs = data.queries.filter((q) => inRange(q.created_at, from, END))
    const created = data.items.filter((i) => inRange(i.created_at, from, END))
    const ex = data.examples.filter((e) => inRange(e.created_at, from, END))
    expect(s.time_period).toBe('last_24h')
    expect(s.pending_approvals).toBe(data.items.filter((i) => i.status === 'pending').length)
    expect(s.approvals_24h).toBe(data.items.filter((i) => ['approved', 'edited'].includes(i.status) && inRange(i.reviewed_at!, from, END)).length)
    expect(s.avg_confidence_24h).toBeCloseTo(mean(created.map((i) => i.confidence))!, 2)
    expect(s.queries_24h).toBe(qs.length)
    expect(s.avg_latency_24h).toBeCloseTo(mean(qs.map((q) => q.latency_ms))!, 0)
    expect(s.approved_queries_24h).toBe(qs.filter((q) => q.approved).length)
    expect(s.training_examples_24h).toBe(ex.length)
    expect(s.safe_examples_24h).toBe(ex.filter((e) => e.safe_to_send).length)
    expect(s.avg_accuracy_24h).toBeCloseTo(mean(ex.map((e) => e.accuracy_score))!, 2)
  })

  it('clamps days to 1..30', async () => {
    const rows = (await as(a, (tx) => getQueueMetrics(tx, { groupBy: 'day', days: 365, now: NOW }))) as any[]
    expect(rows).toHaveLength(30)
  })
})

describe('what a refund means (API reference: "Refunds")', () => {
  it('a refunded order is an order placed and an active customer, with no revenue and nothing to fulfil', async () => {
    const t = await app.createTenant()
    const at = (min: number) => new Date(END - 3 * HOUR + min * 60_000).toISOString()
    await app.db.query(`insert into public.customers (tenant_id, external_id) select $1, 'c' || g from generate_series(1, 5) g`, [t.id])
    // c1 paid+fulfilled 100, c2 paid+unfulfilled 50, c3 refunded+unfulfilled 70 (its only order), c4 refunded after fulfilment 30,
    // c5 payment pending 20, and a cancelled order of c1 (no order at all)
    const orders = [
      ['o1', 'c1', 'paid', 'fulfilled', 100, at(1)], ['o2', 'c2', 'paid', 'unfulfilled', 50, at(2)], ['o3', 'c3', 'refunded', 'unfulfilled', 70, at(3)],
      ['o4', 'c4', 'refunded', 'fulfilled', 30, at(4)], ['o5', 'c5', 'pending', 'unfulfilled', 20, at(5)], ['o6', 'c1', 'cancelled', 'unfulfilled', 999, at(6)],
    ]
    for (const [e, c, st, f, p, ts] of orders) {
      await app.db.query(
        `insert into public.orders (tenant_id, external_id, customer_id, status, fulfillment_status, total_price, created_at, fulfilled_at)
         select $1, $2, id, $4, $5, $6, $7, case when $5 = 'fulfilled' then $7::timestamptz end from public.customers where tenant_id = $1 and external_id = $3`,
        [t.id, e, c, st, f, p, ts],
      )
    }
    await app.db.query(`select analytics.refresh_views()`)
    const s = await as(t, (tx) => getDashboardSummary(tx, { now: NOW }))
    expect(s).toMatchObject({
      orders_last_24h: 5, // cancelled excluded, refunded included
      orders_refunded_24h: 2,
      revenue_last_24h: 170, // 100 + 50 + 20: refunded orders bring nothing
      avg_order_value_24h: r2(170 / 3), // over the orders that kept their revenue
      orders_pending_24h: 2, // o2 and o5; the refunded o3 will never ship
      fulfillment_rate_24h: r1((100 * 1) / 3), // o1 of {o1, o2, o5}
      active_customers_24h: 5, // c3 and c4 did order
      new_customers_24h: 5,
      returning_customers_24h: 0,
    })
    const [hour] = (await as(t, (tx) => getHourlyTrends(tx, { hours: 3, now: NOW }))).filter((r) => r.total_orders > 0)
    expect(hour).toMatchObject({ total_orders: 5, orders_refunded: 2, total_revenue: 170, orders_fulfilled: 1, orders_pending: 2, avg_order_value: r2(170 / 3), fulfillment_rate_pct: r1(100 / 3) })
    expect(hour.orders_fulfilled + hour.orders_pending + hour.orders_refunded).toBe(hour.total_orders)
  })
})

describe('one source: every summary figure as of last_updated', () => {
  it('an order placed between refreshes changes nothing until the next refresh, then everything at once', async () => {
    const t = await app.createTenant()
    await insertOpsData(app.db, t.id, generateOpsData(seededRandom(31), NOW, { days: 10, incidents: false, profile: { baseRate: 3 } }))
    await app.db.query(`select analytics.refresh_views()`)
    const before = await as(t, (tx) => getDashboardSummary(tx, { now: NOW }))
    const agentBefore = await as(t, (tx) => getAgentSummary(tx, { now: NOW }))
    // a brand-new customer's first order, and a new draft waiting for review, inside the window
    const inWindow = new Date(END - 2 * HOUR).toISOString()
    const { rows } = await app.db.query<{ id: number }>(`insert into public.customers (tenant_id, external_id) values ($1, 'newcomer') returning id`, [t.id])
    await app.db.query(
      `insert into public.orders (tenant_id, external_id, customer_id, total_price, created_at) values ($1, 'newcomer-1', $2, 42, $3)`,
      [t.id, rows[0].id, inWindow],
    )
    await app.db.query(`insert into public.approval_queue_items (tenant_id, external_id, agent_type, draft_reply, created_at) values ($1, 'd-new', 'order_status', 'Hi', $2)`, [t.id, inWindow])
    const between = await as(t, (tx) => getDashboardSummary(tx, { now: NOW }))
    expect(between).toEqual(before)
    expect(await as(t, (tx) => getAgentSummary(tx, { now: NOW }))).toEqual(agentBefore)

    await app.db.query(`select analytics.refresh_views()`)
    const after = await as(t, (tx) => getDashboardSummary(tx, { now: NOW }))
    expect(after).toMatchObject({
      orders_last_24h: before.orders_last_24h + 1,
      active_customers_24h: before.active_customers_24h + 1,
      new_customers_24h: before.new_customers_24h + 1,
      returning_customers_24h: before.returning_customers_24h,
    })
    expect(after.revenue_last_24h).toBeCloseTo(before.revenue_last_24h + 42, 2)
    expect(new Date(after.last_updated).getTime()).toBeGreaterThan(new Date(before.last_updated).getTime())
    expect((await as(t, (tx) => getAgentSummary(tx, { now: NOW }))).pending_approvals).toBe(agentBefore.pending_approvals + 1)
  })
})

describe('time zone independence', () => {
  const underZone = <T,>(zone: string, fn: (tx: Sql) => Promise<T>) =>
    as(a, async (tx) => {
      await tx.query(`select set_config('timezone', $1, true)`, [zone])
      return fn(tx)
    })
  const everything = async (tx: Sql) => ({
    summary: await getDashboardSummary(tx, { now: NOW }),
    trends: await getHourlyTrends(tx, { hours: 168, now: NOW }),
    anomalies: await getActiveAnomalies(tx, { now: NOW }),
    queueDay: await getQueueMetrics(tx, { groupBy: 'day', days: 30, now: NOW }),
    queueHour: await getQueueMetrics(tx, { groupBy: 'hour', days: 7, now: NOW }),
    accuracy: await getAgentAccuracy(tx, { days: 30, now: NOW }),
    quality: await getTrainingQuality(tx, { days: 30, now: NOW }),
    agent: await getAgentSummary(tx, { now: NOW }),
  })

  it('every function answers the same under UTC and America/New_York, across the daylight-saving change', async () => {
    const utc = await underZone('UTC', everything)
    for (const zone of ['America/New_York', 'Asia/Kolkata', 'Pacific/Chatham']) {
      expect(JSON.parse(JSON.stringify(await underZone(zone, everything))), zone).toEqual(JSON.parse(JSON.stringify(utc)))
    }
    // the injected outage (an hour of the last 24) is still found: its baseline weeks are exact 168-hour steps
    const outage = data.incidents.find((i) => i.kind === 'outage')!.hourStart.toISOString()
    expect(utc.anomalies.some((f) => new Date(f.hour_start).toISOString() === outage && f.anomaly_type === 'low_order_volume')).toBe(true)
  })

  it('30 days of queue metrics are 30 UTC days, each starting at 00:00 UTC', async () => {
    const { rows } = await as(a, (tx) => tx.query(`select bucket_start from analytics.get_queue_metrics('day', 30, $1::timestamptz)`, [NOW.toISOString()]))
    expect(rows).toHaveLength(30)
    for (const r of rows) expect(new Date(r.bucket_start).toISOString()).toMatch(/T00:00:00\.000Z$/)
  })
})

describe('tenant isolation and access', () => {
  it("each tenant sees only its own numbers", async () => {
    const sa = await as(a, (tx) => getDashboardSummary(tx, { now: NOW }))
    const sb = await as(b, (tx) => getDashboardSummary(tx, { now: NOW }))
    expect(sb.orders_last_24h).not.toBe(sa.orders_last_24h)
    expect(sb.revenue_last_24h).toBeLessThan(sa.revenue_last_24h / 10)
    const qb = await as(b, (tx) => getAgentSummary(tx, { now: NOW }))
    const qa = await as(a, (tx) => getAgentSummary(tx, { now: NOW }))
    expect(qb.queries_24h).toBeLessThan(qa.queries_24h)
    const rows = await as(b, (tx) => tx.query(`select count(*)::int as n from public.orders`))
    const own = await app.db.query(`select count(*)::int as n from public.orders where tenant_id = $1`, [b.id])
    expect(rows.rows[0].n).toBe(own.rows[0].n)
  })

  it('the materialized views are not readable by API roles', async () => {
    await expect(as(a, (tx) => tx.query(`select * from analytics_private.hourly_commerce limit 1`))).rejects.toThrow(/permission denied/)
  })

  it('a caller without analytics.read is refused by the functions', async () => {
    const claims: Claims = { sub: a.viewer.userId, role: 'authenticated', app_metadata: { tenant_id: a.id, roles: [], scopes: ['approvals.read'] } }
    await expect(asCaller(app.db, claims, (tx) => getDashboardSummary(tx, { now: NOW }))).rejects.toThrow(/analytics.read/)
    await expect(asCaller(app.db, { sub: a.viewer.userId, role: 'anon', app_metadata: {} }, (tx) => getDashboardSummary(tx))).rejects.toThrow()
  })
})

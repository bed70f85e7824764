import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openPostgres } from '#app/db/db.server.ts'
import { generateOpsData, insertOpsData } from '#app/demo/ops.server.ts'
import { seededRandom } from '#app/demo/random.ts'
import { refreshOpsViews } from '#app/features/ops/refresh.server.ts'
import { viewsGeneration } from '#app/features/ops/views-cache.server.ts'
import { callerCache } from '#app/features/auth/auth.server.ts'
import { resetAllRateLimits } from '#app/http/rate-limit.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/* The HD read endpoints' server cache (decision 018): keyed by tenant and parameters, versioned by the views' refresh
   generation and the hour, behind the same authentication, permission and rate-limit checks as before. */

const HOUR = 3_600_000
let app: TestApp
let a: TestTenant
let b: TestTenant

const READS = ['dashboard/summary', 'dashboard/trends', 'dashboard/anomalies', 'agent/queue', 'agent/accuracy', 'agent/quality', 'agent/summary']

/** Counts the caller transactions the app opens (every uncached read runs its SQL function in one); passes them through. */
function countTransactions() {
  const spy = vi.spyOn(app.db, 'transaction')
  return { get count() { return spy.mock.calls.length }, restore: () => spy.mockRestore() }
}

async function addOrder(tenant: string, total: number) {
  const at = new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR / 2).toISOString() // in the last complete hour
  const { rows } = await app.db.query<{ id: number }>(`insert into public.customers (tenant_id, external_id) values ($1, gen_random_uuid()::text) returning id`, [tenant])
  await app.db.query(`insert into public.orders (tenant_id, external_id, customer_id, total_price, created_at) values ($1, gen_random_uuid()::text, $2, $3, $4)`, [tenant, rows[0].id, total, at])
}

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  await insertOpsData(app.db, a.id, generateOpsData(seededRandom(5), new Date(), { days: 10, profile: { baseRate: 4 } }))
  await refreshOpsViews(app.db)
  await viewsGeneration(app.db).ready
}, 120_000)
afterAll(() => app?.close())

describe('HD read cache', () => {
  it.each(READS)('%s: a miss, then a hit with the same body and ETag; If-None-Match is a 304 without running SQL', async (path) => {
    resetAllRateLimits()
    const first = await app.fetch(`/api/v1/analytics/${path}`, { headers: a.viewer.auth })
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^W\/"ops-\d+\.\d+-[\w-]+"$/)
    const body = await first.text()
    const tx = countTransactions()
    try {
      const second = await app.fetch(`/api/v1/analytics/${path}`, { headers: a.viewer.auth })
      expect(second.headers.get('x-cache')).toBe('hit')
      expect(second.headers.get('etag')).toBe(etag)
      expect(await second.text()).toBe(body)
      const revalidated = await app.fetch(`/api/v1/analytics/${path}`, { headers: { ...a.viewer.auth, 'if-none-match': etag } })
      expect(revalidated.status).toBe(304)
      expect(await revalidated.text()).toBe('')
      expect(revalidated.headers.get('etag')).toBe(etag)
      expect(tx.count).toBe(0)
    } finally {
      tx.restore()
    }
  })

  it("a warm entry never reaches another tenant: same URL, other tenant's own answer and ETag", async () => {
    resetAllRateLimits()
    const mine = await json(app.fetch('/api/v1/analytics/dashboard/summary', { headers: a.viewer.auth }))
    expect(mine.body.orders_last_24h).toBeGreaterThan(0)
    const theirs = await json(app.fetch('/api/v1/analytics/dashboard/summary', { headers: b.viewer.auth }))
    expect(theirs.body.orders_last_24h).toBe(0)
    expect(theirs.headers.get('etag')).not.toBe(mine.headers.get('etag'))
    // tenant a's ETag sent by tenant b's caller is not theirs: a full answer, their own
    const probe = await json(app.fetch('/api/v1/analytics/dashboard/summary', { headers: { ...b.viewer.auth, 'if-none-match': mine.headers.get('etag')! } }))
    expect(probe.status).toBe(200)
    expect(probe.body.orders_last_24h).toBe(0)
    // and a service token acting for tenant b (X-Tenant-Id) gets b's entry, not a's
    const anomaliesA = await json(app.fetch('/api/v1/analytics/dashboard/anomalies', { headers: a.admin.auth }))
    const anomaliesB = await json(app.fetch('/api/v1/analytics/dashboard/anomalies', { headers: b.admin.auth }))
    expect(anomaliesB.body).toEqual([])
    expect(anomaliesB.headers.get('etag')).not.toBe(anomaliesA.headers.get('etag'))
  })

  it('a warm entry never reaches a caller without the permission, nor one without credentials', async () => {
    resetAllRateLimits()
    const t = await app.createTenant()
    const warm = await app.fetch('/api/v1/analytics/agent/summary', { headers: t.viewer.auth })
    expect(warm.status).toBe(200)
    const etag = warm.headers.get('etag')!
    expect((await app.fetch('/api/v1/analytics/agent/summary', { headers: t.viewer.auth })).headers.get('x-cache')).toBe('hit')
    expect((await app.fetch('/api/v1/analytics/agent/summary', { headers: { 'if-none-match': etag } })).status).toBe(401)
    // the tenant's viewers lose analytics.read: the very next request is refused, warm entry and valid ETag or not
    await app.db.query(
      `delete from public.role_permissions rp using public.roles r, public.permissions p
       where rp.role_id = r.id and rp.permission_id = p.id and r.tenant_id = $1 and r.name = 'viewer' and p.name = 'analytics.read'`,
      [t.id],
    )
    // made behind the app's back, as another machine would: the next request follows once it is heard
    await callerCache(app.db)?.sync()
    for (const headers of [t.viewer.auth, { ...t.viewer.auth, 'if-none-match': etag }]) {
      const r = await json(app.fetch('/api/v1/analytics/agent/summary', { headers }))
      expect(r.status).toBe(403)
      expect(r.body.error.details.permission).toBe('analytics.read')
    }
    expect((await app.fetch('/api/v1/analytics/agent/summary', { headers: t.operator.auth })).headers.get('x-cache')).toBe('hit')
  })

  it('is keyed by the parsed parameters: different values, different entries; values that clamp alike share one', async () => {
    resetAllRateLimits()
    const h24 = await json(app.fetch('/api/v1/analytics/dashboard/trends?hours=24', { headers: a.viewer.auth }))
    const h48 = await json(app.fetch('/api/v1/analytics/dashboard/trends?hours=48', { headers: a.viewer.auth }))
    expect(h24.body).toHaveLength(24)
    expect(h48.body).toHaveLength(48)
    expect(h48.headers.get('etag')).not.toBe(h24.headers.get('etag'))
    await app.fetch('/api/v1/analytics/dashboard/trends?hours=168', { headers: a.viewer.auth })
    const clamped = await json(app.fetch('/api/v1/analytics/dashboard/trends?hours=500', { headers: a.viewer.auth }))
    expect(clamped.headers.get('x-cache')).toBe('hit')
    expect(clamped.body).toHaveLength(168)
    // the spec's alias path serves the same entry
    const alias = await app.fetch('/api/analytics/dashboard/trends?hours=48', { headers: a.viewer.auth })
    expect(alias.headers.get('x-cache')).toBe('hit')
    expect(alias.headers.get('etag')).toBe(h48.headers.get('etag'))
    const byAgent = await json(app.fetch('/api/v1/analytics/agent/accuracy?agent=returns_assistant', { headers: a.viewer.auth }))
    expect(byAgent.headers.get('x-cache')).toBe('miss')
    expect(byAgent.body.every((r: { agent_type: string }) => r.agent_type === 'returns_assistant')).toBe(true)
  })

  it('hits still spend the rate limit', async () => {
    resetAllRateLimits()
    const t = await app.createTenant()
    const statuses: number[] = []
    for (let i = 0; i < 61; i++) statuses.push((await app.fetch('/api/v1/analytics/dashboard/summary', { headers: t.viewer.auth })).status)
    expect(statuses.slice(0, 60).every((s) => s === 200)).toBe(true)
    expect(statuses[60]).toBe(429)
  })

  it('a refresh is visible on the next request (new numbers, new ETag; the old ETag is a 200)', async () => {
    resetAllRateLimits()
    const before = await json(app.fetch('/api/v1/analytics/dashboard/summary', { headers: a.viewer.auth }))
    expect((await app.fetch('/api/v1/analytics/dashboard/summary', { headers: a.viewer.auth })).headers.get('x-cache')).toBe('hit')
    await addOrder(a.id, 123.45)
    // written but not refreshed: the views (and so the answer) are unchanged, still served from the cache
    const between = await json(app.fetch('/api/v1/analytics/dashboard/summary', { headers: a.viewer.auth }))
    expect(between.headers.get('x-cache')).toBe('hit')
    expect(between.body.orders_last_24h).toBe(before.body.orders_last_24h)
    await refreshOpsViews(app.db)
    const after = await json(app.fetch('/api/v1/analytics/dashboard/summary', { headers: { ...a.viewer.auth, 'if-none-match': before.headers.get('etag')! } }))
    expect(after.status).toBe(200)
    expect(after.headers.get('x-cache')).toBe('miss')
    expect(after.body.orders_last_24h).toBe(before.body.orders_last_24h + 1)
    expect(after.body.orders_last_hour).toBe(before.body.orders_last_hour + 1)
    expect(after.body.revenue_last_24h).toBeCloseTo(before.body.revenue_last_24h + 123.45, 2)
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'))
  })

  it('a refresh committed by another process (plain SQL: the worker, psql) reaches this one by NOTIFY', async () => {
    resetAllRateLimits()
    const gen = viewsGeneration(app.db)
    const before = await json(app.fetch('/api/v1/analytics/agent/summary', { headers: a.viewer.auth }))
    await app.db.query(`insert into public.approval_queue_items (tenant_id, external_id, agent_type, draft_reply) values ($1, gen_random_uuid()::text, 'order_status', 'Hi')`, [a.id])
    const was = gen.current!
    await app.db.query(`select analytics.refresh_views()`)
    // PGlite delivers as the query returns; Postgres within milliseconds, on its listener connection
    await vi.waitFor(() => expect(gen.current).toBe(was + 1), { timeout: 2000, interval: 5 })
    const after = await json(app.fetch('/api/v1/analytics/agent/summary', { headers: a.viewer.auth }))
    expect(after.headers.get('x-cache')).toBe('miss')
    expect(after.body.pending_approvals).toBe(before.body.pending_approvals + 1)
  })

  it('on Postgres, every machine hears a refresh: a second pool (another web machine) moves to the new generation', async (ctx) => {
    if (app.engine !== 'postgres') ctx.skip() // one process per embedded database (decision 020): nothing to tell
    const other = openPostgres(app.url!, { max: 1 })
    try {
      const theirs = viewsGeneration(other)
      await theirs.ready
      const was = theirs.current!
      await refreshOpsViews(app.db)
      await vi.waitFor(() => expect(theirs.current).toBe(was + 1), { timeout: 2000, interval: 5 })
      // a rolled-back refresh sends nothing
      await app.db.transaction(async (tx) => {
        await tx.query(`select analytics.refresh_views()`)
        throw new Error('roll back')
      }).catch(() => {})
      await new Promise((r) => setTimeout(r, 200))
      expect(theirs.current).toBe(was + 1)
    } finally {
      await other.close()
    }
  })

  it('export is not cached: POST, per-caller redaction, arbitrary ranges (no ETag, no X-Cache)', async () => {
    resetAllRateLimits()
    const r = await app.fetch('/api/v1/analytics/export/training-data', { method: 'POST', headers: a.admin.auth, json: {} })
    expect(r.status).toBe(200)
    expect(r.headers.get('x-cache')).toBeNull()
    expect(r.headers.get('etag')).toBeNull()
    await r.arrayBuffer()
  })
})

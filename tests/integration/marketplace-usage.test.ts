import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { asCaller } from '#app/db/db.server.ts'
import { consumerBreakdown, recentExecutions, usageSeries } from '#app/features/marketplace/marketplace.server.ts'
import { json, setupTestApp, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'
import { closeMarketplaceTest, marketplaceEnv, providerPostgresSource, type ProviderDb } from '#tests/support/marketplace.ts'

/*
  The asset page's meter reads (usage.server.ts): per-day executions by status with latency percentiles, the provider's
  per-consumer breakdown and the latest executions — checked against the meter rows read directly and a percentile
  computed here, as the provider (every consumer) and as each consumer (its own rows only, never the other's).
*/

let app: TestApp
let a: TestTenant
let b: TestTenant
let c: TestTenant
let pg: ProviderDb
let asset: string
const V1 = '/api/v1/analytics'
let env: ReturnType<typeof marketplaceEnv>

const call = (user: TestUser, p: string, init: RequestInit & { json?: unknown } = {}) => json(app.fetch(p, { ...init, headers: { ...user.auth, ...(init.headers as Record<string, string>) } }))
const callerOf = async (u: TestUser) => {
  const { authenticateRequest } = await import('#app/features/auth/auth.server.ts')
  return (await authenticateRequest(new Request('http://t/', { headers: u.auth }), app.db))!
}

beforeAll(async () => {
  env = marketplaceEnv()
  app = await setupTestApp()
  ;[a, b, c] = await Promise.all([app.createTenant(), app.createTenant(), app.createTenant()])
  const source = await providerPostgresSource(app, a.admin)
  pg = source.pg
  const r = await call(a.admin, `${V1}/assets`, {
    method: 'POST',
    json: {
      name: 'Orders by region',
      category: 'reporting',
      data_sources: [{ source_id: source.sourceId, tables: ['orders'] }],
      configuration: { query: 'select region, count(*) as orders from orders where region = :region group by region', parameters: [{ name: 'region', type: 'string', enum: ['north', 'south', 'east'] }] },
    },
  })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  asset = r.body.data.asset_id
  expect((await call(a.admin, `${V1}/assets/${asset}`, { method: 'PATCH', json: { status: 'published' } })).status).toBe(200)
  // b: 3 successes and 1 bad input (rejected); c: 2 successes; the provider's own test execution (recorded, never billed).
  for (const [u, region, status] of [[b.operator, 'north', 200], [b.operator, 'south', 200], [b.admin, 'east', 200], [b.operator, 'west', 400], [c.operator, 'north', 200], [c.operator, 'east', 200], [a.admin, 'north', 200]] as const) {
    const e = await call(u, `${V1}/assets/${asset}/execute`, { method: 'POST', json: { input_data: { region } } })
    expect(e.status, JSON.stringify(e.body)).toBe(status)
  }
}, 120_000)

afterAll(() => closeMarketplaceTest({ env, app, pg }))

/** The meter rows as the database holds them (read as the server), for the independent figures. */
async function meter() {
  const { rows } = await app.db.query<{ consumer_tenant_id: string; status: string; latency_ms: number; day: string }>(
    `select consumer_tenant_id, status, latency_ms, to_char(created_at at time zone 'utc', 'YYYY-MM-DD') as day from public.asset_executions where asset_id = $1`,
    [asset],
  )
  return rows
}

/** percentile_cont: linear interpolation between the closest ranks. */
function percentile(xs: number[], p: number) {
  const s = [...xs].sort((x, y) => x - y)
  const h = (s.length - 1) * p
  return s[Math.floor(h)] + (h - Math.floor(h)) * (s[Math.ceil(h)] - s[Math.floor(h)])
}

describe('usage series', () => {
  it('the provider sees every consumer per day; 30 days with zeros; latency percentiles of the successes', async () => {
    const rows = await meter()
    expect(rows).toHaveLength(7)
    const a1 = await callerOf(a.admin)
    const series = await asCaller(app.db, a1.claims, (tx) => usageSeries(tx, asset, 30))
    expect(series).toHaveLength(30)
    const today = rows[0].day
    expect(series.at(-1)!.day).toBe(today)
    expect(series.slice(0, -1).every((d) => d.success + d.error + d.rejected === 0 && d.p50_ms === null)).toBe(true)
    const day = series.at(-1)!
    const ok = rows.filter((r) => r.status === 'success').map((r) => Number(r.latency_ms))
    expect({ success: day.success, error: day.error, rejected: day.rejected }).toEqual({ success: 6, error: 0, rejected: 1 })
    expect(day.p50_ms).toBeCloseTo(percentile(ok, 0.5), 1)
    expect(day.p95_ms).toBeCloseTo(percentile(ok, 0.95), 1)
    expect(day.avg_ms).toBeCloseTo(ok.reduce((s, x) => s + x, 0) / ok.length, 1)
  })

  it("a consumer sees its own tenant's executions only", async () => {
    const rows = (await meter()).filter((r) => r.consumer_tenant_id === c.id)
    const c1 = await callerOf(c.operator)
    const series = await asCaller(app.db, c1.claims, (tx) => usageSeries(tx, asset, 7))
    expect(series).toHaveLength(7)
    expect(series.at(-1)).toMatchObject({ success: 2, error: 0, rejected: 0 })
    expect(series.at(-1)!.p50_ms).toBeCloseTo(percentile(rows.map((r) => Number(r.latency_ms)), 0.5), 1)
    const recent = await asCaller(app.db, c1.claims, (tx) => recentExecutions(tx, asset, 50))
    expect(recent).toHaveLength(2)
    expect(recent.every((r) => r.status === 'success')).toBe(true)
  })
})

describe('consumers and latest executions', () => {
  it("the provider's per-consumer breakdown matches the meter; a consumer's own call lists nothing of others", async () => {
    const a1 = await callerOf(a.admin)
    const list = await asCaller(app.db, a1.claims, (tx) => consumerBreakdown(tx, asset, a.id))
    expect(list.map((x) => [x.consumer_tenant_id, x.requests, x.billed_requests, x.revenue])).toEqual([
      [b.id, 3, 0, 0],
      [c.id, 2, 0, 0],
    ])
    expect(list[0].consumer).not.toBe(b.id) // the tenant's name
    const recent = await asCaller(app.db, a1.claims, (tx) => recentExecutions(tx, asset, 3))
    expect(recent).toHaveLength(3)
    expect(recent.map((r) => r.created_at)).toEqual([...recent.map((r) => r.created_at)].sort().reverse())
    // as b, RLS leaves b's own rows only (the page shows the breakdown to the provider alone)
    const b1 = await callerOf(b.admin)
    const asB = await asCaller(app.db, b1.claims, (tx) => consumerBreakdown(tx, asset, a.id))
    expect(asB.map((x) => x.consumer_tenant_id)).toEqual([b.id])
    expect(await asCaller(app.db, b1.claims, (tx) => recentExecutions(tx, asset, 50))).toHaveLength(4)
  })
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setCaller, type Claims, type Sql } from '#app/db/db.server.ts'
import { expectedOrders, generateOpsData, insertOpsData, type OpsData, type OpsProfile } from '#app/demo/ops.server.ts'
import { seededRandom } from '#app/demo/random.ts'
import { HOUR_MS, scoreRecentHours } from '#app/features/ops/detector.ts'
import { hourlySeries } from '#tests/support/ops-hours.ts'
import { setupTestApp, type TestApp, type TestTenant } from '#tests/support/app.ts'

/*
  The SQL detector (analytics.anomaly_scores / get_active_anomalies) against the TypeScript one
  (app/features/ops/detector.ts) on the same generated shop data: every score of every recent hour, at several
  moments. With the two equal, the simulation of detector.test.ts measures what the database does. Then the
  issue's what-if through the database itself: all orders of an hour removed, the views refreshed, the hour flagged.
*/

const NOW = new Date('2026-03-11T15:25:00Z')
const PROFILES: Array<{ baseRate: number; avgOrderValue: number }> = [
  { baseRate: 10, avgOrderValue: 85 },
  { baseRate: 5, avgOrderValue: 140 },
]

let app: TestApp
const shops: Array<{ tenant: TestTenant; data: OpsData; profile: OpsProfile }> = []

const claimsOf = (t: TestTenant): Claims => ({ sub: t.viewer.userId, role: 'authenticated', app_metadata: { tenant_id: t.id, roles: ['viewer'] } })

beforeAll(async () => {
  app = await setupTestApp()
  for (const [i, p] of PROFILES.entries()) {
    const tenant = await app.createTenant()
    const data = generateOpsData(seededRandom(40 + i), NOW, { days: 63, profile: p })
    await insertOpsData(app.db, tenant.id, data)
    shops.push({ tenant, data, profile: { customers: 3000, ...p } })
  }
  await app.db.query(`select analytics.refresh_views()`)
}, 180_000)
afterAll(() => app?.close())

interface SqlScore { hour_start: Date; metric: string; observed: number; expected: number; scale: number; robust_z: number; baseline_weeks: number; anomaly_type: string | null; severity: string | null }

async function sqlScores(t: TestTenant, now: Date) {
  return app.db.transaction(async (tx) => {
    await setCaller(tx, claimsOf(t))
    return (await tx.query<SqlScore>(`select * from analytics.anomaly_scores($1::timestamptz)`, [now.toISOString()])).rows
  })
}

describe('the SQL detector computes what detector.ts computes', () => {
  it.each([0, 7, 50, 9 * 24 + 3])('every score of every recent hour, %i hours before the end of the data', async (hoursBack) => {
    for (const { tenant, data } of shops) {
      const now = new Date(NOW.getTime() - hoursBack * HOUR_MS)
      const series = hourlySeries(data)
      const ts = scoreRecentHours((h) => series.lookup(h), now.getTime(), series.firstHour)
      const sql = await sqlScores(tenant, now)
      expect(sql.length).toBe(ts.length)
      expect(sql.length).toBeGreaterThan(60)
      const byKey = new Map(sql.map((r) => [`${new Date(r.hour_start).getTime()} ${r.metric}`, r]))
      for (const s of ts) {
        const r = byKey.get(`${s.hourStart} ${s.metric}`)
        expect(r, `${new Date(s.hourStart).toISOString()} ${s.metric}`).toBeDefined()
        const at = `${new Date(s.hourStart).toISOString()} ${s.metric}`
        expect(r!.observed, at).toBeCloseTo(s.observed, 6)
        expect(r!.expected, at).toBeCloseTo(s.expected, 6)
        expect(r!.scale, at).toBeCloseTo(s.scale, 6)
        expect(r!.robust_z, at).toBeCloseTo(s.z, 6)
        expect([r!.baseline_weeks, r!.anomaly_type, r!.severity], at).toEqual([s.baselineWeeks, s.anomalyType, s.severity])
      }
    }
  })

  it('get_active_anomalies lists exactly the flagged scores, rounded', async () => {
    const { tenant } = shops[0]
    const flagged = (await sqlScores(tenant, NOW)).filter((r) => r.anomaly_type)
    const active = await app.db.transaction(async (tx) => {
      await setCaller(tx, claimsOf(tenant))
      return (await tx.query(`select * from analytics.get_active_anomalies($1::timestamptz)`, [NOW.toISOString()])).rows
    })
    expect(active.map((a) => `${new Date(a.hour_start).toISOString()} ${a.anomaly_type}`).sort()).toEqual(
      flagged.map((r) => `${new Date(r.hour_start).toISOString()} ${r.anomaly_type}`).sort(),
    )
    for (const a of active) {
      const r = flagged.find((x) => +new Date(x.hour_start) === +new Date(a.hour_start) && x.anomaly_type === a.anomaly_type)!
      expect(a.expected).toBeCloseTo(r.expected, 2)
      expect(a.scale).toBeCloseTo(r.scale, 3)
      expect(a.robust_z).toBeCloseTo(r.robust_z, 2)
    }
  })
})

/** Removes every order of `hour`, refreshes the hourly rollup and reads the alerts as the tenant — then rolls back. */
async function whatIfOutage(t: TestTenant, hour: number) {
  const rollback = new Error('what-if')
  let alerts: Array<{ hour_start: Date; anomaly_type: string }> = []
  await app.db
    .transaction(async (tx: Sql) => {
      await tx.query(`delete from public.orders where tenant_id = $1 and created_at >= $2 and created_at < $3`, [t.id, new Date(hour).toISOString(), new Date(hour + HOUR_MS).toISOString()])
      await tx.query(`refresh materialized view analytics_private.hourly_commerce`)
      await setCaller(tx, claimsOf(t))
      alerts = (await tx.query(`select hour_start, anomaly_type from analytics.get_active_anomalies($1::timestamptz)`, [NOW.toISOString()])).rows as typeof alerts
      throw rollback
    })
    .catch((e) => {
      if (e !== rollback) throw e
    })
  return alerts.some((a) => new Date(a.hour_start).getTime() === hour && ['low_order_volume', 'revenue_drop'].includes(a.anomaly_type))
}

describe('what-if through the database: a full outage in one of the last 24 hours', () => {
  it('is flagged in the hours the TypeScript detector flags, including every sampled hour expected to have 5 orders or more', async () => {
    const end = Math.floor(NOW.getTime() / HOUR_MS) * HOUR_MS
    const start = end - 63 * 24 * HOUR_MS
    for (const { tenant, data, profile } of shops) {
      const series = hourlySeries(data)
      const incident = new Set(data.incidents.map((i) => i.hourStart.getTime()))
      // four hours of the last 24 per shop, busiest and quietest first (each what-if refreshes a view)
      const hours = Array.from({ length: 24 }, (_, i) => end - (i + 1) * HOUR_MS).filter((h) => !incident.has(h))
      hours.sort((x, y) => expectedOrders(profile, y, start) - expectedOrders(profile, x, start))
      for (const h of [hours[0], hours[6], hours[12], hours[hours.length - 1]]) {
        const cut = series.without([h])
        const ts = scoreRecentHours((x) => cut.lookup(x), NOW.getTime(), cut.firstHour).some((s) => s.hourStart === h && s.anomalyType && s.metric !== 'fulfillment_rate_pct')
        const db = await whatIfOutage(tenant, h)
        expect(db, new Date(h).toISOString()).toBe(ts)
        if (expectedOrders(profile, h, start) >= 5) expect(db, `${new Date(h).toISOString()} expected ${expectedOrders(profile, h, start).toFixed(1)}`).toBe(true)
        if (expectedOrders(profile, h, start) <= 2) expect(db).toBe(false)
      }
    }
  }, 180_000)
})

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sql } from '#app/db/db.server.ts'
import { generateOpsData, insertOpsData } from '#app/demo/ops.server.ts'
import { seededRandom } from '#app/demo/random.ts'
import { setupTestApp, type TestApp, type TestTenant, type TestUser } from '#tests/support/app.ts'

/*
  The HD spec's database contract as PostgREST calls it (issue 10.5): a transaction in which the role is
  `authenticated` (or `anon`) and request.jwt.claims holds the caller's token, then `select public.<function>(…)` or
  `select * from public.<view>` — what supabase.rpc('get_dashboard_summary') and .from('approval_queue_metrics')
  become. Each answer is compared with the analytics function the API serves, for two tenants.
*/

let app: TestApp
let a: TestTenant
let b: TestTenant

beforeAll(async () => {
  app = await setupTestApp()
  ;[a, b] = await Promise.all([app.createTenant(), app.createTenant()])
  await insertOpsData(app.db, a.id, generateOpsData(seededRandom(61), new Date(), { days: 30 }))
  await insertOpsData(app.db, b.id, generateOpsData(seededRandom(62), new Date(), { days: 30, incidents: false, profile: { baseRate: 2, avgOrderValue: 15 } }))
  await app.db.query(`select analytics.refresh_views()`)
}, 180_000)
afterAll(() => app?.close())

/** As PostgREST runs a request: role and claims set for the transaction. */
function asPostgrest<T>(claims: Record<string, unknown> | null, fn: (tx: Sql) => Promise<T>) {
  return app.db.transaction(async (tx) => {
    await tx.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [
      claims ? 'authenticated' : 'anon',
      JSON.stringify(claims ?? { role: 'anon' }),
    ])
    return fn(tx)
  })
}
const userClaims = (t: TestTenant, u: TestUser, role: string) => ({ sub: u.userId, role: 'authenticated', aud: 'authenticated', email: u.email, app_metadata: { tenant_id: t.id, roles: [role] } })
const rows = async (tx: Sql, q: string, params: unknown[] = []) => JSON.parse(JSON.stringify((await tx.query(q, params)).rows))

const CONTRACT = {
  'rpc get_dashboard_summary()': [`select public.get_dashboard_summary() as r`, `select analytics.get_dashboard_summary() as r`],
  'rpc get_hourly_trends(hours_back => 48)': [`select * from public.get_hourly_trends(hours_back => 48)`, `select * from analytics.get_hourly_trends(48)`],
  'rpc get_hourly_trends() (default 24)': [`select * from public.get_hourly_trends()`, `select * from analytics.get_hourly_trends(24)`],
  'rpc get_active_anomalies()': [`select * from public.get_active_anomalies()`, `select * from analytics.get_active_anomalies()`],
  'select approval_queue_metrics': [
    `select * from public.approval_queue_metrics`,
    `select (bucket_start at time zone 'UTC')::date as day_bucket, total_items, pending_count, approved_count, rejected_count, edited_count,
            urgent_count, high_count, normal_count, low_count, avg_confidence, min_confidence, max_confidence, avg_resolution_minutes,
            metrics_updated_at from analytics.get_queue_metrics('day', 30)`,
  ],
  'select agent_accuracy_metrics': [`select * from public.agent_accuracy_metrics`, `select * from analytics.get_agent_accuracy(30)`],
  'select training_quality_metrics': [`select * from public.training_quality_metrics`, `select * from analytics.get_training_quality(30)`],
} as const

describe('the spec names, callable as PostgREST calls them', () => {
  it.each(Object.entries(CONTRACT))('%s: each tenant gets its own answer, the one the API serves', async (_name, [viaPublic, viaApi]) => {
    const answers: string[] = []
    for (const t of [a, b]) {
      const [got, want] = await asPostgrest(userClaims(t, t.viewer, 'viewer'), async (tx) => [await rows(tx, viaPublic), await rows(tx, viaApi)])
      expect(got).toEqual(want)
      answers.push(JSON.stringify(got))
    }
    expect(answers[0]).not.toEqual(answers[1]) // two tenants, two different answers
  })

  it('select agent_performance_summary: one row, the /agent/summary fields', async () => {
    for (const t of [a, b]) {
      const [[row], [{ s }]] = await asPostgrest(userClaims(t, t.viewer, 'viewer'), async (tx) => [
        await rows(tx, `select * from public.agent_performance_summary`),
        await rows(tx, `select analytics.get_agent_summary() as s`),
      ])
      for (const k of ['time_period', 'pending_approvals', 'approvals_24h', 'avg_confidence_24h', 'queries_24h', 'avg_latency_24h',
        'approved_queries_24h', 'training_examples_24h', 'safe_examples_24h', 'avg_accuracy_24h']) expect(row[k], k).toEqual(s[k])
      expect(new Date(row.summary_updated_at).toISOString()).toBe(s.summary_updated_at)
    }
  })

  it('a PostgREST filter applies to the view rows', async () => {
    const all = await asPostgrest(userClaims(a, a.viewer, 'viewer'), (tx) => rows(tx, `select day_bucket from public.approval_queue_metrics`))
    const since = all[Math.floor(all.length / 2)].day_bucket
    const some = await asPostgrest(userClaims(a, a.viewer, 'viewer'), (tx) => rows(tx, `select day_bucket from public.approval_queue_metrics where day_bucket >= $1`, [since]))
    expect(some.length).toBeLessThan(all.length)
    expect(some.every((r: { day_bucket: string }) => r.day_bucket >= since)).toBe(true)
  })

  it('rpc export_training_dataset(include_pii, date_from, date_to): the tenant rows for a caller allowed personal data', async () => {
    const from = new Date(Date.now() - 10 * 86_400_000).toISOString()
    const to = new Date().toISOString()
    const [got, want] = await asPostgrest(userClaims(a, a.admin, 'admin'), async (tx) => [
      await rows(tx, `select * from public.export_training_dataset(false, $1::timestamptz, $2::timestamptz)`, [from, to]),
      await rows(tx, `select conversation_id, input_text, model_draft, safe_to_send, category, sentiment, tone, accuracy_score, helpfulness_score,
                        tone_score, notes, confidence, response_time_ms, created_at from analytics.export_training_dataset(false, $1::timestamptz, $2::timestamptz)`, [from, to]),
    ])
    expect(got.length).toBeGreaterThan(10)
    expect(got).toEqual(want)
    expect(Object.keys(got[0])).toEqual(['conversation_id', 'input_text', 'model_draft', 'safe_to_send', 'category', 'sentiment', 'tone',
      'accuracy_score', 'helpfulness_score', 'tone_score', 'notes', 'confidence', 'response_time_ms', 'created_at'])
    // tenant b's admin gets b's annotations, none of a's conversations
    const theirs = await asPostgrest(userClaims(b, b.admin, 'admin'), (tx) => rows(tx, `select conversation_id from public.export_training_dataset()`))
    const { rows: own } = await app.db.query(`select count(*)::int as n from public.training_examples where tenant_id = $1`, [b.id])
    expect(theirs.length).toBe(own[0].n)
    const mine = new Set(got.map((r: { conversation_id: number }) => r.conversation_id))
    expect(theirs.some((r: { conversation_id: number }) => mine.has(r.conversation_id))).toBe(false)
  })
})

describe('refusals', () => {
  const everything = [
    `select public.get_dashboard_summary()`,
    `select * from public.get_hourly_trends(24)`,
    `select * from public.get_active_anomalies()`,
    `select * from public.export_training_dataset(false, null, null)`,
    `select * from public.approval_queue_metrics`,
    `select * from public.agent_accuracy_metrics`,
    `select * from public.training_quality_metrics`,
    `select * from public.agent_performance_summary`,
  ]

  it.each(everything)('anon is refused: %s', async (q) => {
    await expect(asPostgrest(null, (tx) => tx.query(q))).rejects.toMatchObject({ code: '42501' })
  })

  it.each(everything.slice(0, 3).concat(everything.slice(4)))('a signed-in caller without analytics.read is refused: %s', async (q) => {
    const claims = { ...userClaims(a, a.viewer, 'viewer'), app_metadata: { tenant_id: a.id, scopes: ['approvals.read'] } }
    await expect(asPostgrest(claims, (tx) => tx.query(q))).rejects.toMatchObject({ code: '42501' })
  })

  it('the export needs analytics.export and, through the database, analytics.export_pii', async () => {
    await expect(asPostgrest(userClaims(a, a.viewer, 'viewer'), (tx) => tx.query(everything[3]))).rejects.toMatchObject({ code: '42501' })
    const exportOnly = { ...userClaims(a, a.admin, 'admin'), app_metadata: { tenant_id: a.id, scopes: ['analytics.export'] } }
    await expect(asPostgrest(exportOnly, (tx) => tx.query(everything[3]))).rejects.toThrow(/export_pii.*\/api\/v1\/analytics\/export\/training-data/)
  })

  it('the materialized views stay unreachable, whoever asks', async () => {
    for (const claims of [null, userClaims(a, a.admin, 'admin')]) {
      for (const v of ['hourly_commerce', 'hourly_customer_ids', 'approval_queue_metrics', 'agent_accuracy_metrics', 'training_quality_metrics', 'agent_performance_summary']) {
        await expect(asPostgrest(claims, (tx) => tx.query(`select * from analytics_private.${v} limit 1`)), v).rejects.toMatchObject({ code: '42501' })
      }
    }
  })

  it("a token naming another tenant than its user's gets nothing of that tenant", async () => {
    const forged = { ...userClaims(a, a.admin, 'admin'), app_metadata: { tenant_id: b.id, roles: ['admin'] } }
    await expect(asPostgrest(forged, (tx) => tx.query(`select public.get_dashboard_summary()`))).rejects.toMatchObject({ code: '42501' })
    await expect(asPostgrest(forged, (tx) => tx.query(`select * from public.approval_queue_metrics`))).rejects.toMatchObject({ code: '42501' })
  })
})

import type { Sql } from '#app/db/db.server.ts'
import type { UsageDay } from './components.tsx'
import { asServer } from './session-role.server.ts'
import { iso } from './sources.server.ts'

/*
  The meter as the asset page charts it: per day (UTC) the executions by status and the latency of the successful
  ones, the provider's per-consumer breakdown, and the latest executions. Read as the caller, so RLS decides whose
  rows count: a provider sees every consumer of its asset, a consumer only its own tenant's executions.
*/

const round2 = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100)

/** One row per day of the last `days` days (zeros included), oldest first. */
export async function usageSeries(sql: Sql, assetId: string, days = 30): Promise<UsageDay[]> {
  const { rows } = await sql.query(
    `with d as (select generate_series(date_trunc('day', now() at time zone 'utc') - ($2::int - 1) * interval '1 day', date_trunc('day', now() at time zone 'utc'), interval '1 day') as day),
          e as (select date_trunc('day', created_at at time zone 'utc') as day, status, latency_ms from public.asset_executions
                 where asset_id = $1 and created_at >= now() - $2::int * interval '1 day')
     select to_char(d.day, 'YYYY-MM-DD') as day,
            count(*) filter (where e.status = 'success')::int as success,
            count(*) filter (where e.status = 'error')::int as error,
            count(*) filter (where e.status = 'rejected')::int as rejected,
            avg(e.latency_ms) filter (where e.status = 'success') as avg_ms,
            percentile_cont(0.5) within group (order by e.latency_ms) filter (where e.status = 'success') as p50_ms,
            percentile_cont(0.95) within group (order by e.latency_ms) filter (where e.status = 'success') as p95_ms
       from d left join e on e.day = d.day
      group by d.day order by d.day`,
    [assetId, days],
  )
  return rows.map((r) => ({ day: r.day, success: r.success, error: r.error, rejected: r.rejected, avg_ms: round2(r.avg_ms), p50_ms: round2(r.p50_ms), p95_ms: round2(r.p95_ms) }))
}

/** The provider's view: usage and revenue per consumer tenant (names read as the server: the catalogue shows them too). */
export async function consumerBreakdown(sql: Sql, assetId: string, providerTenantId: string) {
  const { rows } = await sql.query(
    `select consumer_tenant_id,
            count(*) filter (where status <> 'rejected')::int as requests,
            count(*) filter (where status = 'rejected' and error_code = 'PAYMENT_REQUIRED')::int as refused_for_quota,
            count(*) filter (where billable)::int as billed_requests,
            coalesce(sum(price) filter (where billable), 0)::float8 as revenue,
            max(created_at) as last_used
       from public.asset_executions where asset_id = $1 and provider_tenant_id = $2 and consumer_tenant_id <> $2
      group by consumer_tenant_id order by requests desc, consumer_tenant_id`,
    [assetId, providerTenantId],
  )
  const ids = rows.map((r) => r.consumer_tenant_id as string)
  const names = new Map<string, string>()
  if (ids.length) {
    const { rows: t } = await asServer(sql, () => sql.query<{ id: string; name: string }>(`select id, name from public.tenants where id = any($1::uuid[])`, [`{${ids.join(',')}}`]))
    for (const r of t) names.set(r.id, r.name)
  }
  return rows.map((r) => ({
    consumer_tenant_id: r.consumer_tenant_id as string,
    consumer: names.get(r.consumer_tenant_id) ?? r.consumer_tenant_id,
    requests: r.requests as number,
    refused_for_quota: r.refused_for_quota as number,
    billed_requests: r.billed_requests as number,
    revenue: round2(r.revenue) ?? 0,
    last_used: iso(r.last_used),
  }))
}

/** The latest executions the caller may see (no consumer identities beyond the caller's own rows' tenant). */
export async function recentExecutions(sql: Sql, assetId: string, limit = 50) {
  const { rows } = await sql.query(
    `select id, version, status, error_code, latency_ms, data_points, billable, price, currency, batch_id, created_at
       from public.asset_executions where asset_id = $1 order by created_at desc, id desc limit $2`,
    [assetId, limit],
  )
  return rows.map((r) => ({
    execution_id: r.id as string,
    version: r.version as string | null,
    status: r.status as string,
    error_code: r.error_code as string | null,
    latency_ms: round2(r.latency_ms)!,
    data_points: r.data_points as number | null,
    billable: Boolean(r.billable),
    price: Number(r.price),
    currency: r.currency as string | null,
    batch_id: r.batch_id as string | null,
    created_at: iso(r.created_at),
  }))
}

import type { Sql } from '#app/db/db.server.ts'
import type { Pricing } from './schemas.ts'
import { asServer } from './session-role.server.ts'

/*
  Usage and revenue, always computed from the executions meter (public.asset_executions), never stored totals.
  - requests count every execution that ran (success or error), not the ones refused for input or quota (rejected);
  - avg_response_time is the mean latency of successful executions over the last 30 days, in ms;
  - uptime_percentage is the share of executions that ran without the asset failing, over 30 days;
  - customers are consumer tenants other than the provider; revenue sums the price recorded on billable executions.
*/

export interface AssetStats {
  total_requests: number
  requests_last_30d: number
  avg_response_time: number | null
  uptime_percentage: number | null
  unique_customers: number
  avg_requests_per_customer: number | null
  monthly_revenue: number
  total_revenue: number
}

const EMPTY: AssetStats = {
  total_requests: 0,
  requests_last_30d: 0,
  avg_response_time: null,
  uptime_percentage: null,
  unique_customers: 0,
  avg_requests_per_customer: null,
  monthly_revenue: 0,
  total_revenue: 0,
}

const STATS_SQL = `
  select asset_id,
         count(*) filter (where status <> 'rejected')::int as total_requests,
         count(*) filter (where status <> 'rejected' and created_at > now() - interval '30 days')::int as requests_last_30d,
         avg(latency_ms) filter (where status = 'success' and created_at > now() - interval '30 days') as avg_response_time,
         count(*) filter (where status = 'success' and created_at > now() - interval '30 days')::int as ok_30d,
         count(*) filter (where status = 'error' and created_at > now() - interval '30 days')::int as errors_30d,
         count(distinct consumer_tenant_id) filter (where consumer_tenant_id <> provider_tenant_id and status <> 'rejected')::int as unique_customers,
         count(*) filter (where consumer_tenant_id <> provider_tenant_id and status <> 'rejected')::int as customer_requests,
         coalesce(sum(price) filter (where billable and created_at >= date_trunc('month', now())), 0)::float8 as monthly_revenue,
         coalesce(sum(price) filter (where billable), 0)::float8 as total_revenue
    from public.asset_executions
   where asset_id = any($1::text[])
   group by asset_id`

/** Stats per asset. Aggregates over every consumer: read by the server (a consumer never sees others' rows). */
export async function assetStats(sql: Sql, assetIds: string[]): Promise<Map<string, AssetStats>> {
  const out = new Map<string, AssetStats>()
  if (!assetIds.length) return out
  const { rows } = await asServer(sql, () => sql.query(STATS_SQL, [`{${assetIds.join(',')}}`]))
  for (const r of rows) {
    const ran = r.ok_30d + r.errors_30d
    out.set(r.asset_id, {
      total_requests: r.total_requests,
      requests_last_30d: r.requests_last_30d,
      avg_response_time: r.avg_response_time === null ? null : Math.round(Number(r.avg_response_time) * 100) / 100,
      uptime_percentage: ran ? Math.round((10000 * r.ok_30d) / ran) / 100 : null,
      unique_customers: r.unique_customers,
      avg_requests_per_customer: r.unique_customers ? Math.round(r.customer_requests / r.unique_customers) : null,
      monthly_revenue: Math.round(Number(r.monthly_revenue) * 100) / 100,
      total_revenue: Math.round(Number(r.total_revenue) * 100) / 100,
    })
  }
  for (const id of assetIds) if (!out.has(id)) out.set(id, { ...EMPTY })
  return out
}

/** The caller's own tenant's use of an asset: as the caller, so RLS limits it to their rows. */
export async function consumerUsage(sql: Sql, assetId: string, consumerTenantId: string, pricing: Pricing) {
  const period = pricing.free_tier?.period === 'daily' ? 'day' : 'month'
  const { rows } = await sql.query(
    `select count(*) filter (where status = 'success' and created_at >= date_trunc('${period}', now()))::int as used_this_period,
            count(*) filter (where status <> 'rejected')::int as total_requests,
            count(*) filter (where status = 'rejected' and error_code = 'PAYMENT_REQUIRED')::int as refused_for_quota,
            count(*) filter (where billable)::int as billed_requests,
            coalesce(sum(price) filter (where billable), 0)::float8 as billed_amount
       from public.asset_executions where asset_id = $1 and consumer_tenant_id = $2`,
    [assetId, consumerTenantId],
  )
  const r = rows[0]
  const free = pricing.free_tier?.requests ?? null
  return {
    period: pricing.free_tier?.period ?? 'monthly',
    used_this_period: r.used_this_period,
    free_tier_requests: free,
    free_tier_remaining: free === null ? null : Math.max(0, free - r.used_this_period),
    total_requests: r.total_requests,
    refused_for_quota: r.refused_for_quota,
    billed_requests: r.billed_requests,
    billed_amount: Math.round(Number(r.billed_amount) * 100) / 100,
    currency: pricing.currency,
  }
}

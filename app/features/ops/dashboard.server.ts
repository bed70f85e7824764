import type { Sql } from '#app/db/db.server.ts'

/*
  The dashboard's numbers come from the analytics functions (definitions are written beside the SQL in
  supabase/migrations/20250301000000_ops_analytics.sql). `now` is only for tests and the benchmark.
*/

export interface DashboardSummary {
  orders_last_hour: number
  revenue_last_hour: number
  orders_last_24h: number
  revenue_last_24h: number
  avg_order_value_24h: number | null
  orders_prev_24h: number
  revenue_prev_24h: number
  avg_order_value_prev_24h: number | null
  fulfillment_rate_24h: number | null
  orders_pending_24h: number
  orders_refunded_24h: number
  new_customers_24h: number
  active_customers_24h: number
  returning_customers_24h: number
  last_updated: string
}

export interface HourlyTrend {
  hour_start: Date
  total_orders: number
  total_revenue: number
  avg_order_value: number | null
  fulfillment_rate_pct: number | null
  orders_fulfilled: number
  orders_pending: number
  new_customers: number
  active_customers: number
  returning_customers: number
  total_sessions: number
  orders_hoh_pct_change: number | null
  revenue_hoh_pct_change: number | null
  orders_refunded: number
}

export interface Anomaly {
  hour_start: Date
  anomaly_type: 'low_order_volume' | 'revenue_drop' | 'revenue_spike' | 'fulfillment_rate_drop'
  deviation_pct: number | null
  severity: 'medium' | 'high' | 'critical'
  total_orders: number
  avg_orders_24h: number
  total_revenue: number
  avg_revenue_24h: number
  fulfillment_rate_pct: number | null
  avg_fulfillment_24h: number | null
  metric: 'orders' | 'revenue' | 'fulfillment_rate_pct'
  observed_value: number
  /** the seasonal expectation for this hour of the week, in the metric's units */
  expected: number
  /** the detector's standard deviation, in the metric's units: robust_z = (observed_value - expected) / scale */
  scale: number
  robust_z: number
  baseline_weeks: number
}

const at = (now?: Date) => (now ?? new Date()).toISOString()

export async function getDashboardSummary(db: Sql, opts: { now?: Date } = {}): Promise<DashboardSummary> {
  const { rows } = await db.query<{ s: DashboardSummary }>(`select analytics.get_dashboard_summary($1::timestamptz) as s`, [at(opts.now)])
  const s = rows[0].s as DashboardSummary & { window_start?: string; window_end?: string }
  return { ...s, last_updated: new Date(s.last_updated).toISOString() }
}

export async function getHourlyTrends(db: Sql, opts: { hours: number; now?: Date }): Promise<HourlyTrend[]> {
  const { rows } = await db.query<HourlyTrend>(`select * from analytics.get_hourly_trends($1::int, $2::timestamptz)`, [opts.hours, at(opts.now)])
  return rows
}

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2 } as const

/** Active alerts, most severe first (then the strongest deviation, then the newest). `[]` when there are none. */
export async function getActiveAnomalies(db: Sql, opts: { now?: Date } = {}): Promise<Anomaly[]> {
  const { rows } = await db.query<Anomaly>(`select * from analytics.get_active_anomalies($1::timestamptz)`, [at(opts.now)])
  return rows.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      Math.abs(b.robust_z) - Math.abs(a.robust_z) ||
      +new Date(b.hour_start) - +new Date(a.hour_start),
  )
}

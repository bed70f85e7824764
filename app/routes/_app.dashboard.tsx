import { useState } from 'react'
import { Form, useNavigation, useSearchParams } from 'react-router'
import { CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis, Bar } from 'recharts'
import { Card, EmptyState, PageHeader } from '#app/components/ui.tsx'
import {
  ClientOnly, fmtInt, fmtMoney, fmtPct, fmtTime, KpiTile, pctChange, SeverityBadge, useAutoRefresh,
} from '#app/features/ops/components.tsx'
import type { Route } from './+types/_app.dashboard'

export const meta = () => [{ title: 'Dashboard · Hot Dash' }]

const HOUR_CHOICES = [24, 48, 72, 168]

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { getActiveAnomalies, getDashboardSummary, getHourlyTrends } = await import('#app/features/ops/ops.server.ts')
  const { trendsQuery } = await import('#app/features/ops/schemas.ts')
  const parsed = trendsQuery.safeParse({ hours: new URL(request.url).searchParams.get('hours') ?? undefined })
  const hours = parsed.success ? parsed.data.hours : 24
  return uiLoader(request, 'analytics.read', async (db) => {
    const [summary, trends, anomalies] = await Promise.all([getDashboardSummary(db), getHourlyTrends(db, { hours }), getActiveAnomalies(db)])
    return { summary, trends, anomalies, hours, loadedAt: new Date().toISOString() }
  })
}

const SERIES = [
  { key: 'total_orders', label: 'Orders', color: '#4f46e5', axis: 'count', kind: 'bar' },
  { key: 'total_revenue', label: 'Revenue ($)', color: '#059669', axis: 'money', kind: 'line' },
  { key: 'total_sessions', label: 'Sessions', color: '#94a3b8', axis: 'count', kind: 'line' },
  { key: 'fulfillment_rate_pct', label: 'Fulfillment %', color: '#d97706', axis: 'pct', kind: 'line' },
] as const

export default function Dashboard({ loaderData }: Route.ComponentProps) {
  const { summary: s, trends, anomalies, hours, loadedAt } = loaderData
  const refreshing = useAutoRefresh(60_000)
  const [params] = useSearchParams()
  const nav = useNavigation()
  const [shown, setShown] = useState<Record<string, boolean>>({ total_orders: true, total_revenue: true, total_sessions: false, fulfillment_rate_pct: false })
  const aovPrev = s.avg_order_value_prev_24h
  const chartData = [...trends].reverse().map((t) => ({ ...t, label: new Date(t.hour_start).toISOString().slice(5, 13).replace('T', ' ') + 'h' }))

  return (
    <>
      <PageHeader
        title="Operations dashboard"
        description="Complete hours, UTC. Compared with the 24 hours before."
        actions={
          <p className="text-xs text-slate-500" aria-live="polite">
            Data as of {fmtTime(s.last_updated)} · page refreshed {fmtTime(loadedAt)}
            {refreshing !== 'idle' || nav.state !== 'idle' ? ' · updating…' : ''}
          </p>
        }
      />
      <section aria-label="Key figures" className="grid grid-cols-2 gap-4 md:grid-cols-4">
        <KpiTile label="Orders (24 h)" value={fmtInt(s.orders_last_24h)} delta={pctChange(s.orders_last_24h, s.orders_prev_24h)} />
        <KpiTile label="Revenue (24 h)" value={fmtMoney(s.revenue_last_24h)} delta={pctChange(s.revenue_last_24h, s.revenue_prev_24h)} />
        <KpiTile label="Avg order value" value={fmtMoney(s.avg_order_value_24h)} delta={pctChange(s.avg_order_value_24h, aovPrev)} />
        <KpiTile label="Fulfillment rate" value={fmtPct(s.fulfillment_rate_24h)} hint="Fulfilled ÷ orders of the last 24 h; orders still pending count as not fulfilled" />
        <KpiTile label="Orders last hour" value={fmtInt(s.orders_last_hour)} hint={`Revenue ${fmtMoney(s.revenue_last_hour)}`} />
        <KpiTile label="Pending fulfillment" value={fmtInt(s.orders_pending_24h)} />
        <KpiTile label="Active customers" value={fmtInt(s.active_customers_24h)} hint="Distinct customers with an order in the last 24 h" />
        <KpiTile label="New / returning" value={`${fmtInt(s.new_customers_24h)} / ${fmtInt(s.returning_customers_24h)}`} hint="New: first order ever in the window" />
      </section>

      <div className="mt-6 grid gap-6 xl:grid-cols-3">
        <Card className="xl:col-span-2" title="Hourly trend">
          <div className="mb-3 flex flex-wrap items-center justify-between gap-3">
            <Form method="get" className="flex items-center gap-2 text-sm" onChange={(e) => e.currentTarget.requestSubmit()}>
              <label htmlFor="hours" className="text-slate-600">Window</label>
              <select id="hours" name="hours" defaultValue={String(hours)} className="rounded-md border border-slate-300 px-2 py-1">
                {HOUR_CHOICES.map((h) => (
                  <option key={h} value={h}>{h < 48 ? `${h} hours` : `${h / 24} days`}</option>
                ))}
              </select>
              <noscript><button type="submit">Show</button></noscript>
            </Form>
            <fieldset className="flex flex-wrap gap-3 text-sm">
              <legend className="sr-only">Series</legend>
              {SERIES.map((x) => (
                <label key={x.key} className="inline-flex items-center gap-1">
                  <input type="checkbox" checked={!!shown[x.key]} onChange={(e) => setShown({ ...shown, [x.key]: e.target.checked })} />
                  <span style={{ color: x.color }}>{x.label}</span>
                </label>
              ))}
            </fieldset>
          </div>
          <div className="h-80" data-testid="trend-chart" data-hours={params.get('hours') ?? hours}>
            <ClientOnly fallback={<p className="text-sm text-slate-500">Loading chart…</p>}>
              {() => (
                <ResponsiveContainer width="100%" height="100%">
                  <ComposedChart data={chartData} margin={{ top: 5, right: 10, bottom: 5, left: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                    <XAxis dataKey="label" tick={{ fontSize: 11 }} minTickGap={24} />
                    <YAxis yAxisId="count" tick={{ fontSize: 11 }} allowDecimals={false} />
                    <YAxis yAxisId="money" orientation="right" tick={{ fontSize: 11 }} hide={!shown.total_revenue} />
                    <YAxis yAxisId="pct" orientation="right" domain={[0, 100]} hide />
                    <Tooltip />
                    <Legend />
                    {SERIES.filter((x) => shown[x.key]).map((x) =>
                      x.kind === 'bar' ? (
                        <Bar key={x.key} yAxisId={x.axis} dataKey={x.key} name={x.label} fill={x.color} isAnimationActive={false} />
                      ) : (
                        <Line key={x.key} yAxisId={x.axis} type="monotone" dataKey={x.key} name={x.label} stroke={x.color} dot={false} isAnimationActive={false} />
                      ),
                    )}
                  </ComposedChart>
                </ResponsiveContainer>
              )}
            </ClientOnly>
          </div>
        </Card>

        <Card title={`Anomalies (${anomalies.length})`}>
          {anomalies.length === 0 ? (
            <EmptyState title="Nothing unusual">Every recent hour is within its normal range for that hour of the week.</EmptyState>
          ) : (
            <ul className="flex flex-col gap-3" data-testid="anomaly-list">
              {anomalies.map((a) => (
                <li key={`${a.hour_start}-${a.anomaly_type}`} className="rounded-md border border-slate-200 p-3">
                  <div className="flex items-center justify-between gap-2">
                    <span className="font-medium">{a.anomaly_type.replaceAll('_', ' ')}</span>
                    <SeverityBadge severity={a.severity} />
                  </div>
                  <p className="mt-1 text-xs text-slate-500">{fmtTime(a.hour_start)} · z = {a.robust_z}</p>
                  <p className="mt-1 text-sm">
                    {a.metric === 'revenue' ? fmtMoney(a.observed_value) : a.metric === 'orders' ? `${fmtInt(a.observed_value)} orders` : fmtPct(a.observed_value)}{' '}
                    <span className="text-slate-500">
                      vs usual {a.metric === 'revenue' ? fmtMoney(a.expected) : a.metric === 'orders' ? fmtInt(a.expected) : fmtPct(a.expected)} for this hour of the week
                      {pctChange(a.observed_value, a.expected) != null ? ` (${pctChange(a.observed_value, a.expected)!.toFixed(0)}%)` : ''}
                    </span>
                  </p>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  )
}

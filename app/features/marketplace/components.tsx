import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { ClientOnly } from '#app/features/ops/components.tsx'

/* The marketplace pages' pieces (browser side; every number comes from the meter through the feature functions). */

const STATUS_STYLE: Record<string, string> = {
  draft: 'bg-slate-100 text-slate-700',
  published: 'bg-emerald-100 text-emerald-800',
  archived: 'bg-amber-100 text-amber-800',
  active: 'bg-emerald-100 text-emerald-800',
  candidate: 'bg-sky-100 text-sky-800',
  canary: 'bg-violet-100 text-violet-800',
  deprecated: 'bg-slate-100 text-slate-500',
  connected: 'bg-emerald-100 text-emerald-800',
  error: 'bg-rose-100 text-rose-800',
  not_installed: 'bg-amber-100 text-amber-800',
  success: 'bg-emerald-100 text-emerald-800',
  rejected: 'bg-amber-100 text-amber-800',
}

export function StatusPill({ status }: { status: string }) {
  return <span className={`inline-block rounded-full px-2 py-0.5 text-xs font-medium ${STATUS_STYLE[status] ?? STATUS_STYLE.draft}`}>{status}</span>
}

const money = (n: number, currency = 'USD') => n.toLocaleString('en-US', { style: 'currency', currency, maximumFractionDigits: 4 })

/** A pricing as the API returns it (the catalogue's arrives as JSON from the view, loosely typed). */
export type PricingView = { model?: string; price?: number; currency?: string; free_tier?: { requests?: number; period?: string } }

export function pricingText(p: PricingView | null | undefined): string {
  if (!p || p.model === 'free' || !p.price) return 'Free'
  const tier = p.free_tier?.requests ? ` · ${p.free_tier.requests.toLocaleString('en-US')} free per ${p.free_tier.period === 'daily' ? 'day' : 'month'}` : ''
  return `${money(p.price, p.currency)} per request${tier}`
}

export interface UsageDay {
  day: string
  success: number
  error: number
  rejected: number
  avg_ms: number | null
  p50_ms: number | null
  p95_ms: number | null
}

function ChartBox({ children, testId }: { children: () => React.ReactNode; testId: string }) {
  return (
    <div className="h-56" data-testid={testId}>
      <ClientOnly fallback={<p className="text-sm text-slate-500">Loading chart…</p>}>{children}</ClientOnly>
    </div>
  )
}

/** Executions per day by outcome (stacked). */
export function UsageChart({ days }: { days: UsageDay[] }) {
  const data = days.map((d) => ({ ...d, label: d.day.slice(5) }))
  return (
    <ChartBox testId="usage-chart">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis dataKey="label" tick={{ fontSize: 10 }} minTickGap={12} />
            <YAxis tick={{ fontSize: 10 }} width={36} allowDecimals={false} />
            <Tooltip labelFormatter={(_, p) => String(p?.[0]?.payload?.day ?? '')} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="success" stackId="a" fill="#059669" name="success" isAnimationActive={false} />
            <Bar dataKey="error" stackId="a" fill="#dc2626" name="error" isAnimationActive={false} />
            <Bar dataKey="rejected" stackId="a" fill="#d97706" name="rejected" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

/** Latency of successful executions per day: mean, median and 95th percentile. */
export function LatencyChart({ days }: { days: UsageDay[] }) {
  const data = days.map((d) => ({ ...d, label: d.day.slice(5) }))
  return (
    <ChartBox testId="latency-chart">
      {() => (
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
            <XAxis dataKey="label" tick={{ fontSize: 10 }} minTickGap={12} />
            <YAxis tick={{ fontSize: 10 }} width={44} unit=" ms" />
            <Tooltip formatter={(v) => [v == null ? '—' : `${Number(v).toFixed(2)} ms`]} labelFormatter={(_, p) => String(p?.[0]?.payload?.day ?? '')} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Line dataKey="p50_ms" name="P50" stroke="#4f46e5" dot={false} connectNulls isAnimationActive={false} />
            <Line dataKey="p95_ms" name="P95" stroke="#dc2626" dot={false} connectNulls isAnimationActive={false} />
            <Line dataKey="avg_ms" name="mean" stroke="#94a3b8" strokeDasharray="4 3" dot={false} connectNulls isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </ChartBox>
  )
}

/** Used / free-tier bar for a consumer; refused and billed counts beside it. */
export function FreeTierMeter({ usage }: { usage: { period: string; used_this_period: number; free_tier_requests: number | null; free_tier_remaining: number | null; total_requests: number; refused_for_quota: number; billed_requests: number; billed_amount: number; currency?: string } }) {
  const free = usage.free_tier_requests
  const pct = free ? Math.min(100, (100 * usage.used_this_period) / free) : 0
  return (
    <div className="space-y-2" data-testid="free-tier">
      {free !== null ? (
        <>
          <p className="text-sm">
            <span className="font-semibold tabular-nums" data-testid="free-tier-used">{usage.used_this_period}</span> of {free.toLocaleString('en-US')} free requests used this {usage.period === 'daily' ? 'day' : 'month'}
            {' · '}
            <span className="tabular-nums">{usage.free_tier_remaining}</span> left
          </p>
          <div className="h-2 w-full rounded bg-slate-200" role="progressbar" aria-label="Free tier used" aria-valuenow={Math.round(pct)} aria-valuemin={0} aria-valuemax={100}>
            <div className={`h-2 rounded ${pct >= 100 ? 'bg-rose-500' : pct >= 80 ? 'bg-amber-500' : 'bg-indigo-500'}`} style={{ width: `${pct}%` }} />
          </div>
        </>
      ) : (
        <p className="text-sm">
          <span className="font-semibold tabular-nums" data-testid="free-tier-used">{usage.used_this_period}</span> successful requests this {usage.period === 'daily' ? 'day' : 'month'} (no free tier)
        </p>
      )}
      <p className="text-xs text-slate-600">
        {usage.total_requests} requests in all · {usage.refused_for_quota} refused past the free tier · {usage.billed_requests} billed ({money(usage.billed_amount, usage.currency ?? 'USD')})
      </p>
    </div>
  )
}

export interface KeyFactor {
  factor: string
  importance: number
  direction: string
  contribution: number
}

/** The answer's key factors: share of |SHAP| per input column, red where it pushes towards the risk / up. */
export function KeyFactors({ factors }: { factors: KeyFactor[] }) {
  if (!factors.length) return <p className="text-sm text-slate-500">No factor moved this answer.</p>
  return (
    <ul className="space-y-1" data-testid="key-factors">
      {factors.map((f) => {
        const up = f.direction === 'risk' || f.direction === 'increases'
        return (
          <li key={f.factor} className="flex items-center gap-2 text-sm">
            <span className="w-40 truncate font-medium" title={f.factor}>{f.factor}</span>
            <span className="h-2 flex-1 rounded bg-slate-100">
              <span className={`block h-2 rounded ${up ? 'bg-rose-500' : 'bg-sky-500'}`} style={{ width: `${Math.round(100 * f.importance)}%` }} />
            </span>
            <span className="w-32 text-right text-xs tabular-nums text-slate-600">
              {(100 * f.importance).toFixed(1)}% · {f.direction}
            </span>
          </li>
        )
      })}
    </ul>
  )
}

/** An input_schema value from a form field, with the same rules the server applies (for inline hints). */
export function schemaValue(type: string, raw: string): { value: unknown } | { error: string } {
  const v = raw.trim()
  if (v === '') return { value: null }
  switch (type) {
    case 'integer':
      return /^[+-]?\d+$/.test(v) ? { value: Number(v) } : { error: 'must be an integer' }
    case 'float':
    case 'number':
      return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(v) ? { value: Number(v) } : { error: 'must be a number' }
    case 'boolean':
      return v === 'true' || v === 'false' ? { value: v === 'true' } : { error: 'must be true or false' }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) ? { value: v } : { error: 'must be a date (YYYY-MM-DD)' }
    case 'datetime':
      return Number.isNaN(Date.parse(v)) ? { error: 'must be an ISO date-time' } : { value: v }
    default:
      return { value: raw }
  }
}

/** The JSON input_data of the form's values; an empty field is null (a model's missing value, a query's default). */
export function inputData(schema: Record<string, string>, values: Record<string, string>) {
  const out: Record<string, unknown> = {}
  const errors: Record<string, string> = {}
  for (const [name, type] of Object.entries(schema)) {
    const r = schemaValue(type, values[name] ?? '')
    if ('error' in r) errors[name] = r.error
    else out[name] = r.value
  }
  return { input: out, errors }
}

import { useMemo, useState } from 'react'
import { Form } from 'react-router'
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { Button, Card, Notice, PageHeader } from '#app/components/ui.tsx'
import { ClientOnly, fmtInt, fmtPct, fmtTime, KpiTile, useAutoRefresh } from '#app/features/ops/components.tsx'
import { useRootData } from '#app/root.tsx'
import type { Route } from './+types/_app.agent'

export const meta = () => [{ title: 'Agent performance · Hot Dash' }]

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const m = await import('#app/features/ops/ops.server.ts')
  const { daysQuery } = await import('#app/features/ops/schemas.ts')
  const parsed = daysQuery.safeParse({ days: new URL(request.url).searchParams.get('days') ?? '14' })
  const days = parsed.success ? parsed.data.days : 14
  return uiLoader(request, 'analytics.read', async (db, caller) => {
    const [summary, accuracy, quality, queue] = await Promise.all([
      m.getAgentSummary(db),
      m.getAgentAccuracy(db, { days }),
      m.getTrainingQuality(db, { days }),
      m.getQueueMetrics(db, { groupBy: 'day', days }),
    ])
    return {
      summary, accuracy, quality, queue, days,
      canExport: caller.kind === 'service' || (caller.roles.includes('admin') && caller.permissions.has('analytics.export')),
      canExportPii: caller.permissions.has('analytics.export_pii'),
    }
  })
}

const COLORS = ['#4f46e5', '#059669', '#d97706', '#dc2626', '#0891b2', '#7c3aed', '#64748b']
const METRICS = [
  { key: 'approval_rate_pct', label: 'Approval rate %' },
  { key: 'edit_rate_pct', label: 'Edit rate %' },
  { key: 'avg_accuracy_score', label: 'Accuracy (1–5)' },
  { key: 'avg_latency_ms', label: 'Latency ms' },
] as const

export default function Agent({ loaderData }: Route.ComponentProps) {
  const { summary: s, accuracy, quality, days, canExport, canExportPii } = loaderData
  useAutoRefresh(60_000)
  const [metric, setMetric] = useState<(typeof METRICS)[number]['key']>('approval_rate_pct')
  const agents = useMemo(() => [...new Set(accuracy.map((r: any) => r.agent_type as string))].sort(), [accuracy])
  const byDay = useMemo(() => {
    const m = new Map<string, Record<string, unknown>>()
    for (const r of [...accuracy].reverse() as any[]) {
      const row: Record<string, unknown> = m.get(r.day_bucket) ?? { day: r.day_bucket }
      row[r.agent_type] = r[metric]
      m.set(r.day_bucket, row)
    }
    return [...m.values()].sort((a, b) => String(a.day).localeCompare(String(b.day)))
  }, [accuracy, metric])
  const qualityByDay = [...quality].reverse()

  return (
    <>
      <PageHeader
        title="Agent performance"
        description={`The AI agent's drafts and queries, last 24 hours and the last ${days} days (UTC days).`}
        actions={
          <Form method="get" className="flex items-center gap-2 text-sm" onChange={(e) => e.currentTarget.requestSubmit()}>
            <label htmlFor="days" className="text-slate-600">Days</label>
            <select id="days" name="days" defaultValue={String(days)} className="rounded-md border border-slate-300 px-2 py-1">
              {[7, 14, 30].map((d) => <option key={d} value={d}>{d}</option>)}
            </select>
          </Form>
        }
      />
      <section aria-label="Last 24 hours" className="grid grid-cols-2 gap-4 md:grid-cols-5">
        <KpiTile label="Pending approvals" value={fmtInt(s.pending_approvals)} />
        <KpiTile label="Approvals (24 h)" value={fmtInt(s.approvals_24h)} />
        <KpiTile label="Avg confidence" value={fmtPct(s.avg_confidence_24h)} />
        <KpiTile label="Queries (24 h)" value={fmtInt(s.queries_24h)} hint={`${fmtInt(s.approved_queries_24h)} approved`} />
        <KpiTile label="Avg latency" value={s.avg_latency_24h == null ? '—' : `${Math.round(s.avg_latency_24h)} ms`} />
        <KpiTile label="Training examples" value={fmtInt(s.training_examples_24h)} hint={`${fmtInt(s.safe_examples_24h)} safe to send`} />
        <KpiTile label="Avg accuracy" value={s.avg_accuracy_24h == null ? '—' : s.avg_accuracy_24h.toFixed(2)} />
      </section>
      <p className="mt-2 text-xs text-slate-500">Updated {fmtTime(s.summary_updated_at)}</p>

      <div className="mt-6 grid gap-6 xl:grid-cols-2">
        <Card title="By agent type">
          <div className="mb-2 flex flex-wrap gap-3 text-sm" role="radiogroup" aria-label="Metric">
            {METRICS.map((m) => (
              <label key={m.key} className="inline-flex items-center gap-1">
                <input type="radio" name="metric" checked={metric === m.key} onChange={() => setMetric(m.key)} /> {m.label}
              </label>
            ))}
          </div>
          <div className="h-72" data-testid="agent-chart">
            <ClientOnly>
              {() => (
                <ResponsiveContainer width="100%" height="100%">
                  <LineChart data={byDay}>
                    <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                    <XAxis dataKey="day" tick={{ fontSize: 11 }} />
                    <YAxis tick={{ fontSize: 11 }} />
                    <Tooltip />
                    <Legend />
                    {agents.map((a, i) => (
                      <Line key={a} dataKey={a} name={a.replaceAll('_', ' ')} stroke={COLORS[i % COLORS.length]} dot={false} isAnimationActive={false} connectNulls />
                    ))}
                  </LineChart>
                </ResponsiveContainer>
              )}
            </ClientOnly>
          </div>
        </Card>
        <Card title="Training-data quality">
          <div className="h-72" data-testid="quality-chart">
            <ClientOnly>
              {() => (
                <ResponsiveContainer width="100%" height="100%">
                  <LineChart data={qualityByDay}>
                    <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                    <XAxis dataKey="day_bucket" tick={{ fontSize: 11 }} />
                    <YAxis yAxisId="score" domain={[1, 5]} tick={{ fontSize: 11 }} />
                    <YAxis yAxisId="pct" orientation="right" domain={[0, 100]} tick={{ fontSize: 11 }} />
                    <Tooltip />
                    <Legend />
                    <Line yAxisId="score" dataKey="overall_quality_score" name="Overall quality" stroke="#4f46e5" dot={false} isAnimationActive={false} />
                    <Line yAxisId="pct" dataKey="safety_rate_pct" name="Safe to send %" stroke="#059669" dot={false} isAnimationActive={false} />
                    <Line yAxisId="pct" dataKey="high_quality_rate_pct" name="High quality %" stroke="#d97706" dot={false} isAnimationActive={false} />
                  </LineChart>
                </ResponsiveContainer>
              )}
            </ClientOnly>
          </div>
        </Card>
      </div>
      {canExport ? <ExportForm canExportPii={canExportPii} /> : null}
    </>
  )
}

/** Downloads through the API route itself (cookie session + CSRF header), so the export rules live in one place. */
function ExportForm({ canExportPii }: { canExportPii: boolean }) {
  const root = useRootData()
  const [state, setState] = useState<{ busy: boolean; error?: string; done?: string }>({ busy: false })
  const today = new Date().toISOString().slice(0, 10)
  const twoWeeksAgo = new Date(Date.now() - 14 * 86_400_000).toISOString().slice(0, 10)
  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault()
    const f = new FormData(e.currentTarget)
    setState({ busy: true })
    const res = await fetch('/api/v1/analytics/export/training-data', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': root?.csrf ?? '' },
      body: JSON.stringify({
        date_from: new Date(`${f.get('date_from')}T00:00:00Z`).toISOString(),
        date_to: new Date(`${f.get('date_to')}T23:59:59Z`).toISOString(),
        include_pii: f.get('include_pii') === 'on',
        format: f.get('format'),
      }),
    }).catch(() => null)
    if (!res?.ok) {
      const body = await res?.json().catch(() => null)
      setState({ busy: false, error: body?.error?.message ?? 'The export failed' })
      return
    }
    const blob = await res.blob()
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'training-data'
    const a = document.createElement('a')
    a.href = URL.createObjectURL(blob)
    a.download = name
    a.click()
    URL.revokeObjectURL(a.href)
    setState({ busy: false, done: name })
  }
  return (
    <Card className="mt-6" title="Export training data">
      <form onSubmit={onSubmit} className="flex flex-wrap items-end gap-4 text-sm">
        <label className="flex flex-col gap-1">From<input type="date" name="date_from" defaultValue={twoWeeksAgo} required className="rounded-md border border-slate-300 px-2 py-1" /></label>
        <label className="flex flex-col gap-1">To<input type="date" name="date_to" defaultValue={today} required className="rounded-md border border-slate-300 px-2 py-1" /></label>
        <label className="flex flex-col gap-1">Format
          <select name="format" className="rounded-md border border-slate-300 px-2 py-1"><option value="json">JSON</option><option value="csv">CSV</option></select>
        </label>
        <label className="inline-flex items-center gap-2" title={canExportPii ? '' : 'Needs the analytics.export_pii permission'}>
          <input type="checkbox" name="include_pii" disabled={!canExportPii} /> Include personal data (unredacted)
        </label>
        <Button type="submit" disabled={state.busy}>{state.busy ? 'Exporting…' : 'Download'}</Button>
      </form>
      <p className="mt-2 text-xs text-slate-500">Without personal data, emails, phone numbers, card numbers, street addresses and names are replaced by placeholders. Limited to 10 exports per hour.</p>
      {state.error ? <div className="mt-3"><Notice kind="error">{state.error}</Notice></div> : null}
      {state.done ? <div className="mt-3"><Notice kind="success">Downloaded {state.done}</Notice></div> : null}
    </Card>
  )
}

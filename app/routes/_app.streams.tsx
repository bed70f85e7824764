import { useEffect, useMemo, useState } from 'react'
import { Form, Link, redirect, useActionData, useNavigation } from 'react-router'
import { CartesianGrid, Legend, Line, LineChart, ReferenceDot, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { Button, Card, CsrfInput, EmptyState, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CheckboxGroup, CsvButton, fmtNum, PALETTE, Select } from '#app/features/analytics/components.tsx'
import { ClientOnly } from '#app/features/ops/components.tsx'
import type { Route } from './+types/_app.streams'

export const meta = () => [{ title: 'Streams · Hot Dash' }]

const AGGS = ['count', 'sum', 'avg', 'min', 'max', 'p95']

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const st = await import('#app/features/streams/streams.server.ts')
  const url = new URL(request.url)
  return uiLoader(request, 'analytics.read', async (db, caller) => {
    const list = await st.listStreams(db, { limit: 100, offset: 0 })
    const chosenId = url.searchParams.get('stream') ?? list.streams[0]?.stream_id ?? null
    const chosen = chosenId && list.streams.some((s) => s.stream_id === chosenId) ? await st.getStream(db, chosenId, request) : null
    const metrics = chosen ? await st.streamMetrics(db, chosen.stream_id) : null
    return { streams: list.streams, chosen, metrics, canWrite: caller.permissions.has('analytics.write') }
  })
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction } = await import('#app/http/ui.server.ts')
  const st = await import('#app/features/streams/streams.server.ts')
  const { createStreamBody } = await import('#app/features/streams/schemas.ts')
  const { createStreamForm } = await import('#app/features/streams/forms.ts')
  const form = await request.clone().formData()
  const intent = String(form.get('intent'))
  const id = String(form.get('stream_id') ?? '')
  // Test events commit in a transaction of their own (then go live), so they do not run inside the page's.
  if (intent === 'send' || intent === 'spike') return st.sendSampleEvents(request, id, intent === 'spike')
  const res = await uiAction(request, 'analytics.write', async (db, caller, f) => {
    if (intent === 'create') return st.createStream(db, caller, createStreamBody.parse(createStreamForm(f)), request)
    if (intent === 'delete') return st.deleteStream(db, id)
    return null
  })
  if (res.data.ok && intent === 'create') throw redirect(`/streams?stream=${(res.data.result as { stream_id: string }).stream_id}`, { headers: res.init?.headers })
  if (res.data.ok && intent === 'delete') throw redirect('/streams', { headers: res.init?.headers })
  return res
}

interface LiveWindow {
  window_start: string
  window_end: string
  series_key: string
  key: Record<string, unknown> | null
  closed: boolean
  version: number
  values: Record<string, number | null>
}
interface LiveAnomaly {
  window_start: string
  series_key: string
  aggregation: string
  value: number
  z_score: number | null
}
interface LiveMetrics {
  events_processed?: number
  events_per_second?: number
  avg_latency_ms?: number
  anomalies_detected?: number
  late_events?: number
}

/** Follows a stream over SSE: the snapshot, then every update; the windows keyed by start and series. */
function useLiveStream(id: string | null, initial: LiveMetrics) {
  const [windows, setWindows] = useState<Map<string, LiveWindow>>(new Map())
  const [anomalies, setAnomalies] = useState<LiveAnomaly[]>([])
  const [metrics, setMetrics] = useState<LiveMetrics>(initial)
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting'>('connecting')
  useEffect(() => {
    if (!id) return
    const es = new EventSource(`/api/v1/stream/${id}/live`)
    const put = (ws: LiveWindow[], reset = false) =>
      setWindows((old) => {
        const m = reset ? new Map<string, LiveWindow>() : new Map(old)
        for (const w of ws) m.set(`${w.window_start}|${w.series_key}`, w)
        return m
      })
    es.addEventListener('open', () => setState('live'))
    es.addEventListener('error', () => setState('reconnecting'))
    es.addEventListener('snapshot', (e) => {
      const d = JSON.parse((e as MessageEvent).data)
      put(d.windows, true)
      setAnomalies(d.anomalies)
      setState('live')
    })
    es.addEventListener('update', (e) => {
      const d = JSON.parse((e as MessageEvent).data)
      put(d.windows)
      if (d.anomalies.length) setAnomalies((a) => [...d.anomalies, ...a].slice(0, 200))
      setMetrics((m) => ({ ...m, ...d.metrics }))
    })
    es.addEventListener('metrics', (e) => setMetrics((m) => ({ ...m, ...JSON.parse((e as MessageEvent).data).metrics })))
    return () => es.close()
  }, [id])
  return { windows: [...windows.values()].sort((a, b) => a.window_start.localeCompare(b.window_start) || a.series_key.localeCompare(b.series_key)), anomalies, metrics, state }
}

function Tile({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <p className="text-xs uppercase tracking-wide text-slate-500">{label}</p>
      <p className="mt-1 text-2xl font-semibold text-slate-900" data-testid={testId}>
        {value}
      </p>
    </div>
  )
}

const seriesLabel = (w: { key: Record<string, unknown> | null }) => (w.key ? Object.values(w.key).join(' · ') : 'all')

function WindowChart({ windows, anomalies, agg }: { windows: LiveWindow[]; anomalies: LiveAnomaly[]; agg: string }) {
  const series = [...new Set(windows.map(seriesLabel))].slice(0, 8)
  const rows = useMemo(() => {
    const byStart = new Map<string, Record<string, number | string | null>>()
    for (const w of windows) {
      const r = byStart.get(w.window_start) ?? { t: w.window_start, label: new Date(w.window_start).toLocaleTimeString() }
      r[seriesLabel(w)] = w.values[agg] ?? null
      byStart.set(w.window_start, r)
    }
    return [...byStart.values()].slice(-60)
  }, [windows, agg])
  const marks = anomalies.filter((a) => rows.some((r) => r.t === a.window_start))
  return (
    <div className="h-72" data-testid="stream-chart">
      <ClientOnly fallback={<p className="text-sm text-slate-500">Loading chart…</p>}>
        {() => (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={rows} margin={{ top: 10, right: 20, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
              <XAxis dataKey="label" fontSize={11} />
              <YAxis fontSize={11} />
              <Tooltip />
              <Legend />
              {series.map((s, i) => (
                <Line key={s} type="monotone" dataKey={s} stroke={PALETTE[i % PALETTE.length]} dot={{ r: 2 }} isAnimationActive={false} connectNulls />
              ))}
              {marks.map((a) => {
                const r = rows.find((x) => x.t === a.window_start)!
                return <ReferenceDot key={`${a.window_start}|${a.series_key}`} x={r.label as string} y={a.aggregation === agg ? a.value : (r[series[0]] as number)} r={7} fill="#dc2626" stroke="white" />
              })}
            </LineChart>
          </ResponsiveContainer>
        )}
      </ClientOnly>
    </div>
  )
}

export default function Streams({ loaderData }: Route.ComponentProps) {
  const { streams, chosen, metrics: initialMetrics, canWrite } = loaderData
  const actionData = useActionData<typeof action>() as { ok: boolean; error?: { message: string; fields: Record<string, string> } } | undefined
  const nav = useNavigation()
  const busy = nav.state !== 'idle'
  const live = useLiveStream(chosen?.stream_id ?? null, initialMetrics?.metrics ?? {})
  const aggs = chosen?.analytics.aggregations ?? []
  const [agg, setAgg] = useState<string>(aggs.includes('sum') ? 'sum' : (aggs[0] ?? 'count'))
  useEffect(() => setAgg(aggs.includes('sum') ? 'sum' : (aggs[0] ?? 'count')), [chosen?.stream_id]) // eslint-disable-line react-hooks/exhaustive-deps
  const err = actionData && !actionData.ok ? actionData.error : undefined
  const m = live.metrics

  return (
    <div className="flex flex-col gap-6">
      <PageHeader title="Streams" description="Real-time windows over event streams: aggregates per window, anomalies, live over Server-Sent Events." />
      {err ? <Notice kind="error">{err.message}</Notice> : null}

      <div className="grid gap-6 lg:grid-cols-[18rem_1fr]">
        <div className="flex flex-col gap-4">
          <Card title="Your streams">
            {streams.length ? (
              <ul className="flex flex-col gap-1 text-sm">
                {streams.map((s) => (
                  <li key={s.stream_id}>
                    <Link to={`/streams?stream=${s.stream_id}`} className={`block rounded px-2 py-1 ${s.stream_id === chosen?.stream_id ? 'bg-indigo-50 font-medium text-indigo-700' : 'hover:bg-slate-50'}`}>
                      {s.stream_name} <span className="text-xs text-slate-500">({s.source.type}, {s.analytics.window})</span>
                    </Link>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="text-sm text-slate-500">No streams yet.</p>
            )}
          </Card>
          {canWrite ? (
            <Card title="Create a stream">
              <Form method="post" className="flex flex-col gap-3">
                <CsrfInput />
                <input type="hidden" name="intent" value="create" />
                <Field label="Name" name="stream_name" required maxLength={100} error={err?.fields.stream_name} />
                <Select label="Source" name="source_type" options={[{ value: 'http', label: 'HTTP (POST events)' }, { value: 'redis', label: 'Redis Streams' }, { value: 'nats', label: 'NATS JetStream' }]} defaultValue="http" />
                <div className="grid grid-cols-2 gap-2">
                  <Field label="Window" name="window" defaultValue="1m" required error={err?.fields['analytics.window']} />
                  <Select label="Type" name="type" options={[{ value: 'tumbling', label: 'tumbling' }, { value: 'sliding', label: 'sliding' }]} defaultValue="tumbling" />
                </div>
                <Field label="Slide (sliding only)" name="slide" placeholder="20s" error={err?.fields['analytics.slide']} />
                <CheckboxGroup legend="Aggregations" name="aggregations" options={AGGS} defaults={['count', 'sum', 'avg', 'p95']} />
                {err?.fields['analytics.aggregations'] ? <p className="text-xs text-rose-600">{err.fields['analytics.aggregations']}</p> : null}
                <div className="grid grid-cols-2 gap-2">
                  <Field label="Value field" name="value_field" defaultValue="value" />
                  <Field label="Time field" name="time_field" defaultValue="timestamp" />
                </div>
                <Field label="Group by (comma-separated)" name="group_by" placeholder="region" />
                <div className="grid grid-cols-2 gap-2">
                  <Field label="Allowed lateness" name="allowed_lateness" defaultValue="10s" error={err?.fields['analytics.allowed_lateness']} />
                  <Field label="Anomaly |z| >" name="threshold" defaultValue="3.5" inputMode="decimal" />
                </div>
                <Button type="submit" disabled={busy}>
                  {busy && nav.formData?.get('intent') === 'create' ? 'Creating…' : 'Create stream'}
                </Button>
              </Form>
            </Card>
          ) : null}
        </div>

        {chosen ? (
          <div className="flex flex-col gap-4">
            <Card>
              <div className="flex flex-wrap items-start justify-between gap-3">
                <div>
                  <h2 className="text-lg font-semibold text-slate-900">{chosen.stream_name}</h2>
                  <p className="text-sm text-slate-600">
                    {chosen.source.type} · {chosen.analytics.type} {chosen.analytics.window}
                    {chosen.analytics.slide ? ` every ${chosen.analytics.slide}` : ''} · {chosen.analytics.aggregations.join(', ')}
                    {chosen.analytics.group_by.length ? ` by ${chosen.analytics.group_by.join(', ')}` : ''} · lateness {chosen.analytics.allowed_lateness}
                  </p>
                  <p className="mt-1 text-xs text-slate-500">
                    <span data-testid="live-state" className={live.state === 'live' ? 'text-emerald-700' : 'text-amber-700'}>
                      ● {live.state}
                    </span>{' '}
                    · id <code>{chosen.stream_id}</code> · WebSocket <code>{chosen.websocket_url}</code>
                    {chosen.source.stream_key ? <> · XADD to <code>{chosen.source.stream_key}</code></> : null}
                    {chosen.source.subject ? <> · publish to <code>{chosen.source.subject}</code></> : null}
                    {chosen.source.type === 'http' ? <> · POST to <code>/api/v1/stream/{chosen.stream_id}/events</code></> : null}
                  </p>
                </div>
                {canWrite ? (
                  <div className="flex gap-2">
                    {chosen.source.type === 'http' ? (
                      <>
                        <Form method="post">
                          <CsrfInput />
                          <input type="hidden" name="stream_id" value={chosen.stream_id} />
                          <Button type="submit" name="intent" value="send" variant="secondary" disabled={busy}>
                            Send test events
                          </Button>
                        </Form>
                        <Form method="post">
                          <CsrfInput />
                          <input type="hidden" name="stream_id" value={chosen.stream_id} />
                          <Button type="submit" name="intent" value="spike" variant="secondary" disabled={busy}>
                            Send a spike
                          </Button>
                        </Form>
                      </>
                    ) : null}
                    <Form method="post" onSubmit={(e) => (!confirm(`Delete stream “${chosen.stream_name}” with its windows and anomalies?`) ? e.preventDefault() : undefined)}>
                      <CsrfInput />
                      <input type="hidden" name="stream_id" value={chosen.stream_id} />
                      <Button type="submit" name="intent" value="delete" variant="danger" disabled={busy}>
                        Delete
                      </Button>
                    </Form>
                  </div>
                ) : null}
              </div>
            </Card>

            <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
              <Tile label="Events processed" value={fmtNum(m.events_processed ?? 0)} testId="tile-events" />
              <Tile label="Events / s (last min)" value={fmtNum(m.events_per_second ?? 0)} testId="tile-eps" />
              <Tile label="Avg latency (ms)" value={fmtNum(m.avg_latency_ms ?? 0)} testId="tile-latency" />
              <Tile label="Anomalies" value={fmtNum(m.anomalies_detected ?? 0)} testId="tile-anomalies" />
            </div>

            <Card title="Windows">
              <div className="mb-2 flex items-center gap-3 text-sm">
                <label className="flex items-center gap-2">
                  Show
                  <select value={agg} onChange={(e) => setAgg(e.target.value)} className="rounded border border-slate-300 px-2 py-1" aria-label="Aggregation shown">
                    {aggs.map((a) => (
                      <option key={a}>{a}</option>
                    ))}
                  </select>
                </label>
                <span className="text-slate-500">red dots: anomalous windows</span>
              </div>
              {live.windows.length ? <WindowChart windows={live.windows} anomalies={live.anomalies} agg={agg} /> : <EmptyState title="No windows yet">Events will appear here as they arrive.</EmptyState>}
            </Card>

            <Card title="Recent windows">
              <div className="mb-2 flex justify-end">
                <CsvButton name={`${chosen.stream_name}-windows`} rows={live.windows.map((w) => ({ window_start: w.window_start, window_end: w.window_end, series: seriesLabel(w), closed: w.closed, ...w.values }))} />
              </div>
              <Table headers={['window start', 'series', 'state', ...aggs]}>
                {live.windows.slice(-20).reverse().map((w) => (
                  <tr key={`${w.window_start}|${w.series_key}`} data-testid="window-row">
                    <td className="px-3 py-1.5 text-sm">{new Date(w.window_start).toLocaleString()}</td>
                    <td className="px-3 py-1.5 text-sm">{seriesLabel(w)}</td>
                    <td className="px-3 py-1.5 text-sm">{w.closed ? 'closed' : 'open'}</td>
                    {aggs.map((a) => (
                      <td key={a} className="px-3 py-1.5 text-right text-sm tabular-nums" data-testid={`cell-${a}`}>
                        {fmtNum(w.values[a])}
                      </td>
                    ))}
                  </tr>
                ))}
              </Table>
            </Card>

            <Card title="Anomalies">
              {live.anomalies.length ? (
                <Table headers={['window start', 'series', 'aggregation', 'value', 'robust z']}>
                  {live.anomalies.slice(0, 50).map((a) => (
                    <tr key={`${a.window_start}|${a.series_key}`}>
                      <td className="px-3 py-1.5 text-sm">{new Date(a.window_start).toLocaleString()}</td>
                      <td className="px-3 py-1.5 text-sm">{a.series_key ? (JSON.parse(a.series_key) as unknown[]).join(' · ') : 'all'}</td>
                      <td className="px-3 py-1.5 text-sm">{a.aggregation}</td>
                      <td className="px-3 py-1.5 text-right text-sm tabular-nums">{fmtNum(a.value)}</td>
                      <td className="px-3 py-1.5 text-right text-sm tabular-nums">{fmtNum(a.z_score)}</td>
                    </tr>
                  ))}
                </Table>
              ) : (
                <p className="text-sm text-slate-500">None yet: a closed window is flagged when its robust z-score against the series’ recent windows passes the threshold.</p>
              )}
            </Card>
          </div>
        ) : (
          <EmptyState title="No stream selected">Create a stream to watch its windows live.</EmptyState>
        )}
      </div>
    </div>
  )
}

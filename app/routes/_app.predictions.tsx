import { Form, Link } from 'react-router'
import { Button, Card, EmptyState, PageHeader, Table } from '#app/components/ui.tsx'
import type { Route } from './+types/_app.predictions'

export const meta = () => [{ title: 'Predictions · Hot Dash' }]

const LIMIT = 50

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const inf = await import('#app/features/inference/inference.server.ts')
  const { predictionsQuery } = await import('#app/features/inference/schemas.ts')
  const ml = await import('#app/features/ml/ml.server.ts')
  const url = new URL(request.url)
  const raw = Object.fromEntries([...url.searchParams].filter(([, v]) => v !== ''))
  const parsed = predictionsQuery.safeParse({ ...raw, format: 'json', limit: String(LIMIT) })
  const query = parsed.success ? parsed.data : predictionsQuery.parse({ limit: String(LIMIT) })
  return uiLoader(request, 'models.read', async (db) => {
    const models = (await ml.listTrainings(db, { skip: 0, limit: 500 })).data.map((t) => ({ id: t.id, name: t.predictor_name }))
    const log = (await inf.listPredictions(db, query)) as unknown as { total: number; data: Item[] }
    const csv = new URLSearchParams({ ...raw, format: 'csv' })
    csv.delete('skip')
    return { models, log, query: { ...raw }, invalid: parsed.success ? null : parsed.error.issues.map((i) => i.path.join('.')).join(', '), csvHref: `/api/v1/inference/predictions?${csv}` }
  })
}

interface Item {
  prediction_id: number
  train_id: number
  date: string
  dataset_id: number | null
  predictor_name: string
  prediction_type: string
  input_data: string
  status: string
  no_of_records: number
  accuracy: number | null
  output: { prediction?: unknown } | null
  latency_ms: number | null
}

export default function Predictions({ loaderData }: Route.ComponentProps) {
  const { models, log, query, invalid, csvHref } = loaderData
  const skip = Number(query.skip ?? 0)
  const pageHref = (s: number) => `?${new URLSearchParams({ ...query, skip: String(s) })}`
  return (
    <div className="space-y-6">
      <PageHeader title="Predictions" description="Every real-time and batch prediction, newest first." actions={<a href={csvHref} className="text-sm text-indigo-700 underline" download>Download CSV</a>} />
      <Card>
        <Form method="get" className="flex flex-wrap items-end gap-3" aria-label="Filters">
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Model
            <select name="train_id" defaultValue={query.train_id ?? ''} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal">
              <option value="">All models</option>
              {models.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name} (#{m.id})
                </option>
              ))}
            </select>
          </label>
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Type
            <select name="prediction_type" defaultValue={query.prediction_type ?? ''} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal">
              <option value="">All</option>
              <option value="realtime">Real-time</option>
              <option value="batch">Batch</option>
            </select>
          </label>
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Status
            <select name="status" defaultValue={query.status ?? ''} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal">
              <option value="">All</option>
              {['completed', 'running', 'submitted', 'failed', 'cancelled'].map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            From
            <input type="date" name="from" defaultValue={query.from ?? ''} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal" />
          </label>
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            To
            <input type="date" name="to" defaultValue={query.to ?? ''} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal" />
          </label>
          <Button type="submit">Filter</Button>
        </Form>
        {invalid ? <p className="mt-2 text-sm text-rose-600">Ignored invalid filter(s): {invalid}</p> : null}
      </Card>
      <Card title={`${log.total} prediction${log.total === 1 ? '' : 's'}`}>
        {log.data.length ? (
          <>
            <Table headers={['#', 'Date', 'Model', 'Type', 'Input', 'Prediction', 'Status', 'Rows', 'Accuracy', 'Latency']}>
              {log.data.map((p) => (
                <tr key={p.prediction_id}>
                  <td className="px-3 py-2">{p.prediction_id}</td>
                  <td className="px-3 py-2 text-xs">{new Date(p.date).toISOString().replace('T', ' ').slice(0, 19)}</td>
                  <td className="px-3 py-2">
                    <Link to={`/models/${p.train_id}/predict`} className="text-indigo-700 underline">
                      {p.predictor_name}
                    </Link>
                  </td>
                  <td className="px-3 py-2">{p.prediction_type}</td>
                  <td className="max-w-xs truncate px-3 py-2 text-xs" title={p.input_data}>
                    {p.input_data}
                  </td>
                  <td className="px-3 py-2">{p.output?.prediction === undefined ? '—' : String(p.output.prediction)}</td>
                  <td className="px-3 py-2">{p.status}</td>
                  <td className="px-3 py-2">{p.no_of_records}</td>
                  <td className="px-3 py-2">{p.accuracy === null ? '—' : p.accuracy.toFixed(4)}</td>
                  <td className="px-3 py-2">{p.latency_ms === null ? '—' : `${p.latency_ms.toFixed(1)} ms`}</td>
                </tr>
              ))}
            </Table>
            <div className="mt-3 flex gap-3 text-sm">
              {skip > 0 ? <Link to={pageHref(Math.max(0, skip - LIMIT))}>← Newer</Link> : null}
              {skip + LIMIT < log.total ? <Link to={pageHref(skip + LIMIT)}>Older →</Link> : null}
            </div>
          </>
        ) : (
          <EmptyState title="No predictions match">Predictions appear here as soon as a model answers one, or a batch is started.</EmptyState>
        )}
      </Card>
    </div>
  )
}

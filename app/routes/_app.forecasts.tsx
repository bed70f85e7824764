import { Form, Link } from 'react-router'
import { Card, EmptyState, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { ForecastChart, ForecastFields } from '#app/features/ml/forecast-chart.tsx'
import type { Route } from './+types/_app.forecasts'

export const meta = () => [{ title: 'Forecasts · Hot Dash' }]

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const fc = await import('#app/features/ml/ml.server.ts')
  const url = new URL(request.url)
  const q = (k: string) => url.searchParams.get(k) || undefined
  return uiLoader(request, 'models.read', async (db) => {
    const trainings = (await fc.forecastTrainings(db)).map((t) => ({ id: t.id, name: t.predictor_name, ready: t.model_id !== null, dataset: t.dataset_name }))
    const chosen = trainings.find((t) => String(t.id) === q('train_id')) ?? trainings.find((t) => t.ready) ?? null
    let chart: Awaited<ReturnType<typeof fc.forecastChart>> | null = null
    let error: string | null = null
    if (chosen?.ready) {
      try {
        chart = await fc.forecastChart(db, chosen.id, fc.forecastChartOptions(url))
      } catch (e) {
        error = toApiError(e).message
      }
    }
    return { trainings, chosen, chart, error }
  })
}

const csvOf = (rows: { date: string; value: number; lower: number; upper: number; confidence: number }[]) =>
  'date,value,lower,upper,confidence\n' + rows.map((r) => [r.date, r.value, r.lower, r.upper, r.confidence].join(',')).join('\n') + '\n'

export default function Forecasts({ loaderData }: Route.ComponentProps) {
  const { trainings, chosen, chart, error } = loaderData
  return (
    <div className="flex flex-col gap-4">
      <PageHeader title="Forecasts" description="History, forecast and prediction interval of a forecast model's series (POST /api/v1/inference/forecast gives the same numbers)." />
      {!trainings.length ? (
        <EmptyState title="No forecast models yet">
          Train one with problem_type Forecast (a Date column as Timestamp, a numeric Target, optionally a series id) through POST /api/v1/train/.
        </EmptyState>
      ) : (
        <Card>
          <Form method="get" className="flex flex-wrap items-end gap-3" data-testid="forecast-form">
            <label className="flex flex-col text-sm">
              <span className="text-slate-600">Model</span>
              <select name="train_id" defaultValue={chosen?.id} className="rounded border border-slate-300 px-2 py-1" onChange={(e) => e.currentTarget.form?.requestSubmit()}>
                {trainings.map((t) => (
                  <option key={t.id} value={t.id} disabled={!t.ready}>
                    {t.name} ({t.dataset}){t.ready ? '' : ' — training'}
                  </option>
                ))}
              </select>
            </label>
            {chart && <ForecastFields chart={chart} />}
            <button type="submit" className="rounded bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700">
              Show forecast
            </button>
          </Form>
        </Card>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      {chosen && !chosen.ready && <Notice>This model is still training; its forecast appears when the training completes.</Notice>}
      {chart && (
        <>
          <Card title={`${chart.predictor_name} · ${chart.unique_id || 'series'} · ${chart.model}`}>
            <ForecastChart history={chart.history} forecast={chart.forecast} confidence={chart.confidence} />
            {chart.filled > 0 && <p className="mt-2 text-xs text-slate-500">{chart.filled} missing period(s) of this series were filled by linear interpolation before training.</p>}
          </Card>
          <div className="grid gap-4 lg:grid-cols-2">
            <Card title="Forecast">
              <div className="mb-2 flex justify-end">
                <a
                  className="text-sm text-indigo-700 underline"
                  download={`forecast-${chart.train_id}-${chart.unique_id || 'series'}.csv`}
                  href={`data:text/csv;charset=utf-8,${encodeURIComponent(csvOf(chart.forecast))}`}
                >
                  Download CSV
                </a>
              </div>
              <Table headers={['Date', 'Forecast', 'Lower', 'Upper']}>
                {chart.forecast.map((p) => (
                  <tr key={p.date} className="border-t border-slate-100">
                    <td className="px-3 py-1.5">{p.date}</td>
                    <td className="px-3 py-1.5 tabular-nums">{p.value.toFixed(2)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{p.lower.toFixed(2)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{p.upper.toFixed(2)}</td>
                  </tr>
                ))}
              </Table>
            </Card>
            <Card title="Backtest of this series (lower MASE is better; below 1 beats the in-sample seasonal naive)">
              <Table headers={['Candidate', 'MASE', 'sMAPE %', 'Origins']}>
                {chart.leaderboard.map((l) => (
                  <tr key={l.model} className="border-t border-slate-100">
                    <td className="px-3 py-1.5">{l.label}</td>
                    <td className="px-3 py-1.5 tabular-nums">{l.mase === null ? '—' : l.mase.toFixed(3)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{l.smape === null ? '—' : l.smape.toFixed(2)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{l.origins}{l.error ? ` (${l.error})` : ''}</td>
                  </tr>
                ))}
              </Table>
              <p className="mt-2 text-xs text-slate-500">
                Whole training: <Link className="underline" to={`/api/v1/train/model-summary?train_id=${chart.train_id}`}>model summary</Link>.
              </p>
            </Card>
          </div>
        </>
      )}
    </div>
  )
}

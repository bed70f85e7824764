import { Form, useFetcher } from 'react-router'
import { Button, Card, CsrfInput, EmptyState, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import {
  BoxPlot, CheckboxGroup, CsvButton, fmtNum, fmtP, ForecastChart, Heatmap, HistogramChart, Select, ShareBars, type ForecastPoint,
} from '#app/features/analytics/components.tsx'
import type { Route } from './+types/_app.analytics'

export const meta = () => [{ title: 'Analytics · Hot Dash' }]

const METRICS = ['count', 'mean', 'median', 'std', 'min', 'max', 'quartiles', 'skewness', 'kurtosis', 'missing', 'distinct', 'histogram']
const NUMERIC_TYPES = ['Integer', 'Float']

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const an = await import('#app/features/analytics/analytics.server.ts')
  const { descriptiveBody } = await import('#app/features/analytics/schemas.ts')
  const url = new URL(request.url)
  const q = (k: string) => url.searchParams.get(k) || undefined
  return uiLoader(request, 'analytics.read', async (db, caller) => {
    const datasets = (await an.analyticsDatasets(db)).map((d) => ({ id: d.id, name: d.dataset_name, rows: d.valid_records, columns: d.columns.map((c) => ({ name: c.column_name, type: c.data_type })) }))
    const chosen = datasets.find((d) => String(d.id) === q('dataset')) ?? datasets[0] ?? null
    const filters = q('start') || q('end') ? { date_range: { ...(q('start') ? { start: q('start') } : {}), ...(q('end') ? { end: q('end') } : {}) } } : undefined
    const out = {
      datasets,
      chosen,
      groupBy: q('group_by') ?? '',
      start: q('start') ?? '',
      end: q('end') ?? '',
      descriptive: null as Awaited<ReturnType<typeof an.describeDataset>> | null,
      matrix: null as Awaited<ReturnType<typeof an.correlationMatrix>> | null,
      error: null as string | null,
      canWrite: caller.permissions.has('analytics.write'),
    }
    if (!chosen) return out
    try {
      const body = descriptiveBody.parse({ dataset_id: chosen.id, metrics: METRICS, group_by: out.groupBy ? [out.groupBy] : [], filters, max_groups: 50 })
      out.descriptive = await an.describeDataset(db, caller, body)
      if (chosen.columns.filter((c) => NUMERIC_TYPES.includes(c.type)).length >= 2) {
        out.matrix = await an.correlationMatrix(db, caller, { dataset_id: chosen.id, columns: chosen.columns.filter((c) => NUMERIC_TYPES.includes(c.type)).slice(0, 12).map((c) => c.name), filters })
      }
    } catch (e) {
      out.error = toApiError(e).message
    }
    return out
  })
}

export async function action({ request }: Route.ActionArgs) {
  const { uiAction } = await import('#app/http/ui.server.ts')
  const an = await import('#app/features/analytics/analytics.server.ts')
  const schemas = await import('#app/features/analytics/schemas.ts')
  const forms = await import('#app/features/analytics/forms.ts')
  const intent = (await request.clone().formData()).get('intent')
  if (intent === 'predictive') {
    return uiAction(request, 'analytics.write', (db, caller, f) => an.predictDataset(db, caller, schemas.predictiveBody.parse(forms.predictiveForm(f))))
  }
  if (intent === 'prescriptive') {
    return uiAction(request, 'analytics.read', (db, caller, f) => an.prescribeDataset(db, caller, schemas.prescriptiveBody.parse(forms.prescriptiveForm(f))))
  }
  return uiAction(request, 'analytics.read', (db, caller, f) => an.diagnoseDataset(db, caller, schemas.diagnosticBody.parse(forms.diagnosticForm(f))))
}

type Loader = Route.ComponentProps['loaderData']
type Figures = { summary: Record<string, number | null>; quartiles?: { q1: number | null; q2: number | null; q3: number | null }; histogram?: { from: number; to: number; count: number }[] }

export default function Analytics({ loaderData }: Route.ComponentProps) {
  const { datasets, chosen, descriptive, matrix, error } = loaderData
  if (!datasets.length) {
    return (
      <>
        <PageHeader title="Analytics" />
        <EmptyState title="No dataset to analyse yet">Upload a CSV on the Datasets page; its validated rows appear here.</EmptyState>
      </>
    )
  }
  const columns = chosen!.columns
  const numeric = columns.filter((c) => NUMERIC_TYPES.includes(c.type)).map((c) => c.name)
  const hasDate = columns.some((c) => c.type === 'Date' || c.type === 'DateTime')
  return (
    <>
      <PageHeader title="Analytics" description="Descriptive statistics, correlations, predictions and recommendations computed from a dataset's validated rows." />
      <Form method="get" className="mb-6 flex flex-wrap items-end gap-3 text-sm" aria-label="Dataset and filters">
        <Select label="Dataset" name="dataset" defaultValue={String(chosen!.id)} options={datasets.map((d) => ({ value: String(d.id), label: `${d.name} (${d.rows.toLocaleString('en-US')} rows)` }))} />
        <Select label="Group by" name="group_by" defaultValue={loaderData.groupBy} options={[{ value: '', label: '(none)' }, ...columns.filter((c) => !NUMERIC_TYPES.includes(c.type) || c.type === 'Integer').map((c) => ({ value: c.name, label: c.name }))]} />
        {hasDate ? (
          <>
            <label className="flex flex-col gap-1 font-medium text-slate-700">From<input type="date" name="start" defaultValue={loaderData.start} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal" /></label>
            <label className="flex flex-col gap-1 font-medium text-slate-700">To<input type="date" name="end" defaultValue={loaderData.end} className="rounded-md border border-slate-300 px-2 py-1.5 font-normal" /></label>
          </>
        ) : null}
        <Button type="submit">Analyse</Button>
      </Form>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {descriptive ? <DescriptivePanel d={descriptive} groupBy={loaderData.groupBy} /> : null}
      {matrix ? (
        <Card className="mt-6" title={`Correlations (Pearson, ${matrix.n.toLocaleString('en-US')} complete rows)`}>
          <div className="mb-3 flex items-center justify-between gap-2">
            <p className="text-xs text-slate-500">p-values adjusted over all pairs (Benjamini–Hochberg). Hover a cell for details.</p>
            <CsvButton name={`${chosen!.name}-correlations`} rows={matrix.pairs} />
          </div>
          <Heatmap columns={matrix.columns} pairs={matrix.pairs} />
        </Card>
      ) : null}
      <DiagnosticPanel datasetId={chosen!.id} numeric={numeric} columns={columns.filter((c) => c.type !== 'Date' && c.type !== 'DateTime').map((c) => c.name)} hasDate={hasDate} dates={loaderData} />
      <PredictivePanel datasetId={chosen!.id} numeric={numeric} hasDate={hasDate} canWrite={loaderData.canWrite} name={chosen!.name} />
      {/* keyed: its defaults (the metric, the variables) are the dataset's, and a select keeps its value across datasets */}
      <PrescriptivePanel key={chosen!.id} datasetId={chosen!.id} numeric={numeric} />
    </>
  )
}

function DescriptivePanel({ d, groupBy }: { d: NonNullable<Loader['descriptive']>; groupBy: string }) {
  const cols = Object.entries(d.results.columns as unknown as Record<string, Figures>)
  const rows = cols.map(([name, f]) => ({ column: name, ...f.summary, q1: f.quartiles?.q1 ?? null, q3: f.quartiles?.q3 ?? null }))
  const groups = groupBy ? ((d.results as Record<string, unknown>)[`by_${groupBy}`] as Record<string, unknown>[] | undefined) ?? [] : []
  const heads = ['column', 'count', 'mean', 'median', 'std', 'min', 'q1', 'q3', 'max', 'skewness', 'kurtosis', 'missing', 'distinct']
  return (
    <>
      <Card title={`Descriptive statistics (${d.row_count.toLocaleString('en-US')} rows, ${d.execution_time_ms} ms)`}>
        <div className="mb-3 flex justify-end">
          <CsvButton name="descriptive" rows={rows} />
        </div>
        <Table headers={heads}>
          {rows.map((r) => (
            <tr key={r.column} data-testid="descriptive-row">
              {heads.map((h) => (
                <td key={h} className={`px-3 py-1.5 ${h === 'column' ? 'font-medium' : 'tabular-nums'}`}>{h === 'column' ? r.column : fmtNum((r as Record<string, unknown>)[h])}</td>
              ))}
            </tr>
          ))}
        </Table>
      </Card>
      <div className="mt-6 grid gap-4 md:grid-cols-2 xl:grid-cols-3">
        {cols.map(([name, f]) => (
          <Card key={name} title={name}>
            {f.histogram ? <HistogramChart bins={f.histogram} /> : null}
            <BoxPlot min={f.summary.min} q1={f.quartiles?.q1 ?? null} median={f.summary.median} q3={f.quartiles?.q3 ?? null} max={f.summary.max} />
            <p className="text-xs text-slate-500">Box: Q1–Q3 with the median; whiskers: min and max.</p>
          </Card>
        ))}
      </div>
      {groupBy ? (
        <Card className="mt-6" title={`${d.column} by ${groupBy}`}>
          <div className="mb-3 flex justify-end">
            <CsvButton name={`by-${groupBy}`} rows={groups.map((g) => ({ ...g, quartiles: undefined, columns: undefined, histogram: undefined }))} />
          </div>
          <Table headers={[groupBy, 'rows', 'count', 'mean', 'median', 'std', 'min', 'max']}>
            {groups.map((g) => (
              <tr key={String(g[groupBy])}>
                <td className="px-3 py-1.5 font-medium">{String(g[groupBy] ?? '(missing)')}</td>
                {['rows', 'count', 'mean', 'median', 'std', 'min', 'max'].map((k) => (
                  <td key={k} className="px-3 py-1.5 tabular-nums">{fmtNum(g[k])}</td>
                ))}
              </tr>
            ))}
          </Table>
        </Card>
      ) : null}
    </>
  )
}

type ActionResult<T> = { ok: true; result: T } | { ok: false; error: { message: string } }

function DiagnosticPanel({ datasetId, numeric, columns, hasDate, dates }: { datasetId: number; numeric: string[]; columns: string[]; hasDate: boolean; dates: { start: string; end: string } }) {
  const f = useFetcher<ActionResult<{ correlations: { factor: string; correlation: number | null; p_value: number | null; adjusted_p_value: number | null; significance: string; method: string; spearman?: { correlation: number | null } }[]; root_causes: { factor: string; contribution: number; impact: string }[]; model: { r2: number; n: number } }>>()
  const factors = [...columns.filter((c) => c !== numeric[numeric.length - 1]), ...(hasDate ? ['seasonality', 'trend'] : [])]
  const r = f.data?.ok ? f.data.result : null
  return (
    <Card className="mt-6" title="Diagnostic: what goes with a metric">
      <f.Form method="post" className="flex flex-col gap-3">
        <CsrfInput />
        <input type="hidden" name="intent" value="diagnostic" />
        <input type="hidden" name="dataset_id" value={datasetId} />
        <input type="hidden" name="start" value={dates.start} />
        <input type="hidden" name="end" value={dates.end} />
        <div className="flex flex-wrap items-end gap-4">
          <Select label="Target metric" name="target_metric" defaultValue={numeric[numeric.length - 1]} options={numeric.map((c) => ({ value: c, label: c }))} />
          <Button type="submit" disabled={f.state !== 'idle'}>{f.state !== 'idle' ? 'Analysing…' : 'Find factors'}</Button>
        </div>
        <CheckboxGroup legend="Potential factors" name="potential_factors" options={factors} defaults={factors.filter((c) => numeric.includes(c)).slice(0, 4)} />
      </f.Form>
      {f.data && !f.data.ok ? <div className="mt-3"><Notice kind="error">{f.data.error.message}</Notice></div> : null}
      {r ? (
        <div className="mt-4 grid gap-6 lg:grid-cols-3">
          <div className="lg:col-span-2">
            <div className="mb-2 flex justify-end"><CsvButton name="correlations" rows={r.correlations.map((c) => ({ ...c, spearman: c.spearman?.correlation ?? null }))} /></div>
            <Table headers={['factor', 'correlation', 'spearman ρ', 'p-value', 'adjusted p', 'significance']}>
              {r.correlations.map((c) => (
                <tr key={c.factor} data-testid="correlation-row">
                  <td className="px-3 py-1.5 font-medium">{c.factor}{c.method === 'correlation_ratio' ? ' (η)' : ''}</td>
                  <td className="px-3 py-1.5 tabular-nums">{fmtNum(c.correlation, 3)}</td>
                  <td className="px-3 py-1.5 tabular-nums">{fmtNum(c.spearman?.correlation, 3)}</td>
                  <td className="px-3 py-1.5 tabular-nums">{fmtP(c.p_value)}</td>
                  <td className="px-3 py-1.5 tabular-nums">{fmtP(c.adjusted_p_value)}</td>
                  <td className="px-3 py-1.5">{c.significance}</td>
                </tr>
              ))}
            </Table>
          </div>
          <div>
            <p className="mb-2 text-sm font-medium">Share of the explained variance (R² = {fmtNum(r.model.r2, 3)}, {r.model.n} rows)</p>
            <ShareBars items={r.root_causes.map((c) => ({ label: c.factor, share: c.contribution, note: c.impact }))} />
          </div>
        </div>
      ) : null}
    </Card>
  )
}

interface Prediction {
  model_id: string
  predictions: { date?: string; index?: number; value: number; confidence_interval: { lower: number; upper: number } }[]
  history?: { date: string; actual: number; fitted: number }[]
  metrics: { r2_score: number | null; rmse: number; mae: number; n_train: number; n_test: number }
  coefficients: { feature: string; coefficient: number; std_error: number; p_value: number }[]
  confidence_level: number
}

function PredictivePanel({ datasetId, numeric, hasDate, canWrite, name }: { datasetId: number; numeric: string[]; hasDate: boolean; canWrite: boolean; name: string }) {
  const f = useFetcher<ActionResult<Prediction>>()
  const r = f.data?.ok ? f.data.result : null
  const points: ForecastPoint[] = r
    ? [
        ...(r.history ?? []).map((h) => ({ date: h.date, actual: h.actual, fitted: h.fitted })),
        ...r.predictions.map((p) => ({ date: p.date ?? String(p.index), value: p.value, band: [p.confidence_interval.lower, p.confidence_interval.upper] as [number, number] })),
      ]
    : []
  if (!hasDate) {
    return (
      <Card className="mt-6" title="Predictive">
        <p className="text-sm text-slate-600">This dataset has no date column: predictions over future periods need one (the API also predicts for given feature values).</p>
      </Card>
    )
  }
  return (
    <Card className="mt-6" title="Predictive: a linear model and the next periods">
      <f.Form method="post" className="flex flex-col gap-3">
        <CsrfInput />
        <input type="hidden" name="intent" value="predictive" />
        <input type="hidden" name="dataset_id" value={datasetId} />
        <div className="flex flex-wrap items-end gap-4">
          <Select label="Target" name="target" defaultValue={numeric[numeric.length - 1]} options={numeric.map((c) => ({ value: c, label: c }))} />
          <Select label="Model" name="model_type" options={[{ value: 'linear_regression', label: 'OLS' }, { value: 'ridge', label: 'Ridge' }]} />
          <Select label="Interval" name="interval" defaultValue="day" options={['hour', 'day', 'week', 'month', 'quarter', 'year'].map((v) => ({ value: v, label: v }))} />
          <Field label="Horizon" name="horizon" type="number" min={1} max={1000} defaultValue={30} />
          <Field label="Confidence" name="confidence_level" type="number" step="0.01" min={0.5} max={0.99} defaultValue={0.95} />
          <Button type="submit" disabled={!canWrite || f.state !== 'idle'} title={canWrite ? '' : 'Needs the analytics.write permission (the model is saved)'}>
            {f.state !== 'idle' ? 'Fitting…' : 'Predict'}
          </Button>
        </div>
        <CheckboxGroup legend="Features (trend: periods since the first date)" name="features" options={['trend', ...numeric]} defaults={['trend']} />
      </f.Form>
      {f.data && !f.data.ok ? <div className="mt-3"><Notice kind="error">{f.data.error.message}</Notice></div> : null}
      {r ? (
        <div className="mt-4">
          <p className="mb-2 text-sm text-slate-600">
            Model <code>{r.model_id}</code> · holdout r² {fmtNum(r.metrics.r2_score, 3)} · RMSE {fmtNum(r.metrics.rmse)} · MAE {fmtNum(r.metrics.mae)} ({r.metrics.n_train} rows fitted, {r.metrics.n_test} held out)
          </p>
          <ForecastChart points={points} level={r.confidence_level} />
          <div className="mt-4 grid gap-4 lg:grid-cols-2">
            <div>
              <div className="mb-2 flex justify-end"><CsvButton name={`${name}-predictions`} rows={r.predictions.map((p) => ({ date: p.date ?? p.index, value: p.value, lower: p.confidence_interval.lower, upper: p.confidence_interval.upper }))} /></div>
              <Table headers={['date', 'prediction', 'lower', 'upper']}>
                {r.predictions.slice(0, 12).map((p) => (
                  <tr key={p.date ?? p.index}>
                    <td className="px-3 py-1.5">{p.date ?? p.index}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(p.value)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(p.confidence_interval.lower)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(p.confidence_interval.upper)}</td>
                  </tr>
                ))}
              </Table>
            </div>
            <div>
              <div className="mb-2 flex justify-end"><CsvButton name="coefficients" rows={r.coefficients} /></div>
              <Table headers={['feature', 'coefficient', 'std. error', 'p-value']}>
                {r.coefficients.map((c) => (
                  <tr key={c.feature}>
                    <td className="px-3 py-1.5 font-medium">{c.feature}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(c.coefficient)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(c.std_error)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtP(c.p_value)}</td>
                  </tr>
                ))}
              </Table>
            </div>
          </div>
        </div>
      ) : null}
    </Card>
  )
}

interface Prescription {
  recommendations: { action: string; variable: string; change: string; current_value: number; recommended_value: number; expected_impact: number; expected_roi: number | null; confidence: number | null }[]
  optimal_solution: Record<string, number | string>
  solver: { kind: string; objective_value: number; solve_ms: number }
  model: { r2: number; n: number }
}

function PrescriptivePanel({ datasetId, numeric }: { datasetId: number; numeric: string[] }) {
  const f = useFetcher<ActionResult<Prescription>>()
  const r = f.data?.ok ? f.data.result : null
  return (
    <Card className="mt-6" title="Prescriptive: the best levels under your constraints">
      <f.Form method="post" className="flex flex-col gap-3">
        <CsrfInput />
        <input type="hidden" name="intent" value="prescriptive" />
        <input type="hidden" name="dataset_id" value={datasetId} />
        <div className="flex flex-wrap items-end gap-4">
          <Select label="Goal" name="sense" options={[{ value: 'maximize', label: 'Maximise' }, { value: 'minimize', label: 'Minimise' }]} />
          <Select label="Metric" name="target" defaultValue={numeric[numeric.length - 1]} options={numeric.map((c) => ({ value: c, label: c }))} />
          <Select label="Response curve" name="response_curve" options={[{ value: 'quadratic', label: 'Quadratic (with a peak)' }, { value: 'log', label: 'Logarithmic' }, { value: 'linear', label: 'Linear' }]} />
          <Field label="Budget" name="budget" type="number" step="any" />
          <Button type="submit" disabled={f.state !== 'idle'}>{f.state !== 'idle' ? 'Optimising…' : 'Recommend'}</Button>
        </div>
        <CheckboxGroup legend="Decision variables" name="variables" options={numeric.slice(0, -1)} defaults={numeric.slice(0, Math.min(2, numeric.length - 1))} />
        <CheckboxGroup legend="Paid from the budget" name="budget_variables" options={numeric.slice(0, -1)} defaults={numeric.slice(0, 1)} />
      </f.Form>
      {f.data && !f.data.ok ? <div className="mt-3"><Notice kind="error">{f.data.error.message}</Notice></div> : null}
      {r ? (
        <div className="mt-4">
          <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
            {r.recommendations.map((c) => (
              <div key={c.variable} className="rounded-lg border border-slate-200 p-4" data-testid="recommendation">
                <p className="text-xs font-medium uppercase tracking-wide text-slate-500">{c.action.replace(/_/g, ' ')}</p>
                <p className="mt-1 text-2xl font-semibold tabular-nums">{c.change}</p>
                <p className="mt-1 text-sm text-slate-600">{fmtNum(c.current_value)} → {fmtNum(c.recommended_value)}</p>
                <p className="mt-2 text-sm">Expected effect {fmtNum(c.expected_impact)}{c.expected_roi != null ? ` · ROI ${fmtNum(c.expected_roi, 3)}` : ''}</p>
                <p className="text-xs text-slate-500">Confidence {c.confidence == null ? '—' : `${(c.confidence * 100).toFixed(0)} %`}</p>
              </div>
            ))}
          </div>
          <div className="mt-4 rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm" data-testid="optimal-solution">
            <p className="font-semibold">Optimum: {String(r.optimal_solution.expected_outcome)}</p>
            <p className="mt-1 text-emerald-900">
              {Object.entries(r.optimal_solution).filter(([k]) => r.recommendations.some((c) => c.variable === k)).map(([k, v]) => `${k} = ${fmtNum(v)}`).join(' · ')}
            </p>
            <p className="mt-1 text-xs text-emerald-800">HiGHS {r.solver.kind} in {r.solver.solve_ms} ms · response model r² {fmtNum(r.model.r2, 3)} over {r.model.n} rows</p>
          </div>
        </div>
      ) : null}
    </Card>
  )
}

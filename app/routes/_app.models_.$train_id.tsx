import { data, Form, Link, redirect } from 'react-router'
import { ActionForm, Card, EmptyState, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { CsvButton, fmtNum } from '#app/features/analytics/components.tsx'
import {
  ConfusionMatrix, CvFoldScores, ImportanceChart, isActive, LearningCurve, Leaderboard, MetricTiles, ModelPageLayout, ParamsTable, PrCurve, RocCurve,
  TrainingProgress, usePollWhile, type LeaderboardRow,
} from '#app/features/ml/components.tsx'
import { ForecastChart, ForecastFields } from '#app/features/ml/forecast-chart.tsx'
import type { Route } from './+types/_app.models_.$train_id'

export const meta = ({ data }: Route.MetaArgs) => [{ title: `${data?.training?.predictor_name ?? 'Model'} · Hot Dash` }]

export async function loader({ request, params }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const ml = await import('#app/features/ml/ml.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const id = Number(params.train_id)
  const url = new URL(request.url)
  return uiLoader(request, 'models.read', async (db, caller) => {
    const row = await ml.loadTraining(db, Number.isSafeInteger(id) ? id : -1)
    const training = ml.trainingListItem(row)
    const summary = row.model_id ? await ml.modelSummary(db, id) : null
    // A forecast model's chart: the series and horizon from the query, as on /forecasts.
    let forecast: { chart: Awaited<ReturnType<typeof ml.forecastChart>> | null; error: string | null } | null = null
    if (row.model_id && row.problem_type === 'Forecast') {
      try {
        forecast = { chart: await ml.forecastChart(db, id, ml.forecastChartOptions(url)), error: null }
      } catch (e) {
        forecast = { chart: null, error: toApiError(e).message }
      }
    }
    const chosen = summary ? (await ml.modelVersions(db, id)).find((v) => v.id === summary.model_id) ?? null : null
    return {
      training,
      columns: row.columns,
      summary,
      history: chosen?.history ?? null,
      importance: await ml.viewImportance(db, id),
      forecast,
      log: ((await ml.trainingLog(db, row.job_id, { limit: 200 })) ?? []).map((l) => ({ at: l.at, level: l.level, message: l.message })),
      canWrite: caller.permissions.has('models.write'),
    }
  })
}

export async function action({ request, params }: Route.ActionArgs) {
  const { asCaller } = await import('#app/db/db.server.ts')
  const { getDb } = await import('#app/db/index.server.ts')
  const { requireCaller } = await import('#app/features/auth/auth.server.ts')
  const { verifyCsrf } = await import('#app/features/auth/auth.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const { readFormData } = await import('#app/http/body.server.ts')
  const ml = await import('#app/features/ml/ml.server.ts')
  const id = Number(params.train_id)
  const { caller, headers } = await requireCaller(request, 'models.write')
  try {
    await verifyCsrf(request, caller)
    const intent = (await readFormData(request)).get('intent')
    const db = await getDb()
    if (intent === 'delete') {
      await ml.deleteTraining(db, caller, id)
      return redirect('/models', { headers })
    }
    const result = await asCaller(db, caller.claims, async (tx) => {
      if (intent === 'generate-importance') return ml.generateImportance(tx, caller, id)
      if (intent === 'delete-importance') return ml.deleteImportance(tx, id)
      return (await ml.terminateTraining(tx, String(id))) ?? { message: `Training ${id} not found` }
    })
    return data({ ok: true as const, message: result.message }, { headers })
  } catch (e) {
    const err = toApiError(e)
    return data({ ok: false as const, message: err.message }, { status: err.status, headers })
  }
}

type LoaderData = Route.ComponentProps['loaderData']

export default function ModelPage({ loaderData, actionData }: Route.ComponentProps) {
  const { training: t, summary, importance, canWrite } = loaderData
  usePollWhile(isActive(t.status) || importance.status === 'submitted' || importance.status === 'running')
  return (
    <>
      <PageHeader
        title={t.predictor_name}
        description={`${t.problem_type} · ${t.domain} · trained on ${t.dataset_name} · #${t.id}`}
        actions={
          <div className="flex flex-wrap items-center gap-2">
            <Link className="text-sm underline" to="/models">All models</Link>
            <a className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm hover:bg-slate-50" href={`/api/v1/train/download-schema/${t.id}`} download>
              Download schema
            </a>
            {t.model_id ? (
              <a className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm hover:bg-slate-50" href={`/api/v1/train/download-model/${t.id}`} download>
                Download model
              </a>
            ) : null}
            {canWrite && isActive(t.status) ? <ActionForm intent="cancel" label="Cancel training" confirm="Stop this training?" /> : null}
            {canWrite ? <ActionForm intent="delete" label="Delete" confirm="Delete the training and its model files?" variant="danger" /> : null}
          </div>
        }
      />
      {actionData ? <div className="mb-4"><Notice kind={actionData.ok ? 'success' : 'error'}>{actionData.message}</Notice></div> : null}
      <ModelPageLayout
        overview={<Overview data={loaderData} />}
        evaluation={summary ? <Evaluation summary={summary} history={loaderData.history} name={t.predictor_name} /> : null}
        explanation={t.model_id ? <Explanation importance={importance} canWrite={canWrite} name={t.predictor_name} /> : null}
        predict={
          loaderData.forecast ? (
            <ForecastPanel forecast={loaderData.forecast} trainId={t.id} />
          ) : t.model_id ? (
            <Card title="Predict">
              <p className="text-sm text-slate-700">
                Score one row with its SHAP contributions, or a whole dataset into a gold table and a CSV:{' '}
                <Link className="text-indigo-700 underline" to={`/models/${t.id}/predict`}>
                  open the prediction form and batch panel
                </Link>
                {' · '}
                <Link className="text-indigo-700 underline" to={`/predictions?train_id=${t.id}`}>
                  prediction log
                </Link>
              </p>
            </Card>
          ) : null
        }
        details={<Details data={loaderData} />}
      />
    </>
  )
}

function ForecastPanel({ forecast: { chart, error }, trainId }: { forecast: NonNullable<LoaderData['forecast']>; trainId: number }) {
  return (
    <Card title={chart ? `Forecast · ${chart.unique_id || 'series'} · ${chart.model}` : 'Forecast'}>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {chart ? (
        <>
          <Form method="get" className="mb-3 flex flex-wrap items-end gap-3" data-testid="model-forecast-form">
            <ForecastFields chart={chart} />
            <button type="submit" className="rounded bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-700">
              Show forecast
            </button>
          </Form>
          <ForecastChart history={chart.history} forecast={chart.forecast} confidence={chart.confidence} />
          {chart.filled > 0 ? <p className="mt-2 text-xs text-slate-500">{chart.filled} missing period(s) of this series were filled by linear interpolation before training.</p> : null}
          <p className="mt-2 text-sm text-slate-700">
            The table, its CSV and the series' backtest:{' '}
            <Link className="text-indigo-700 underline" to={`/forecasts?train_id=${trainId}&series=${encodeURIComponent(chart.unique_id)}&steps=${chart.steps}`}>
              open on the Forecasts page
            </Link>
            {' · '}the same numbers from POST /api/v1/inference/forecast.
          </p>
        </>
      ) : null}
    </Card>
  )
}

function Overview({ data: { training: t, summary } }: { data: LoaderData }) {
  const facts: [string, React.ReactNode][] = [
    ['Status', <TrainingProgress key="s" status={t.status} progress={t.progress} step={t.current_step} />],
    ['Algorithm', `${t.algorithm}${t.requested_algorithm === 'auto' ? ' (auto)' : ''}`],
    ['Validation metric', t.metric ? `${t.metric.name} ${fmtNum(t.metric.value, 4)}` : '—'],
    ['Dataset', t.dataset_id ? <Link key="d" className="text-indigo-700 underline" to={`/datasets/${t.dataset_id}`}>{t.dataset_name}</Link> : t.dataset_name],
    ['Engine', t.engine],
    ['Created', `${new Date(t.created_at).toLocaleString('en-GB')}${t.created_by ? ` by ${t.created_by}` : ''}`],
    ['Training time', summary ? `${fmtNum(summary.duration_ms / 1000, 3)} s` : t.finished_at && t.started_at ? `${fmtNum((+new Date(t.finished_at) - +new Date(t.started_at)) / 1000, 3)} s` : '—'],
    ['Rows', summary ? `${fmtNum((summary.data as { train_rows?: number }).train_rows)} train · ${fmtNum((summary.data as { validation_rows?: number }).validation_rows)} validation` : '—'],
  ]
  return (
    <Card>
      <dl className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {facts.map(([k, v]) => (
          <div key={k}>
            <dt className="text-xs text-slate-500">{k}</dt>
            <dd className="mt-0.5 text-sm font-medium">{v}</dd>
          </div>
        ))}
      </dl>
      {t.status === 'failed' && t.error ? <div className="mt-4"><Notice kind="error">Training failed: {t.error}</Notice></div> : null}
      {isActive(t.status) ? <p className="mt-4 text-sm text-slate-600">The page follows the job: metrics and importance appear here when it completes.</p> : null}
    </Card>
  )
}

function Evaluation({ summary: s, history, name }: { summary: NonNullable<LoaderData['summary']>; history: number[] | null; name: string }) {
  const m = s.metrics as Record<string, unknown> & {
    roc_curve?: { fpr: number; tpr: number; threshold: number }[]
    pr_curve?: { recall: number; precision: number; threshold: number }[]
    per_class?: { class: string; precision: number; recall: number; f1_score: number; support: number }[]
    residual_quantiles?: Record<string, number>
    rows?: number
  }
  const leaderboard = s.leaderboard as unknown as LeaderboardRow[]
  const classification = s.problem_type === 'Classification'
  return (
    <>
      <MetricTiles metrics={m} problemType={s.problem_type} rows={m.rows} />
      <p className="-mt-3 text-xs text-slate-500">Computed on the held-out validation rows ({s.model_summary.model}, version {s.version}).</p>
      {classification ? (
        <div className="grid gap-6 lg:grid-cols-2">
          <Card title="Confusion matrix">
            <ConfusionMatrix classes={(s.classes as unknown as string[]) ?? []} matrix={(s.confusion_matrix as unknown as number[][]) ?? []} />
          </Card>
          {m.per_class ? (
            <Card title="Per class">
              <div className="mb-3 flex justify-end"><CsvButton name={`${name}-per-class`} rows={m.per_class} /></div>
              <Table headers={['Class', 'Precision', 'Recall', 'F1', 'Support']}>
                {m.per_class.map((c) => (
                  <tr key={c.class}>
                    <td className="px-3 py-1.5 font-medium">{c.class}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(c.precision)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(c.recall)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(c.f1_score)}</td>
                    <td className="px-3 py-1.5 tabular-nums">{fmtNum(c.support)}</td>
                  </tr>
                ))}
              </Table>
            </Card>
          ) : null}
          {m.roc_curve ? (
            <Card title={`ROC curve (AUC ${fmtNum(m.roc_auc, 4)})`}>
              <RocCurve points={m.roc_curve} auc={(m.roc_auc as number) ?? null} />
            </Card>
          ) : null}
          {m.pr_curve ? (
            <Card title="Precision–recall curve">
              <PrCurve points={m.pr_curve} />
            </Card>
          ) : null}
        </div>
      ) : m.residual_quantiles ? (
        <Card title="Residuals (actual − predicted)">
          <Table headers={Object.keys(m.residual_quantiles)}>
            <tr>
              {Object.values(m.residual_quantiles).map((v, i) => (
                <td key={i} className="px-3 py-1.5 tabular-nums">{fmtNum(v)}</td>
              ))}
            </tr>
          </Table>
        </Card>
      ) : null}
      <Card title="Leaderboard">
        <Leaderboard rows={leaderboard} name={name} />
      </Card>
      <Card title="Cross-validation folds">
        <CvFoldScores rows={leaderboard} />
      </Card>
      {history?.length ? (
        <Card title={`Validation ${classification ? 'log loss' : 'RMSE'} per boosting round`}>
          <LearningCurve history={history} metric={classification ? 'log loss' : 'rmse'} best={s.best_iteration ?? null} />
        </Card>
      ) : null}
    </>
  )
}

function Explanation({ importance: f, canWrite, name }: { importance: LoaderData['importance']; canWrite: boolean; name: string }) {
  const running = f.status === 'submitted' || f.status === 'running'
  const rows = f.feature_importance ? Object.entries(f.feature_importance).map(([column, share]) => ({ column, share, mean_abs_shap: (f.mean_abs_shap as Record<string, number> | null)?.[column] ?? null })) : []
  return (
    <Card title="Feature importance (mean |SHAP|)">
      <div className="mb-3 flex flex-wrap items-center gap-3">
        {canWrite && !running ? <ActionForm intent="generate-importance" label={f.feature_importance ? 'Recompute' : 'Generate feature importance'} variant={f.feature_importance ? 'secondary' : 'primary'} /> : null}
        {canWrite && f.status !== 'not_requested' && !running ? <ActionForm intent="delete-importance" label="Delete importance" confirm="Delete the stored importance?" /> : null}
        {running ? <TrainingProgress status={f.status} progress={f.progress ?? 0} label="Importance progress" /> : null}
        {rows.length ? <span className="ml-auto"><CsvButton name={`${name}-importance`} rows={rows} /></span> : null}
      </div>
      {f.error ? <Notice kind="error">{f.error}</Notice> : null}
      {f.feature_importance ? (
        <>
          <ImportanceChart importance={f.feature_importance} />
          <p className="mt-2 text-xs text-slate-500" data-testid="importance-method">
            {f.method === 'tree_shap' ? 'TreeSHAP on the trees' : 'Exact linear SHAP'} over {fmtNum(f.rows)} rows; one-hot and date parts summed back to their column; shares sum to 1.
            {f.local_accuracy_max_error !== null ? ` Local accuracy: max |base + Σ SHAP − margin| = ${Number(f.local_accuracy_max_error).toExponential(1)}.` : ''}
          </p>
        </>
      ) : !running ? (
        <EmptyState title="No feature importance yet">{canWrite ? 'Generate it: SHAP values on a sample of the dataset, in a background job.' : 'A data scientist can generate it.'}</EmptyState>
      ) : null}
    </Card>
  )
}

function Details({ data: { summary, columns, log } }: { data: LoaderData }) {
  return (
    <div className="grid gap-6 lg:grid-cols-2">
      <Card title="Columns">
        <Table headers={['Column', 'Type', 'Role']}>
          {columns.map((c) => (
            <tr key={c.column_name}>
              <td className="px-3 py-1 font-medium">{c.column_name}</td>
              <td className="px-3 py-1">{c.data_type}</td>
              <td className="px-3 py-1">{c.attribute_name}</td>
            </tr>
          ))}
        </Table>
      </Card>
      {summary ? (
        <Card title="Parameters">
          <ParamsTable params={summary.params as Record<string, unknown>} />
          <p className="mt-3 break-all text-xs text-slate-500">
            Format {summary.format} · {fmtNum(summary.size_bytes)} bytes · sha256 {summary.checksum} · preprocess #{summary.preprocess_id} · trained by {summary.trained_by}
          </p>
        </Card>
      ) : null}
      <Card title="Job log" className="lg:col-span-2">
        {log.length ? (
          <ol className="max-h-64 overflow-y-auto font-mono text-xs" data-testid="training-log">
            {log.map((l, i) => (
              <li key={i} className={l.level === 'error' ? 'text-rose-700' : l.level === 'warn' ? 'text-amber-700' : 'text-slate-700'}>
                {new Date(l.at).toLocaleTimeString('en-GB')} {l.message}
              </li>
            ))}
          </ol>
        ) : (
          <p className="text-sm text-slate-500">No log lines yet.</p>
        )}
      </Card>
    </div>
  )
}

import { useState } from 'react'
import { data, Form, Link, redirect, useNavigation } from 'react-router'
import { Button, Card, CsrfInput, EmptyState, Field, Notice, PageHeader, Table } from '#app/components/ui.tsx'
import { FORECAST_SETTINGS, formFieldOf, HYPERPARAMETERS } from '#app/features/ml/forms.ts'
import type { Route } from './+types/_app.models_.new'

export const meta = () => [{ title: 'New model · Hot Dash' }]

const PROBLEM_TYPES = ['Classification', 'Regression', 'Forecast'] as const
const ROLES = ['Feature', 'Target', 'Id', 'Ignore'] as const
// Forecast: Feature is a numeric regressor; Timestamp, Target and UniqueId (the series id) are one column each.
const FORECAST_ROLES = ['Timestamp', 'Target', 'UniqueId', 'Feature', 'Ignore'] as const
const FREQUENCIES = ['Hour', 'Day', 'Week', 'Month', 'Quarter', 'Year'] as const

export async function loader({ request }: Route.LoaderArgs) {
  const { uiLoader } = await import('#app/http/ui.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const { fromZod } = await import('#app/http/errors.server.ts')
  const { listDatasets } = await import('#app/features/datasets/datasets.server.ts')
  const ml = await import('#app/features/ml/ml.server.ts')
  const { detailsInput } = await import('#app/features/ml/schemas.ts')
  const { DEFAULT_BOOSTING } = await import('#app/features/ml/xgboost-train.ts')
  const { DEFAULT_SPEC } = await import('#app/features/ml/train-core.ts')
  const url = new URL(request.url)
  const q = Object.fromEntries(url.searchParams)
  return uiLoader(request, 'models.write', async (db) => {
    const datasets = (await listDatasets(db)).data.filter((d) => d.is_valid).map((d) => ({ id: d.id, name: d.dataset_name, usability: d.dataset_usability }))
    const out = {
      datasets,
      step1: { dataset_id: q.dataset_id ?? '', predictor_name: q.predictor_name ?? '', domain: q.domain ?? '', problem_type: q.problem_type ?? 'Classification' },
      details: null as Awaited<ReturnType<typeof ml.trainingDetails>> | null,
      errors: {} as Record<string, string>,
      error: null as string | null,
      forecastDefaults: { horizon: ml.DEFAULT_HORIZON, max_horizon: ml.MAX_STEPS, season_length: ml.SEASON_LENGTH, origins: 3 },
      defaults: { ...DEFAULT_BOOSTING, ...DEFAULT_SPEC.linear, validation_split: DEFAULT_SPEC.validation_split, cv_folds: DEFAULT_SPEC.cv_folds, seed: DEFAULT_SPEC.seed } as Record<string, number>,
    }
    if (!q.dataset_id) return out
    // Step 2 opens when step 1 parses: the schema and the suggested roles from get_details.
    const parsed = detailsInput.safeParse({ ...q, dataset_id: Number(q.dataset_id) })
    try {
      if (!parsed.success) throw fromZod(parsed.error, 'query')
      out.details = await ml.trainingDetails(db, parsed.data)
      if (!out.details.predictor_name_available) out.errors.predictor_name = 'is already used by another training of your tenant'
    } catch (e) {
      const err = toApiError(e)
      out.error = err.message
      for (const f of (err.details.fields as { field: string; message: string }[] | undefined) ?? []) out.errors[f.field] = f.message
      if (typeof err.details.field === 'string' && !out.errors[err.details.field]) out.errors[err.details.field] = err.message
      if (err.status === 404) out.errors.dataset_id = err.message
    }
    return out
  })
}

export async function action({ request }: Route.ActionArgs) {
  const { asCaller } = await import('#app/db/db.server.ts')
  const { getDb } = await import('#app/db/index.server.ts')
  const { requireCaller } = await import('#app/features/auth/auth.server.ts')
  const { verifyCsrf } = await import('#app/features/auth/auth.server.ts')
  const { toApiError } = await import('#app/http/api-route.server.ts')
  const { readFormData } = await import('#app/http/body.server.ts')
  const { logError } = await import('#app/http/log.server.ts')
  const { createTraining } = await import('#app/features/ml/ml.server.ts')
  const { trainInput } = await import('#app/features/ml/schemas.ts')
  const { trainForm } = await import('#app/features/ml/forms.ts')
  const { caller, headers } = await requireCaller(request, 'models.write')
  let created: { id: number }
  try {
    await verifyCsrf(request, caller)
    const body = trainInput.parse(trainForm(await readFormData(request)))
    created = await asCaller(await getDb(), caller.claims, (tx) => createTraining(tx, caller, body))
  } catch (e) {
    const err = toApiError(e)
    if (err.status >= 500) logError(e, { path: new URL(request.url).pathname })
    const fields: Record<string, string> = {}
    for (const f of (err.details.fields as { field: string; message: string }[] | undefined) ?? []) fields[f.field] = f.message
    // Some checks (a name already taken) name one field without a list.
    if (typeof err.details.field === 'string' && !fields[err.details.field]) fields[err.details.field] = err.message
    return data({ error: { code: err.code, message: err.message, fields } }, { status: err.status, headers })
  }
  return redirect(`/models/${created.id}`, { headers })
}

type Details = NonNullable<Route.ComponentProps['loaderData']['details']>

export default function NewModel({ loaderData, actionData }: Route.ComponentProps) {
  const { datasets, step1, details, errors, error } = loaderData
  if (!datasets.length) {
    return (
      <>
        <PageHeader title="New model" />
        <EmptyState title="No validated dataset yet">
          Upload a CSV on the <Link className="text-indigo-700 underline" to="/datasets">Datasets</Link> page; a dataset whose rows pass validation can be trained on.
        </EmptyState>
      </>
    )
  }
  return (
    <>
      <PageHeader title="New model" description="Pick a validated dataset, say what each column is, and train. XGBoost and a linear baseline by default; the better one is kept." />
      <Card title="1. Dataset and name" className="mb-6">
        <Form method="get" className="grid gap-4 md:grid-cols-2" aria-label="Dataset and name">
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Dataset
            <select name="dataset_id" defaultValue={step1.dataset_id || String(datasets[0].id)} className="rounded-md border border-slate-300 px-2 py-2 font-normal" aria-invalid={errors.dataset_id ? true : undefined}>
              {datasets.map((d) => (
                <option key={d.id} value={d.id}>{d.name} ({d.usability})</option>
              ))}
            </select>
            {errors.dataset_id ? <span className="text-xs font-normal text-rose-600">{errors.dataset_id}</span> : null}
          </label>
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Problem type
            <select name="problem_type" defaultValue={step1.problem_type} className="rounded-md border border-slate-300 px-2 py-2 font-normal">
              {PROBLEM_TYPES.map((p) => (
                <option key={p} value={p}>{p}</option>
              ))}
            </select>
            {errors.problem_type ? <span className="text-xs font-normal text-rose-600">{errors.problem_type}</span> : null}
          </label>
          <Field label="Model name" name="predictor_name" defaultValue={step1.predictor_name} required maxLength={200} error={errors.predictor_name ?? actionData?.error.fields.predictor_name} hint="unique in your tenant" />
          <Field label="Domain" name="domain" defaultValue={step1.domain || 'customers'} required maxLength={100} error={errors.domain} hint="what the model is about, e.g. telecom, retail" />
          <div className="md:col-span-2">
            <Button type="submit" variant={details ? 'secondary' : 'primary'}>{details ? 'Reload the schema' : 'Next: columns'}</Button>
          </div>
        </Form>
        {error && !Object.keys(errors).length ? <div className="mt-3"><Notice kind="error">{error}</Notice></div> : null}
      </Card>
      {details ? <TrainStep key={`${details.dataset_id}-${details.problem_type}`} details={details} defaults={loaderData.defaults} forecastDefaults={loaderData.forecastDefaults} actionError={actionData?.error ?? null} /> : null}
    </>
  )
}

type ForecastDefaults = Route.ComponentProps['loaderData']['forecastDefaults']

function TrainStep({ details, defaults, forecastDefaults, actionError }: { details: Details; defaults: Record<string, number>; forecastDefaults: ForecastDefaults; actionError: { message: string; fields: Record<string, string> } | null }) {
  const nav = useNavigation()
  const cols = details.suggested.columns
  const forecast = details.problem_type === 'Forecast'
  const [roles, setRoles] = useState<string[]>(() => cols.map((c) => c.attribute_name))
  const fieldErrors: Record<string, string> = {}
  for (const [k, v] of Object.entries(actionError?.fields ?? {})) fieldErrors[formFieldOf(k)] = v
  // One column per single role: choosing it elsewhere demotes the old one.
  const single = forecast ? ['Target', 'Timestamp', 'UniqueId'] : ['Target']
  const setRole = (i: number, role: string) =>
    setRoles((r) => r.map((x, j) => (j === i ? role : single.includes(role) && x === role ? (forecast ? 'Ignore' : 'Feature') : x)))
  const target = roles.indexOf('Target')
  const features = roles.filter((r) => r === 'Feature').length
  const submitting = nav.state === 'submitting'
  return (
    <Card title="2. Columns, algorithm, training">
      <Form method="post" className="flex flex-col gap-5" aria-label="Columns and training">
        <CsrfInput />
        <input type="hidden" name="dataset_id" value={details.dataset_id} />
        <input type="hidden" name="predictor_name" value={details.predictor_name} />
        <input type="hidden" name="domain" value={details.domain} />
        <input type="hidden" name="problem_type" value={details.problem_type} />
        <p className="text-sm text-slate-600">
          <strong>{details.dataset_name}</strong>: {details.rows.toLocaleString('en-US')} valid rows. Roles are suggested from the column names and a sample of{' '}
          {details.suggested.sample_rows.toLocaleString('en-US')} rows:{' '}
          {forecast
            ? 'the Date/DateTime column as Timestamp, a numeric Target, a text column as UniqueId (one series per value); Feature columns are numeric regressors.'
            : 'the Target, and unique text or id-like columns as Id (kept out of the model).'}
        </p>
        <Table headers={['Column', 'Type', 'Distinct (sample)', 'Role']}>
          {cols.map((c, i) => {
            const err = fieldErrors[`columns.${i}.attribute_name`] ?? fieldErrors[`columns.${i}.column_name`]
            return (
              <tr key={c.column_name} data-testid="column-row">
                <td className="px-3 py-1.5 font-medium">
                  {c.column_name}
                  <input type="hidden" name={`columns.${i}.column_name`} value={c.column_name} />
                </td>
                <td className="px-3 py-1.5">{c.data_type}</td>
                <td className="px-3 py-1.5 tabular-nums">{c.distinct_in_sample ?? '—'}</td>
                <td className="px-3 py-1.5">
                  <select
                    name={`columns.${i}.attribute_name`}
                    aria-label={`Role of ${c.column_name}`}
                    value={roles[i]}
                    onChange={(e) => setRole(i, e.target.value)}
                    aria-invalid={err ? true : undefined}
                    className="rounded-md border border-slate-300 px-2 py-1 aria-[invalid]:border-rose-500"
                  >
                    {(forecast ? FORECAST_ROLES : ROLES).map((r) => (
                      <option key={r} value={r}>{r}{c.attribute_name === r && r !== 'Feature' ? ' (suggested)' : ''}</option>
                    ))}
                  </select>
                  {roles[i] === 'Target' && !c.target_fits_problem_type ? (
                    <span className="ml-2 text-xs text-amber-700">{c.data_type} does not fit {details.problem_type}</span>
                  ) : null}
                  {err ? <p className="mt-1 text-xs text-rose-600" role="alert">{err}</p> : null}
                </td>
              </tr>
            )
          })}
        </Table>
        {fieldErrors.columns ? <p className="text-sm text-rose-600" role="alert">columns: {fieldErrors.columns}</p> : null}
        <p className="text-xs text-slate-500">
          Target: {target >= 0 ? cols[target].column_name : <span className="text-rose-700">none chosen</span>} ·{' '}
          {forecast ? `${features} regressor${features === 1 ? '' : 's'}` : `${features} feature${features === 1 ? '' : 's'}`}
        </p>
        <div className="grid gap-4 md:grid-cols-3">
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
            Algorithm
            {forecast ? (
              <select name="algorithm" defaultValue="auto" className="rounded-md border border-slate-300 px-2 py-2 font-normal">
                <option value="auto">Auto (backtest all, keep the best per series)</option>
                <option value="seasonal_naive">Seasonal naive</option>
                <option value="ets">ETS (Holt-Winters)</option>
                <option value="arima">ARIMA</option>
              </select>
            ) : (
              <select name="algorithm" defaultValue="auto" className="rounded-md border border-slate-300 px-2 py-2 font-normal">
                <option value="auto">Auto (XGBoost and linear, keep the better)</option>
                <option value="xgboost">XGBoost (hist)</option>
                <option value="linear">{details.problem_type === 'Regression' ? 'Linear regression' : 'Logistic regression'}</option>
              </select>
            )}
            {fieldErrors.algorithm ? <span className="text-xs font-normal text-rose-600">{fieldErrors.algorithm}</span> : null}
          </label>
          {forecast ? null : (
            <label className="flex items-center gap-2 self-end pb-2 text-sm text-slate-700">
              <input type="hidden" name="shap_field" value="1" />
              <input type="checkbox" name="shap_enabled" defaultChecked /> Compute SHAP feature importance
            </label>
          )}
        </div>
        {forecast ? <ForecastSettings defaults={forecastDefaults} fieldErrors={fieldErrors} /> : null}
        {forecast ? null : (
          <details className="rounded-md border border-slate-200 p-3" open={Object.keys(fieldErrors).some((k) => k.startsWith('hyperparameters') || ['validation_split', 'cv_folds', 'seed'].includes(k))}>
            <summary className="cursor-pointer text-sm font-medium text-slate-700">Advanced: validation and hyperparameters</summary>
            <p className="mt-2 text-xs text-slate-500">Blank fields take the default shown. Early stopping watches the validation split.</p>
            <div className="mt-3 grid gap-3 md:grid-cols-3 lg:grid-cols-4">
              <Field label="Validation split" name="validation_split" type="number" step="any" placeholder={String(defaults.validation_split)} error={fieldErrors.validation_split} hint="held-out share, 0.05–0.5" />
              <Field label="Cross-validation folds" name="cv_folds" type="number" step="1" placeholder={String(defaults.cv_folds)} error={fieldErrors.cv_folds} hint="0 for none, or 2–10" />
              <Field label="Seed" name="seed" type="number" step="1" placeholder={String(defaults.seed)} error={fieldErrors.seed} hint="same seed, same model" />
              {HYPERPARAMETERS.map((h) => (
                <Field
                  key={h.name}
                  label={h.label}
                  name={`hyperparameters.${h.name}`}
                  type="number"
                  step={h.step}
                  placeholder={String(defaults[h.name] ?? '')}
                  error={fieldErrors[`hyperparameters.${h.name}`]}
                  hint={h.hint || undefined}
                />
              ))}
            </div>
          </details>
        )}
        {actionError ? <Notice kind="error">{actionError.message}</Notice> : null}
        <div>
          <Button type="submit" disabled={submitting}>{submitting ? 'Starting…' : 'Train model'}</Button>
        </div>
      </Form>
    </Card>
  )
}

/** The Forecast settings of POST /train/: blank fields take the frequency's defaults, shown once a frequency is chosen. */
function ForecastSettings({ defaults, fieldErrors }: { defaults: ForecastDefaults; fieldErrors: Record<string, string> }) {
  const [frequency, setFrequency] = useState('')
  const f = FREQUENCIES.find((x) => x === frequency)
  const err = (k: (typeof FORECAST_SETTINGS)[number]) => fieldErrors[`forecast.${k}`]
  return (
    <div className="grid gap-4 md:grid-cols-3 lg:grid-cols-5" role="group" aria-label="Forecast settings">
      <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
        Frequency
        <select name="frequency" value={frequency} onChange={(e) => setFrequency(e.target.value)} aria-invalid={fieldErrors.frequency ? true : undefined} className="rounded-md border border-slate-300 px-2 py-2 font-normal aria-[invalid]:border-rose-500">
          <option value="">Infer from the timestamps</option>
          {FREQUENCIES.map((x) => (
            <option key={x} value={x}>{x}</option>
          ))}
        </select>
        {fieldErrors.frequency ? <span className="text-xs font-normal text-rose-600">{fieldErrors.frequency}</span> : null}
      </label>
      <Field label="Horizon" name="forecast.horizon" type="number" step="1" placeholder={f ? String(defaults.horizon[f]) : 'by frequency'} error={err('horizon')} hint={f ? `periods ahead, at most ${defaults.max_horizon[f]}` : 'periods ahead to backtest'} />
      <Field label="Backtest origins" name="forecast.origins" type="number" step="1" placeholder={String(defaults.origins)} error={err('origins')} hint="rolling windows, 1–10" />
      <Field label="Season length" name="forecast.season_length" type="number" step="1" placeholder={f ? String(defaults.season_length[f]) : 'by frequency'} error={err('season_length')} hint="periods per season" />
      <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
        Model choice
        <select name="forecast.selection" defaultValue="per_series" className="rounded-md border border-slate-300 px-2 py-2 font-normal">
          <option value="per_series">Best per series</option>
          <option value="global">One family for all series</option>
        </select>
        {err('selection') ? <span className="text-xs font-normal text-rose-600">{err('selection')}</span> : null}
      </label>
    </div>
  )
}

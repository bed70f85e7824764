import type { Sql } from '#app/db/db.server.ts'
import type { DataType } from '#app/features/templates/column-types.ts'
import { normalizeDataType } from '#app/features/templates/column-types.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { ApiError, badRequest, conflict, notFound } from '#app/http/errors.server.ts'
import { runInThread } from '#app/jobs/thread-pool.server.ts'
import { readArtefact, type ModelVersionRow } from '../registry.server.ts'
import type { TrainInput } from '../schemas.ts'
import type { ResolvedColumn, TrainingListRow } from '../training.server.ts'
import { asServerIn, loadTraining, statusFields } from '../training.server.ts'
import { alignRegressor, inferFrequency, parseFrequency, periodLabel, periodOf, regularize, toMillis, type Frequency } from './calendar.ts'
import { CANDIDATE_LABEL, DEFAULT_HORIZON, forecastWith, intervals, leaderboard, MAX_STEPS, MIN_PERIODS, REGRESSION_CANDIDATES, UNIVARIATE_CANDIDATES, usesRegressors, type ForecastArtefact, type ForecastSpec, type SeriesModel } from './core.ts'
import type { ForecastInput } from './schemas.ts'

/*
  Forecasting's public surface: checks a Forecast training request (the time column, target, series id, regressors,
  frequency) before the training job starts; the model summary of a forecast model (leaderboard of candidates by MASE
  and sMAPE, per series); and POST /inference/forecast from the stored model — from the training's history, or from a
  dataset's more recent rows (same fitted parameters, new state). Everything runs as the caller: another tenant's
  training or dataset is a 404.
*/

/** At most this many series in one forecast training. */
export const MAX_SERIES = 500
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

export interface ForecastSettings extends ForecastSpec {
  timestamp: string
  target: string
  unique_id: string | null
  regressors: string[]
  /** the frequency came from the request (false: inferred from the timestamps) */
  frequency_given: boolean
}

interface DatasetInfo {
  id: number
  columns: ColumnSpec[]
  silver_table: string | null
}

const unprocessable = (field: string, message: string, code: 'VALIDATION_ERROR' | 'INSUFFICIENT_DATA' = 'VALIDATION_ERROR') =>
  new ApiError(422, code, `${field}: ${message}`, { field, fields: [{ field, message }] })

/** POST /train/ with problem_type Forecast: column roles, frequency and settings, each problem a 4xx naming the field. */
export async function resolveForecastTraining(sql: Sql, d: DatasetInfo, input: TrainInput): Promise<{ columns: ResolvedColumn[]; settings: ForecastSettings }> {
  const byName = new Map(d.columns.map((c) => [c.column_name.toLowerCase(), c]))
  const given = new Map<string, { attribute: ResolvedColumn['attribute_name']; at: number }>()
  input.columns.forEach((c, i) => {
    const col = byName.get(c.column_name.toLowerCase())
    if (!col) throw badRequest(`columns[${i}].column_name`, `'${c.column_name}' is not a column of dataset ${d.id} (${d.columns.map((x) => x.column_name).join(', ')})`)
    if (given.has(col.column_name)) throw badRequest(`columns[${i}].column_name`, `'${c.column_name}' is listed twice`)
    if (c.data_type !== undefined && c.data_type !== '' && normalizeDataType(c.data_type) !== col.data_type) {
      throw badRequest(`columns[${i}].data_type`, `'${c.column_name}' is ${col.data_type} in the dataset, not ${c.data_type}`)
    }
    if (c.attribute_name === 'Id') throw badRequest(`columns[${i}].attribute_name`, `Forecast columns are Timestamp, Target, UniqueId (the series id), Feature (a numeric regressor) or Ignore`)
    given.set(col.column_name, { attribute: c.attribute_name, at: i })
  })
  const timeTypes: DataType[] = ['Date', 'DateTime']
  // The one Date/DateTime column is the time column when the request does not say.
  const dated = d.columns.filter((c) => timeTypes.includes(c.data_type))
  if (![...given.values()].some((g) => g.attribute === 'Timestamp') && dated.length === 1 && !given.has(dated[0].column_name)) {
    given.set(dated[0].column_name, { attribute: 'Timestamp', at: -1 })
  }
  // Unlisted columns are ignored (a regressor is named as a Feature).
  const columns = d.columns.map((c) => ({ column_name: c.column_name, data_type: c.data_type, attribute_name: given.get(c.column_name)?.attribute ?? 'Ignore' }) as ResolvedColumn)
  const field = (name: string) => {
    const at = given.get(name)?.at ?? -1
    return at >= 0 ? `columns[${at}].attribute_name` : 'columns'
  }
  const one = (attribute: 'Timestamp' | 'Target' | 'UniqueId', required: boolean) => {
    const cs = columns.filter((c) => c.attribute_name === attribute)
    if (cs.length > 1) throw badRequest('columns', `at most one column can be the ${attribute} (${cs.map((c) => c.column_name).join(', ')})`)
    if (required && !cs.length) throw badRequest('columns', `one column must have attribute_name ${attribute}${attribute === 'Timestamp' ? ' (a Date or DateTime column)' : ''}`)
    return cs[0] ?? null
  }
  const time = one('Timestamp', true)!
  const target = one('Target', true)!
  const series = one('UniqueId', false)
  if (!timeTypes.includes(time.data_type)) throw unprocessable(field(time.column_name), `the Timestamp column '${time.column_name}' is ${time.data_type}; it must be Date or DateTime`)
  if (target.data_type !== 'Integer' && target.data_type !== 'Float') throw unprocessable(field(target.column_name), `Forecast needs a numeric target; '${target.column_name}' is ${target.data_type}`)
  if (series && !['String', 'Integer'].includes(series.data_type)) throw unprocessable(field(series.column_name), `the series id '${series.column_name}' must be a String or Integer column, not ${series.data_type}`)
  const regressors = columns.filter((c) => c.attribute_name === 'Feature')
  for (const r of regressors) if (r.data_type !== 'Integer' && r.data_type !== 'Float') throw unprocessable(field(r.column_name), `a regressor must be numeric; '${r.column_name}' is ${r.data_type}`)

  const spelled = input.frequency ?? input.forecast.frequency
  let frequency: Frequency | null = null
  if (spelled !== undefined) {
    frequency = parseFrequency(spelled)
    if (!frequency) throw badRequest(input.frequency !== undefined ? 'frequency' : 'forecast.frequency', `'${spelled}' is not a frequency (Hour, Day, Week, Month, Quarter, Year)`)
  }
  if (d.silver_table) {
    await asServerIn(sql, async () => {
      const table = `silver.${quote(d.silver_table!)}`
      if (!frequency) {
        const { rows } = await sql.query<{ t: unknown }>(
          `select distinct ${time.data_type === 'Date' ? `${quote(time.column_name)}::text` : quote(time.column_name)} as t from ${table} where ${quote(time.column_name)} is not null ${series ? `and ${quote(series.column_name)} = (select ${quote(series.column_name)} from ${table} where ${quote(series.column_name)} is not null limit 1)` : ''} order by 1 limit 5000`,
        )
        frequency = inferFrequency(rows.map((r) => toMillis(r.t)))
        if (!frequency) throw unprocessable('frequency', `could not infer it from '${time.column_name}' (fewer than 3 distinct timestamps); send frequency: Hour, Day, Week, Month, Quarter or Year`)
      }
      for (const r of regressors) {
        const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from (select 1 from ${table} where ${quote(r.column_name)} is not null limit 1) s`)
        if (!rows[0].n) throw unprocessable(field(r.column_name), `the regressor '${r.column_name}' has no value in the dataset`)
      }
      if (series) {
        const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from (select distinct ${quote(series.column_name)} from ${table} limit ${MAX_SERIES + 1}) s`)
        if (rows[0].n > MAX_SERIES) throw unprocessable(field(series.column_name), `more than ${MAX_SERIES} series in '${series.column_name}'; train on fewer series per model`)
      }
    })
  }
  const f = frequency!
  const horizon = input.forecast.horizon ?? DEFAULT_HORIZON[f]
  if (horizon > MAX_STEPS[f]) throw badRequest('forecast.horizon', `at most ${MAX_STEPS[f]} for ${f} data`)
  // With regressors the regression variants join the backtest: ARIMAX beside ARIMA, regression + ETS beside ETS.
  const withX = regressors.length > 0
  const candidates: ForecastSpec['candidates'] =
    input.algorithm === 'auto'
      ? [...UNIVARIATE_CANDIDATES, ...(withX ? REGRESSION_CANDIDATES : [])]
      : input.algorithm === 'seasonal_naive'
        ? ['seasonal_naive']
        : input.algorithm === 'ets'
          ? ['seasonal_naive', 'ets', ...(withX ? (['regression'] as const) : [])]
          : ['seasonal_naive', 'arima', ...(withX ? (['arimax'] as const) : [])]
  return {
    columns,
    settings: {
      frequency: f,
      frequency_given: spelled !== undefined,
      season_length: input.forecast.season_length ?? { Hour: 24, Day: 7, Week: 52, Month: 12, Quarter: 4, Year: 1 }[f],
      horizon,
      origins: input.forecast.origins ?? 3,
      // A named algorithm is backtested beside the baseline, and used unless it cannot be fitted.
      candidates,
      selection: input.algorithm === 'auto' ? (input.forecast.selection ?? 'per_series') : 'global',
      timestamp: time.column_name,
      target: target.column_name,
      unique_id: series?.column_name ?? null,
      regressors: regressors.map((r) => r.column_name),
    },
  }
}

// ---------------------------------------------------------------- the stored model

const artefacts = new Map<number, { checksum: string; a: ForecastArtefact }>()

async function forecastModel(sql: Sql, t: TrainingListRow) {
  if (!t.model_id) {
    const s = statusFields(t.status, t.model_id)
    throw conflict(`train_id: training ${t.id} has no model yet (status ${s.status}${t.error ? `: ${t.error}` : ''})`, { field: 'train_id', train_id: t.id, status: s.status })
  }
  const { rows } = await sql.query<ModelVersionRow>(`select * from public.model_versions where id = $1`, [t.model_id])
  const v = rows[0]
  const hit = artefacts.get(v.id)
  if (hit && hit.checksum === v.checksum) return { version: v, artefact: hit.a }
  const a = JSON.parse((await readArtefact(v)).toString('utf8')) as ForecastArtefact
  if (artefacts.size >= 32) artefacts.delete(artefacts.keys().next().value!)
  artefacts.set(v.id, { checksum: v.checksum, a })
  return { version: v, artefact: a }
}

/** GET /train/model-summary for a forecast model: the leaderboard of candidates (MASE, sMAPE) and each series. */
export async function forecastModelSummary(sql: Sql, t: TrainingListRow) {
  const { version: v, artefact: a } = await forecastModel(sql, t)
  const m = v.metrics as Record<string, unknown>
  const settings = (t.params as unknown as { forecast: ForecastSettings }).forecast
  const board = leaderboard(a)
  const filled = a.series.reduce((s, x) => s + x.filled, 0)
  return {
    model_summary: { model: v.model_name, mase: m.mase, smape: m.smape, relative_mase_to_seasonal_naive: m.relative_mase_to_seasonal_naive },
    confusion_matrix: null,
    train_id: t.id,
    model_id: v.id,
    version: v.version,
    algorithm: v.algorithm,
    problem_type: 'Forecast',
    classes: null,
    metrics: m,
    score: v.score,
    // the tabular summary's fields, empty for a forecast model
    cross_validation: null,
    best_iteration: null,
    params: v.params,
    data: v.data_ref,
    duration_ms: v.duration_ms,
    trained_by: v.trained_by,
    checksum: v.checksum,
    size_bytes: v.size_bytes,
    format: v.format,
    preprocess_id: t.preprocess_id,
    forecast: {
      frequency: a.spec.frequency,
      frequency_inferred: settings ? !settings.frequency_given : null,
      season_length: a.spec.season_length,
      selection: a.spec.selection,
      max_steps: a.max_steps,
      backtest: { horizon: a.spec.horizon, origins: a.spec.origins, method: 'rolling origin: each origin trains on everything before it and forecasts the next horizon; MASE scaled by the in-sample seasonal naive error' },
      timestamp: settings?.timestamp ?? null,
      target: settings?.target ?? null,
      unique_id: settings?.unique_id ?? null,
      regressors: settings?.regressors ?? [],
      regressors_detail: regressorSummary(a, settings?.regressors ?? [], m),
      missing_periods: {
        filled,
        method: 'linear interpolation between the neighbouring periods; rows of the same period are averaged',
        message: filled ? `${filled} missing period(s) were filled by linear interpolation before training` : 'no period was missing',
      },
    },
    leaderboard: board,
    series: a.series.map((s) => ({
      unique_id: s.unique_id,
      model: CANDIDATE_LABEL[s.chosen],
      label: s.label,
      periods: s.values.length,
      first: periodLabel(s.start, a.spec.frequency),
      last: periodLabel(s.start + s.values.length - 1, a.spec.frequency),
      rows: s.rows,
      duplicates: s.duplicates,
      filled: s.filled,
      backtest: s.backtest,
      leaderboard: s.leaderboard,
      uses_regressors: Boolean(s.effect),
      ...(s.effect ? { regressor_coefficients: Object.fromEntries((a.spec.regressors ?? []).map((c, k) => [c, s.effect!.beta[k]])), regressor_last_values: Object.fromEntries((a.spec.regressors ?? []).map((c, k) => [c, s.effect!.ref[k]])) } : {}),
      ...(s.exog_filled ? { regressor_filled: Object.fromEntries((a.spec.regressors ?? []).map((c, k) => [c, s.exog_filled![k]])) } : {}),
    })),
  }
}

/** The model summary's account of the regressors: how gaps were handled, which series use them, what a forecast needs. */
function regressorSummary(a: ForecastArtefact, names: string[], metrics: Record<string, unknown>) {
  if (!names.length) return null
  const using = a.series.filter((s) => s.effect)
  return {
    columns: names,
    candidates: a.spec.candidates.filter((c) => REGRESSION_CANDIDATES.includes(c)).map((c) => CANDIDATE_LABEL[c]),
    series_using: using.length,
    missing_values: {
      filled: (metrics.regressor_filled_periods as Record<string, number> | undefined) ?? Object.fromEntries(names.map((c, k) => [c, a.series.reduce((s, x) => s + (x.exog_filled?.[k] ?? 0), 0)])),
      method: "rows of a period averaged; a period without a value filled by linear interpolation between the regressor's neighbouring periods, and by its nearest known value before its first or after its last; a regressor with no value at all is refused (422 at POST /train/, or the training fails naming the column and series)",
    },
    backtest: "each origin forecasts with the regressors' actual values in the held-out window (as a caller supplies the future ones)",
    forecast_needs: using.length
      ? `POST /inference/forecast for ${using.length === a.series.length ? 'every series' : `${using.length} of ${a.series.length} series (${using.slice(0, 10).map((s) => s.unique_id || 'the series').join(', ')})`} needs \`regressors\`: { ${names.map((c) => `"${c}": [one number per step]`).join(', ')} }`
      : 'no series chose a regression candidate: forecasts need no regressor values (they are accepted and checked, not used)',
  }
}

// ---------------------------------------------------------------- POST /inference/forecast

export async function generateForecast(sql: Sql, input: ForecastInput) {
  const t = await loadTraining(sql, input.train_id)
  if (t.problem_type !== 'Forecast') throw badRequest('train_id', `training ${t.id} is a ${t.problem_type} model; /inference/forecast needs a Forecast one (use POST /inference/ for it)`)
  const { version: v, artefact: a } = await forecastModel(sql, t)
  if (input.preprocess_id !== undefined && input.preprocess_id !== t.preprocess_id) {
    throw badRequest('preprocess_id', `training ${t.id} uses preprocess ${t.preprocess_id}, not ${input.preprocess_id}`)
  }
  const f = a.spec.frequency
  const asked = parseFrequency(input.frequency)
  if (!asked) throw badRequest('frequency', `'${input.frequency}' is not a frequency (Hour, Day, Week, Month, Quarter, Year)`)
  if (asked !== f) throw badRequest('frequency', `the model was trained on ${f} data; it forecasts ${f} steps, not ${asked}`)
  if (input.steps > a.max_steps) throw badRequest('steps', `at most ${a.max_steps} steps for ${f} data`)
  const settings = (t.params as unknown as { forecast: ForecastSettings }).forecast
  const ids = a.series.map((s) => s.unique_id)
  let series = a.series[0]
  if (input.unique_id !== undefined) {
    const s = a.series.find((x) => x.unique_id === input.unique_id)
    if (!s) throw badRequest('unique_id', `'${input.unique_id}' is not a series of training ${t.id} (${ids.length} series: ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})`)
    series = s
  } else if (a.series.length > 1) {
    throw badRequest('unique_id', `training ${t.id} has ${ids.length} series; name one (${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''})`)
  }
  const { future, names, needs } = futureRegressors(t.id, a, series, input)
  let start = series.start
  let values = series.values
  let mean = series.forecast.mean
  let sd = series.forecast.sd
  let effect = series.effect ?? null
  let source: Record<string, unknown> = { history: 'training', dataset_id: (v.data_ref as { dataset_id?: number }).dataset_id ?? null }
  if (input.dataset_id !== undefined) {
    const recent = await recentHistory(sql, input.dataset_id, settings, series.unique_id, f, needs ? names : [])
    if (recent.values.length < MIN_PERIODS) {
      throw unprocessable('dataset_id', `dataset ${input.dataset_id} has ${recent.values.length} period(s) of series '${series.unique_id}'; at least ${MIN_PERIODS} are needed`, 'INSUFFICIENT_DATA')
    }
    const out = await runInThread<{ mean: number[]; sd: number[]; effect?: SeriesModel['effect'] } | null>('#app/features/ml/forecast/forecast.thread.ts', 'forecastFromHistory', {
      fit: series.fit,
      values: recent.values,
      steps: input.steps,
      exog: recent.exog,
    })
    if (!out) throw unprocessable('dataset_id', `the model could not be run on dataset ${input.dataset_id}'s history of '${series.unique_id}'`)
    start = recent.start
    values = recent.values
    mean = out.mean
    sd = out.sd
    effect = out.effect ?? null
    source = { history: 'dataset', dataset_id: input.dataset_id, periods: recent.values.length, filled: recent.filled }
  }
  const last = start + values.length - 1
  const points = intervals(forecastWith({ forecast: { mean, sd }, effect }, future ?? [], input.steps), input.steps, input.confidence)
  return {
    forecast: points.map((p, h) => ({ date: periodLabel(last + h + 1, f), value: round(p.value), lower: round(p.lower), upper: round(p.upper), confidence: input.confidence })),
    // Extensions: which model and history answered, and (on request) the recent history for a chart.
    train_id: t.id,
    preprocess_id: t.preprocess_id,
    unique_id: settings?.unique_id ? series.unique_id : null,
    frequency: f,
    steps: input.steps,
    max_steps: a.max_steps,
    model: CANDIDATE_LABEL[series.chosen],
    model_label: series.label,
    interval: `${Math.round(input.confidence * 1000) / 10} % prediction interval from the model's forecast distribution (normal, sd per step)`,
    history_end: periodLabel(last, f),
    source,
    regressors: names,
    regressors_used: needs,
    ...(names.length
      ? {
          regressors_note: needs
            ? `this series' model (${series.label}) uses the regressors: the forecast is at the supplied future values`
            : `this series' model (${series.label}) is univariate: the regressors were ${input.regressors ? 'checked but not used' : 'not needed'}`,
        }
      : {}),
    ...(input.history
      ? { history: values.slice(-input.history).map((y, i, arr) => ({ date: periodLabel(last - arr.length + 1 + i, f), value: round(y) })) }
      : {}),
  }
}

const round = (v: number) => Math.round(v * 1e6) / 1e6

/**
 * The caller's future regressor values, checked (decision 064): a model without regressors refuses the field; every
 * given column must be one of the model's, and every one of the model's present with exactly `steps` numbers (zod
 * has checked each is a number: regressors.<column>.<i>). A series whose chosen model uses them needs them; a
 * univariate one accepts the call without.
 */
function futureRegressors(trainId: number, a: ForecastArtefact, series: SeriesModel, input: ForecastInput) {
  const names = a.spec.regressors ?? []
  const needs = Boolean(series.effect) && usesRegressors(series.fit)
  const given = input.regressors
  if (given === undefined) {
    if (needs) {
      throw badRequest(
        'regressors',
        `series '${series.unique_id || 'the series'}' is forecast by ${series.label}, which needs the future values of its regressors: send regressors: { ${names.map((c) => `"${c}": [${input.steps} numbers]`).join(', ')} }`,
      )
    }
    return { future: null, names, needs }
  }
  if (!names.length) throw badRequest('regressors', `training ${trainId} was trained without regressors; leave regressors out`)
  for (const key of Object.keys(given)) if (!names.includes(key)) throw badRequest(`regressors.${key}`, `'${key}' is not a regressor of training ${trainId} (${names.join(', ')})`)
  const future = names.map((c) => {
    const v = given[c]
    if (v === undefined) throw badRequest(`regressors.${c}`, `missing: ${input.steps} future value(s) of '${c}' (one per step) are needed`)
    if (v.length !== input.steps) throw badRequest(`regressors.${c}`, `${v.length} value(s) given; steps is ${input.steps}, so exactly ${input.steps} are needed`)
    return v
  })
  return { future, names, needs }
}

/** One series of a dataset (as the caller sees it) in the model's periods, with the named regressors aligned to it. */
async function recentHistory(sql: Sql, datasetId: number, settings: ForecastSettings, uniqueId: string, f: Frequency, regressors: string[] = []) {
  const { rows: ds } = await sql.query<{ id: number; columns: ColumnSpec[]; silver_table: string | null; is_valid: boolean }>(
    `select d.id, d.columns, d.is_valid, (select r.table_name from public.dataset_tables r where r.dataset_id = d.id and r.schema_name = 'silver') as silver_table
       from public.datasets d where d.id = $1`,
    [datasetId],
  )
  if (!ds.length) throw notFound('Dataset', datasetId)
  const d = ds[0]
  if (!d.silver_table) throw new ApiError(400, 'INVALID_DATASET', `dataset_id: dataset ${datasetId} is not validated`, { field: 'dataset_id', fields: [{ field: 'dataset_id', message: 'not validated' }] })
  const names = new Map(d.columns.map((c) => [c.column_name, c]))
  const needed = [settings.timestamp, settings.target, ...(settings.unique_id ? [settings.unique_id] : []), ...regressors]
  const missing = needed.filter((n) => !names.has(n))
  if (missing.length) throw unprocessable('dataset_id', `dataset ${datasetId} lacks the model's column(s) ${missing.join(', ')}`)
  const time = names.get(settings.timestamp)!
  const { rows } = await asServerIn(sql, () =>
    sql.query<{ t: unknown; y: number | null } & Record<string, unknown>>(
      `select ${time.data_type === 'Date' ? `${quote(time.column_name)}::text` : quote(time.column_name)} as t, ${quote(settings.target)}::float8 as y${regressors.map((c, k) => `, ${quote(c)}::float8 as x${k}`).join('')}
         from silver.${quote(d.silver_table!)}
        where ${quote(settings.timestamp)} is not null ${settings.unique_id ? `and ${quote(settings.unique_id)}::text = $1` : 'and $1::text is not null'}
        order by 1`,
      [uniqueId],
    ),
  )
  const r = regularize(rows.map((x) => ({ t: toMillis(x.t), y: x.y === null ? NaN : Number(x.y) })), f)
  if (!r.values.length) return { ...r, start: periodOf(Date.now(), f), exog: [] }
  const exog = regressors.map((c, k) => {
    const al = alignRegressor(
      rows.map((x) => ({ t: toMillis(x.t), y: x[`x${k}`] === null ? NaN : Number(x[`x${k}`]) })),
      f,
      r.start,
      r.values.length,
    )
    if (!al) throw unprocessable('dataset_id', `dataset ${datasetId} has no value of the regressor '${c}' for series '${uniqueId || 'the series'}'`)
    return al.values
  })
  return { ...r, exog }
}

// ---------------------------------------------------------------- the UI's chart

/** Forecast trainings the caller can see (for the page's picker). */
export async function forecastTrainings(sql: Sql) {
  const { rows } = await sql.query<{ id: number; predictor_name: string; model_id: number | null; dataset_name: string; created_at: Date }>(
    `select id, predictor_name, model_id, dataset_name, created_at from public.training_jobs where problem_type = 'Forecast' order by id desc limit 200`,
  )
  return rows
}

/** History, forecast and interval of one series, for the model page's chart (same numbers as /inference/forecast). */
export async function forecastChart(sql: Sql, trainId: number, opts: { unique_id?: string; steps?: number; confidence?: number; regressors?: Record<string, number> }) {
  const t = await loadTraining(sql, trainId)
  if (t.problem_type !== 'Forecast') throw badRequest('train_id', `training ${t.id} is a ${t.problem_type} model`)
  const { artefact: a } = await forecastModel(sql, t)
  const series = a.series.find((s) => s.unique_id === opts.unique_id) ?? a.series[0]
  const steps = Math.max(1, Math.min(a.max_steps, Math.round(opts.steps ?? a.spec.horizon)))
  const confidence = opts.confidence && opts.confidence > 0.5 && opts.confidence < 1 ? opts.confidence : 0.95
  // A model that uses regressors: each held at one value over the horizon (the page's inputs; default the last known).
  const names = a.spec.regressors ?? []
  const regressors = series.effect
    ? names.map((name, k) => {
        const given = opts.regressors?.[name]
        return { name, value: given !== undefined && Number.isFinite(given) ? given : series.effect!.ref[k], last: series.effect!.ref[k] }
      })
    : []
  const out = await generateForecast(sql, {
    ...(regressors.length ? { regressors: Object.fromEntries(regressors.map((r) => [r.name, new Array<number>(steps).fill(r.value)])) } : {}),
    train_id: t.id,
    steps,
    frequency: a.spec.frequency,
    unique_id: series.unique_id,
    confidence,
    history: Math.min(series.values.length, Math.max(48, 4 * steps)),
  })
  return {
    train_id: t.id,
    predictor_name: t.predictor_name,
    frequency: a.spec.frequency,
    max_steps: a.max_steps,
    series_ids: a.series.map((s) => s.unique_id),
    unique_id: series.unique_id,
    steps,
    confidence,
    model: out.model_label,
    history: out.history ?? [],
    forecast: out.forecast,
    leaderboard: series.leaderboard,
    filled: series.filled,
    /** the regressors this series' model needs, with the constant future value used and the last known one */
    regressors,
  }
}

/** The chart's options from a page's query: series, steps, confidence, and `reg.<column>` regressor values. */
export function forecastChartOptions(url: URL) {
  const q = (k: string) => url.searchParams.get(k) || undefined
  const regressors: Record<string, number> = {}
  for (const [k, v] of url.searchParams) if (k.startsWith('reg.') && v.trim() !== '' && Number.isFinite(Number(v))) regressors[k.slice(4)] = Number(v)
  return { unique_id: q('series'), steps: q('steps') ? Number(q('steps')) : undefined, confidence: q('confidence') ? Number(q('confidence')) : undefined, regressors }
}

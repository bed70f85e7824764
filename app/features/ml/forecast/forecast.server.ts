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
import { inferFrequency, parseFrequency, periodLabel, periodOf, regularize, toMillis, type Frequency } from './calendar.ts'
import { CANDIDATE_LABEL, DEFAULT_HORIZON, intervals, leaderboard, MAX_STEPS, MIN_PERIODS, type ForecastArtefact, type ForecastSpec } from './core.ts'
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
      if (series) {
        const { rows } = await sql.query<{ n: number }>(`select count(*)::int as n from (select distinct ${quote(series.column_name)} from ${table} limit ${MAX_SERIES + 1}) s`)
        if (rows[0].n > MAX_SERIES) throw unprocessable(field(series.column_name), `more than ${MAX_SERIES} series in '${series.column_name}'; train on fewer series per model`)
      }
    })
  }
  const f = frequency!
  const horizon = input.forecast.horizon ?? DEFAULT_HORIZON[f]
  if (horizon > MAX_STEPS[f]) throw badRequest('forecast.horizon', `at most ${MAX_STEPS[f]} for ${f} data`)
  const candidates: ForecastSpec['candidates'] = input.algorithm === 'auto' ? ['seasonal_naive', 'ets', 'arima', 'airline'] : input.algorithm === 'seasonal_naive' ? ['seasonal_naive'] : ['seasonal_naive', input.algorithm as 'ets' | 'arima']
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
      regressors_note: settings?.regressors?.length ? 'regressors are recorded but not used by these models (univariate); forecasts do not need their future values' : null,
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
    })),
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
  let start = series.start
  let values = series.values
  let mean = series.forecast.mean
  let sd = series.forecast.sd
  let source: Record<string, unknown> = { history: 'training', dataset_id: (v.data_ref as { dataset_id?: number }).dataset_id ?? null }
  if (input.dataset_id !== undefined) {
    const recent = await recentHistory(sql, input.dataset_id, settings, series.unique_id, f)
    if (recent.values.length < MIN_PERIODS) {
      throw unprocessable('dataset_id', `dataset ${input.dataset_id} has ${recent.values.length} period(s) of series '${series.unique_id}'; at least ${MIN_PERIODS} are needed`, 'INSUFFICIENT_DATA')
    }
    const out = await runInThread<{ mean: number[]; sd: number[] } | null>('#app/features/ml/forecast/forecast.thread.ts', 'forecastFromHistory', { fit: series.fit, values: recent.values, steps: input.steps })
    if (!out) throw unprocessable('dataset_id', `the model could not be run on dataset ${input.dataset_id}'s history of '${series.unique_id}'`)
    start = recent.start
    values = recent.values
    mean = out.mean
    sd = out.sd
    source = { history: 'dataset', dataset_id: input.dataset_id, periods: recent.values.length, filled: recent.filled }
  }
  const last = start + values.length - 1
  const points = intervals({ mean, sd }, input.steps, input.confidence)
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
    ...(input.history
      ? { history: values.slice(-input.history).map((y, i, arr) => ({ date: periodLabel(last - arr.length + 1 + i, f), value: round(y) })) }
      : {}),
  }
}

const round = (v: number) => Math.round(v * 1e6) / 1e6

/** One series of a dataset (as the caller sees it) in the model's periods. */
async function recentHistory(sql: Sql, datasetId: number, settings: ForecastSettings, uniqueId: string, f: Frequency) {
  const { rows: ds } = await sql.query<{ id: number; columns: ColumnSpec[]; silver_table: string | null; is_valid: boolean }>(
    `select d.id, d.columns, d.is_valid, (select r.table_name from public.dataset_tables r where r.dataset_id = d.id and r.schema_name = 'silver') as silver_table
       from public.datasets d where d.id = $1`,
    [datasetId],
  )
  if (!ds.length) throw notFound('Dataset', datasetId)
  const d = ds[0]
  if (!d.silver_table) throw new ApiError(400, 'INVALID_DATASET', `dataset_id: dataset ${datasetId} is not validated`, { field: 'dataset_id', fields: [{ field: 'dataset_id', message: 'not validated' }] })
  const names = new Map(d.columns.map((c) => [c.column_name, c]))
  const needed = [settings.timestamp, settings.target, ...(settings.unique_id ? [settings.unique_id] : [])]
  const missing = needed.filter((n) => !names.has(n))
  if (missing.length) throw unprocessable('dataset_id', `dataset ${datasetId} lacks the model's column(s) ${missing.join(', ')}`)
  const time = names.get(settings.timestamp)!
  const { rows } = await asServerIn(sql, () =>
    sql.query<{ t: unknown; y: number | null }>(
      `select ${time.data_type === 'Date' ? `${quote(time.column_name)}::text` : quote(time.column_name)} as t, ${quote(settings.target)}::float8 as y
         from silver.${quote(d.silver_table!)}
        where ${quote(settings.timestamp)} is not null ${settings.unique_id ? `and ${quote(settings.unique_id)}::text = $1` : 'and $1::text is not null'}
        order by 1`,
      [uniqueId],
    ),
  )
  const r = regularize(rows.map((x) => ({ t: toMillis(x.t), y: x.y === null ? NaN : Number(x.y) })), f)
  return r.values.length ? r : { ...r, start: periodOf(Date.now(), f) }
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
export async function forecastChart(sql: Sql, trainId: number, opts: { unique_id?: string; steps?: number; confidence?: number }) {
  const t = await loadTraining(sql, trainId)
  if (t.problem_type !== 'Forecast') throw badRequest('train_id', `training ${t.id} is a ${t.problem_type} model`)
  const { artefact: a } = await forecastModel(sql, t)
  const series = a.series.find((s) => s.unique_id === opts.unique_id) ?? a.series[0]
  const steps = Math.max(1, Math.min(a.max_steps, Math.round(opts.steps ?? a.spec.horizon)))
  const confidence = opts.confidence && opts.confidence > 0.5 && opts.confidence < 1 ? opts.confidence : 0.95
  const out = await generateForecast(sql, {
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
  }
}

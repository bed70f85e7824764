import { asCaller, type Db, type Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import type { DataType } from '#app/features/templates/column-types.ts'
import { normalizeDataType } from '#app/features/templates/column-types.ts'
import type { SilverPeriod } from '#app/features/datasets/datasets.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { ApiError, badRequest, conflict, notFound } from '#app/http/errors.server.ts'
import { cancelJob, enqueueJob, jobStateColumns, type JobStatus } from '#app/jobs/jobs.server.ts'
import { describeChanges, MAX_CLASSES, type PreprocessSpec } from './preprocess.ts'
import { forgetModels, removeFiles, trainingFiles, type ModelVersionRow } from './registry.server.ts'
import { FORECAST_ALGORITHMS, type Algorithm, type Attribute, type ProblemType, type TrainInput } from './schemas.ts'
import { DEFAULT_SPEC, type TrainSpec } from './train-core.ts'
import { DEFAULT_BOOSTING } from './xgboost-train.ts'
import { resolveEngine, type Engine } from './engines.server.ts'
import { forecastModelSummary, resolveForecastTraining } from './forecast/forecast.server.ts'

/*
  Training requests (ML spec §8.1–8.6, 8.8, 10.5): checks a request against the dataset (column roles, the target's
  type and classes) and starts the training job in the same transaction; lists trainings with their job's state;
  deletes a training with its artefacts; attaches another preprocess; answers the schema and the model summary.
  Every read runs as the caller (RLS): another tenant's id is a 404 like an unknown one.
*/

export const TRAIN_JOB = 'ml.train'

export interface ResolvedColumn {
  column_name: string
  data_type: DataType
  attribute_name: Attribute
}

export interface TrainingParams {
  hyperparameters: TrainSpec['boosting'] & TrainSpec['linear']
  validation_split: number
  cv_folds: number
  seed: number
  shap_rows: number
  /** Train on the rows of a date range only (the marketplace's training_period). */
  period?: SilverPeriod
}

export interface TrainingRow {
  id: number
  tenant_id: string
  predictor_name: string
  domain: string
  problem_type: ProblemType
  dataset_id: number | null
  dataset_name: string
  data_source: string
  columns: ResolvedColumn[]
  algorithm: Algorithm
  params: TrainingParams
  shap_enabled: boolean
  is_incremental: boolean
  engine: Engine
  job_id: string
  external_job_id: string | null
  lost_workers: number
  preprocess_id: number | null
  model_id: number | null
  created_by: string | null
  created_by_name: string | null
  created_at: Date
  modified_at: Date
}

interface DatasetInfo {
  id: number
  dataset_name: string
  data_source: string
  columns: ColumnSpec[]
  is_valid: boolean
  valid_records: number
  silver_table: string | null
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

/** The dataset as the caller sees it (404 when it does not exist or is another tenant's). */
export async function datasetFor(sql: Sql, datasetId: number): Promise<DatasetInfo> {
  const { rows } = await sql.query<DatasetInfo>(
    `select d.id, d.dataset_name, d.data_source, d.columns, d.is_valid, d.valid_records,
            (select r.table_name from public.dataset_tables r where r.dataset_id = d.id and r.schema_name = 'silver') as silver_table
       from public.datasets d where d.id = $1`,
    [datasetId],
  )
  if (!rows.length) throw notFound('Dataset', datasetId)
  return rows[0]
}

/**
 * Runs fn in the caller's transaction with the session's own role, for reads of the silver schema (closed to API roles)
 * of a dataset the caller was just shown to see. In the same transaction: PGlite has one connection, and the caller's
 * transaction holds it.
 */
export async function asServerIn<T>(sql: Sql, fn: () => Promise<T>): Promise<T> {
  const { rows } = await sql.query<{ role: string }>(`select current_user::text as role`)
  await sql.query(`select set_config('role', 'none', true)`)
  try {
    return await fn()
  } finally {
    await sql.query(`select set_config('role', $1, true)`, [rows[0].role])
  }
}

/** Distinct non-null values of a silver column, counted up to `cap`. */
async function distinctUpTo(sql: Sql, table: string, column: string, cap: number) {
  return asServerIn(sql, async () => {
    const { rows } = await sql.query<{ n: number }>(
      `select count(*)::int as n from (select distinct ${quote(column)} from silver.${quote(table)} where ${quote(column)} is not null limit ${cap}) s`,
    )
    return rows[0].n
  })
}

// ---------------------------------------------------------------- get_details (§8.2)

const ID_NAME = /(^id$|_id$|^id_|uuid|guid|^key$|number$|^account|customer_?id|^cust_?id)/i
const TARGET_NAME = /^(target|label|class|y|churn(ed)?|outcome|response|is_?fraud|default)$/i

/** The dataset's schema and the attributes a column can take, with suggestions for the wizard. */
export async function trainingDetails(sql: Sql, input: { dataset_id: number; predictor_name: string; domain: string; problem_type: ProblemType }) {
  const d = await datasetFor(sql, input.dataset_id)
  const { rows: taken } = await sql.query(`select 1 from public.training_jobs where predictor_name = $1`, [input.predictor_name])
  const sampleRows = d.silver_table ? Math.min(d.valid_records, 10_000) : 0
  const distinct = new Map<string, number>()
  if (d.silver_table && sampleRows) {
    const cols = d.columns.map((c, i) => `count(distinct ${quote(c.column_name)})::int as c${i}`).join(', ')
    const { rows } = await asServerIn(sql, () => sql.query<Record<string, number>>(`select ${cols} from (select * from silver.${quote(d.silver_table!)} limit 10000) s`))
    d.columns.forEach((c, i) => distinct.set(c.column_name, rows[0][`c${i}`]))
  }
  const fits = (c: ColumnSpec) =>
    input.problem_type !== 'Classification' ? c.data_type === 'Integer' || c.data_type === 'Float' : c.data_type === 'Boolean' || c.data_type === 'String' || c.data_type === 'Integer'
  const byName = d.columns.find((c) => TARGET_NAME.test(c.column_name) && fits(c))
  const lastBool = [...d.columns].reverse().find((c) => c.data_type === 'Boolean' && input.problem_type === 'Classification')
  const lastNumeric = input.problem_type === 'Forecast' ? d.columns.find(fits) : undefined
  const target = (byName ?? lastBool ?? lastNumeric)?.column_name ?? null
  const forecast = input.problem_type === 'Forecast'
  const suggest = (c: ColumnSpec): Attribute => {
    if (c.column_name === target) return 'Target'
    if (forecast && (c.data_type === 'Date' || c.data_type === 'DateTime')) return 'Timestamp'
    if (forecast && c.data_type === 'String') return 'UniqueId'
    const n = distinct.get(c.column_name)
    if (ID_NAME.test(c.column_name) || (c.data_type === 'String' && n !== undefined && sampleRows > 20 && n >= sampleRows * 0.95)) return 'Id'
    return 'Feature'
  }
  return {
    dataset_id: d.id,
    predictor_name: input.predictor_name,
    domain: input.domain,
    problem_type: input.problem_type,
    dataset_schema: d.columns.map((c) => ({ column_name: c.column_name, data_type: c.data_type })),
    attributes: forecast ? ['Timestamp', 'Target', 'UniqueId', 'Feature'] : ['Id', 'Target', 'Feature'],
    // Extensions for the wizard: is the dataset trainable, is the name free, what each column looks like.
    dataset_name: d.dataset_name,
    is_valid: d.is_valid,
    rows: d.valid_records,
    predictor_name_available: taken.length === 0,
    suggested: {
      target,
      columns: d.columns.map((c) => ({
        column_name: c.column_name,
        data_type: c.data_type,
        attribute_name: suggest(c),
        distinct_in_sample: distinct.get(c.column_name) ?? null,
        target_fits_problem_type: fits(c),
      })),
      sample_rows: sampleRows,
    },
  }
}

// ---------------------------------------------------------------- create (§8.1)

/** Checks the column roles against the dataset; every problem is a 400/422 naming the field. */
export async function resolveColumns(sql: Sql, d: DatasetInfo, input: Pick<TrainInput, 'columns' | 'problem_type'>): Promise<ResolvedColumn[]> {
  const byName = new Map(d.columns.map((c) => [c.column_name.toLowerCase(), c]))
  const given = new Map<string, { attribute: Attribute; at: number }>()
  input.columns.forEach((c, i) => {
    const col = byName.get(c.column_name.toLowerCase())
    if (!col) throw badRequest(`columns[${i}].column_name`, `'${c.column_name}' is not a column of dataset ${d.id} (${d.columns.map((x) => x.column_name).join(', ')})`)
    if (given.has(col.column_name)) throw badRequest(`columns[${i}].column_name`, `'${c.column_name}' is listed twice`)
    if (c.data_type !== undefined && c.data_type !== '') {
      const t = normalizeDataType(c.data_type)
      if (t !== col.data_type) throw badRequest(`columns[${i}].data_type`, `'${c.column_name}' is ${col.data_type} in the dataset, not ${c.data_type}`)
    }
    if (c.attribute_name === 'Timestamp' || c.attribute_name === 'UniqueId') {
      throw badRequest(`columns[${i}].attribute_name`, `${c.attribute_name} is for problem_type Forecast; ${input.problem_type} takes Id, Target, Feature or Ignore`)
    }
    given.set(col.column_name, { attribute: c.attribute_name, at: i })
  })
  // Columns the request does not name are features (the spec's example names only the Id and the Target).
  const resolved = d.columns.map((c) => ({ column_name: c.column_name, data_type: c.data_type, attribute_name: given.get(c.column_name)?.attribute ?? 'Feature' }) as ResolvedColumn)
  const targets = resolved.filter((c) => c.attribute_name === 'Target')
  if (targets.length !== 1) throw badRequest('columns', targets.length ? `exactly one column can be the Target (${targets.map((t) => t.column_name).join(', ')})` : 'one column must have attribute_name Target')
  if (!resolved.some((c) => c.attribute_name === 'Feature')) throw badRequest('columns', 'at least one column must be a Feature')
  const target = targets[0]
  const at = given.get(target.column_name)!.at
  const field = `columns[${at}].attribute_name`
  if (input.problem_type === 'Regression' && target.data_type !== 'Integer' && target.data_type !== 'Float') {
    throw new ApiError(422, 'VALIDATION_ERROR', `${field}: target '${target.column_name}' is ${target.data_type}; Regression needs an Integer or Float target`, {
      field,
      fields: [{ field, message: `Regression needs a numeric target; '${target.column_name}' is ${target.data_type}` }],
    })
  }
  if (input.problem_type === 'Classification' && !['Boolean', 'String', 'Integer'].includes(target.data_type)) {
    throw new ApiError(422, 'VALIDATION_ERROR', `${field}: target '${target.column_name}' is ${target.data_type}; Classification needs a Boolean, String or Integer target`, {
      field,
      fields: [{ field, message: `Classification needs Boolean, String or Integer; '${target.column_name}' is ${target.data_type}` }],
    })
  }
  if (input.problem_type === 'Classification' && d.silver_table) {
    const n = await distinctUpTo(sql, d.silver_table, target.column_name, MAX_CLASSES + 1)
    if (n > MAX_CLASSES) {
      throw new ApiError(422, 'VALIDATION_ERROR', `${field}: target '${target.column_name}' has more than ${MAX_CLASSES} classes; use Regression or another target`, {
        field,
        fields: [{ field, message: `more than ${MAX_CLASSES} classes` }],
      })
    }
    if (n < 2) {
      throw new ApiError(422, 'INSUFFICIENT_DATA', `${field}: target '${target.column_name}' has ${n} class${n === 1 ? '' : 'es'} in the data; Classification needs at least 2`, {
        field,
        fields: [{ field, message: `${n} class(es) in the data` }],
      })
    }
  }
  return resolved
}

export function trainingParams(input: Pick<TrainInput, 'hyperparameters' | 'validation_split' | 'cv_folds' | 'seed'>): TrainingParams {
  const h = input.hyperparameters
  return {
    hyperparameters: { ...DEFAULT_BOOSTING, ...DEFAULT_SPEC.linear, seed: input.seed, ...h },
    validation_split: input.validation_split,
    cv_folds: input.cv_folds,
    seed: input.seed,
    shap_rows: DEFAULT_SPEC.shap_rows,
  }
}

/** The pure core's spec for a stored training. */
export function specOf(t: Pick<TrainingRow, 'problem_type' | 'columns' | 'algorithm' | 'params' | 'shap_enabled'>): TrainSpec {
  const h = t.params.hyperparameters
  return {
    problem_type: t.problem_type as TrainSpec['problem_type'],
    target: t.columns.find((c) => c.attribute_name === 'Target')!.column_name,
    features: t.columns.filter((c) => c.attribute_name === 'Feature').map((c) => c.column_name),
    ids: t.columns.filter((c) => c.attribute_name === 'Id').map((c) => c.column_name),
    algorithm: t.algorithm as TrainSpec['algorithm'],
    boosting: {
      max_depth: h.max_depth,
      learning_rate: h.learning_rate,
      n_estimators: h.n_estimators,
      subsample: h.subsample,
      colsample_bytree: h.colsample_bytree,
      min_child_weight: h.min_child_weight,
      scale_pos_weight: h.scale_pos_weight,
      reg_lambda: h.reg_lambda,
      reg_alpha: h.reg_alpha,
      gamma: h.gamma,
      max_bin: h.max_bin,
      early_stopping_rounds: h.early_stopping_rounds,
      seed: t.params.seed,
    },
    linear: { C: h.C, max_iter: h.max_iter },
    validation_split: t.params.validation_split,
    cv_folds: t.params.cv_folds,
    seed: t.params.seed,
    shap: t.shap_enabled,
    shap_rows: t.params.shap_rows,
  }
}

/** POST /api/v1/train/: checks the request, writes the training and its job in the caller's transaction. */
export async function createTraining(sql: Sql, caller: Caller, input: TrainInput) {
  const d = await datasetFor(sql, input.dataset_id)
  if (!d.is_valid || !d.silver_table) {
    throw new ApiError(400, 'INVALID_DATASET', `dataset_id: dataset ${d.id} is not validated (no valid typed rows to train on)`, {
      field: 'dataset_id',
      fields: [{ field: 'dataset_id', message: 'the dataset is not validated' }],
    })
  }
  const forecast = input.problem_type === 'Forecast' ? await resolveForecastTraining(sql, d, input) : null
  if (!forecast && !['auto', 'xgboost', 'linear'].includes(input.algorithm)) {
    throw badRequest('algorithm', `${input.algorithm} is a forecasting model; ${input.problem_type} takes auto, XGBoost or Linear`)
  }
  if (forecast && !FORECAST_ALGORITHMS.includes(input.algorithm)) throw badRequest('algorithm', `Forecast takes auto, SeasonalNaive, ETS or ARIMA, not ${input.algorithm}`)
  const engine = forecast ? 'wasm' : resolveEngine(input.engine)
  const columns = forecast ? forecast.columns : await resolveColumns(sql, d, input)
  const { rows: taken } = await sql.query(`select id from public.training_jobs where predictor_name = $1`, [input.predictor_name])
  if (taken.length) throw conflict(`predictor_name: '${input.predictor_name}' is already used by training ${taken[0].id}`, { field: 'predictor_name', id: taken[0].id })
  const job = await enqueueJob(sql, TRAIN_JOB, null, { tenantId: caller.tenantId, createdBy: caller.kind === 'user' ? caller.userId : null })
  const { rows } = await sql.query<{ id: number; created_at: Date; modified_at: Date; created_by_name: string | null }>(
    `insert into public.training_jobs (tenant_id, predictor_name, domain, problem_type, dataset_id, dataset_name, data_source, columns,
       algorithm, params, shap_enabled, is_incremental, engine, job_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9, $10::text::jsonb, $11, $12, $13, $14)
     returning id, created_at, modified_at, created_by_name`,
    [
      caller.tenantId,
      input.predictor_name,
      input.domain,
      input.problem_type,
      d.id,
      d.dataset_name,
      d.data_source,
      JSON.stringify(columns),
      input.algorithm,
      JSON.stringify(forecast ? { ...trainingParams(input), forecast: forecast.settings } : trainingParams(input)),
      input.shap_enabled,
      input.is_incremental,
      engine,
      job.id,
    ],
  )
  // The job carries no payload: its handler finds the training by job id (both commit together).
  const t = rows[0]
  return {
    id: t.id,
    tenant_id: caller.tenantId,
    predictor_name: input.predictor_name,
    problem_type: input.problem_type,
    created_by: t.created_by_name,
    dataset_id: d.id,
    created_at: t.created_at,
    modified_at: t.modified_at,
    training_status: engine === 'ray' ? 'submitted_to_ray' : 'submitted',
    job_id: job.id,
    engine,
    ...(forecast ? { forecast: forecast.settings } : {}),
  }
}

// ---------------------------------------------------------------- list, refresh (§8.3, 8.4)

export interface TrainingListRow extends TrainingRow {
  status: JobStatus
  progress: number
  message: string | null
  error: string | null
  started_at: Date | null
  finished_at: Date | null
  model_algorithm: string | null
  model_name: string | null
  metrics: Record<string, unknown> | null
  score: ModelVersionRow['score'] | null
}

const LIST_SELECT = `
  select t.*, ${jobStateColumns('j')}, m.algorithm as model_algorithm, m.model_name, m.metrics, m.score
    from public.training_jobs t
    join public.jobs j on j.id = t.job_id
    left join public.model_versions m on m.id = t.model_id`

const ALGORITHM_LABEL = { auto: 'Auto', xgboost: 'XGBoost', linear: 'Linear', seasonal_naive: 'SeasonalNaive', ets: 'ETS', arima: 'AutoARIMA' } as const

/** The spec's three status fields, from the job's one state. */
export function statusFields(status: JobStatus, modelId: number | null) {
  const s = status === 'queued' ? 'submitted' : status
  return {
    status: s,
    train_status: s,
    training_status: s.charAt(0).toUpperCase() + s.slice(1),
    ml_model_status: modelId ? 'completed' : s === 'failed' || s === 'cancelled' ? s : 'pending',
  }
}

export function listItem(t: TrainingListRow) {
  const accuracy = (t.metrics as { accuracy?: number } | null)?.accuracy ?? null
  return {
    tenant_id: t.tenant_id,
    predictor_name: t.predictor_name,
    preprocess_id: t.preprocess_id,
    problem_type: t.problem_type,
    domain: t.domain,
    created_by: t.created_by_name,
    id: t.id,
    dataset_id: t.dataset_id,
    dataset_name: t.dataset_name,
    data_source: t.data_source,
    created_at: t.created_at,
    modified_at: t.modified_at,
    algorithm: t.model_algorithm ?? ALGORITHM_LABEL[t.algorithm],
    accuracy,
    ...statusFields(t.status, t.model_id),
    // Extensions: the job's progress and current step, the chosen model and its validation score.
    progress: t.progress,
    current_step: t.message,
    error: t.error,
    job_id: t.job_id,
    engine: t.engine,
    model_id: t.model_id,
    model: t.model_name,
    requested_algorithm: t.algorithm,
    metric: t.score ? { name: t.score.metric, value: t.score.value } : null,
    started_at: t.started_at,
    finished_at: t.finished_at,
  }
}

export async function listTrainings(sql: Sql, page: { skip: number; limit: number } = { skip: 0, limit: 100 }) {
  const { rows: count } = await sql.query<{ n: number }>(`select count(*)::int as n from public.training_jobs`)
  const { rows } = await sql.query<TrainingListRow>(`${LIST_SELECT} order by t.id desc offset $1 limit $2`, [page.skip, page.limit])
  return { total: count[0].n, data: rows.map(listItem) }
}

/** One training with its job's state as the caller sees it (404 otherwise). */
export async function loadTraining(sql: Sql, id: number): Promise<TrainingListRow> {
  const { rows } = await sql.query<TrainingListRow>(`${LIST_SELECT} where t.id = $1`, [id])
  if (!rows.length) throw notFound('Training', id)
  return rows[0]
}

// ---------------------------------------------------------------- delete (§8.5), update (§8.6)

/** Deletes a training, its model versions, preprocesses, importance and files; a running job is cancelled first. */
export async function deleteTraining(db: Db, caller: Caller, id: number) {
  const { files, modelIds } = await asCaller(db, caller.claims, async (tx) => {
    const t = await loadTraining(tx, id)
    if (t.status === 'queued' || t.status === 'running') await cancelJob(tx, t.job_id)
    const files = await trainingFiles(tx, id)
    const { rows: models } = await tx.query<{ id: number }>(`select id from public.model_versions where training_id = $1`, [id])
    const { rows: users } = await tx.query<{ id: number; predictor_name: string }>(
      `select t.id, t.predictor_name from public.training_jobs t join public.preprocesses p on p.id = t.preprocess_id where p.training_id = $1 and t.id <> $1`,
      [id],
    )
    if (users.length) {
      throw conflict(`training ${id}'s preprocess is used by training ${users.map((u) => `${u.id} (${u.predictor_name})`).join(', ')}: attach another preprocess there first`, {
        used_by: users.map((u) => u.id),
      })
    }
    // The foreign keys cascade to preprocesses, model versions and feature importance (as the table owner).
    const r = await tx.query(`delete from public.training_jobs where id = $1`, [id])
    if (!r.rowCount) throw notFound('Training', id)
    return { files, modelIds: models.map((m) => m.id) }
  })
  forgetModels(modelIds)
  await removeFiles(files)
  return { status: 'success', message: `Training ${id} and its ${modelIds.length} model version(s) were deleted.`, id, deleted_files: files.length }
}

/** POST /api/v1/train/update/: the training's model reads its input through another preprocess of the tenant. */
export async function updatePreprocess(sql: Sql, input: { train_id: number; preprocess_id: number }) {
  const t = await loadTraining(sql, input.train_id)
  const { rows: pre } = await sql.query<{ id: number; spec: PreprocessSpec }>(`select id, spec from public.preprocesses where id = $1`, [input.preprocess_id])
  if (!pre.length) throw notFound('Preprocess', input.preprocess_id)
  if (t.problem_type === 'Forecast' || (pre[0].spec as { kind?: string }).kind === 'forecast') {
    if (t.preprocess_id !== input.preprocess_id) {
      throw new ApiError(422, 'VALIDATION_ERROR', 'preprocess_id: a forecast model keeps the preprocess (time column, frequency, gap filling) it was trained with', {
        field: 'preprocess_id',
        fields: [{ field: 'preprocess_id', message: 'forecast preprocesses are not interchangeable' }],
      })
    }
  }
  if (!t.preprocess_id || !t.model_id) throw conflict(`training ${t.id} has no model yet (status ${statusFields(t.status, t.model_id).status})`, { field: 'train_id' })
  const { rows: cur } = await sql.query<{ spec: PreprocessSpec }>(`select spec from public.preprocesses where id = $1`, [t.preprocess_id])
  const diff = describeChanges(cur[0].spec, pre[0].spec)
  if (!diff.compatible) {
    throw new ApiError(422, 'VALIDATION_ERROR', `preprocess_id: preprocess ${input.preprocess_id} does not fit training ${t.id}'s model: ${diff.reason}`, {
      field: 'preprocess_id',
      fields: [{ field: 'preprocess_id', message: diff.reason }],
      changes: diff.changes,
    })
  }
  const before = t.preprocess_id
  await sql.query(`update public.training_jobs set preprocess_id = $2 where id = $1`, [t.id, input.preprocess_id])
  return {
    status: 'success',
    message: before === input.preprocess_id ? `Training ${t.id} already uses preprocess ${before}.` : `Training ${t.id} now uses preprocess ${input.preprocess_id} (was ${before}).`,
    train_id: t.id,
    preprocess_id: input.preprocess_id,
    previous_preprocess_id: before,
    changes: before === input.preprocess_id ? [] : diff.changes,
  }
}

// ---------------------------------------------------------------- schema (§8.8), summary (§10.5)

/** The input schema of a training: every column it reads (Id, Feature, Target), in dataset order. */
export async function trainingSchema(sql: Sql, id: number) {
  const t = await loadTraining(sql, id)
  return {
    schema: t.columns.filter((c) => c.attribute_name !== 'Ignore').map((c) => ({ column_name: c.column_name, data_type: c.data_type, attribute_name: c.attribute_name })),
    train_id: t.id,
    predictor_name: t.predictor_name,
    target: t.columns.find((c) => c.attribute_name === 'Target')?.column_name ?? null,
    preprocess_id: t.preprocess_id,
  }
}

export async function modelVersions(sql: Sql, trainingId: number): Promise<ModelVersionRow[]> {
  const { rows } = await sql.query<ModelVersionRow>(`select * from public.model_versions where training_id = $1 order by version desc, rank`, [trainingId])
  return rows
}

/** GET /api/v1/train/model-summary: the spec's fields, then every metric, the leaderboard and the data. */
export async function modelSummary(sql: Sql, id: number) {
  const t = await loadTraining(sql, id)
  if (!t.model_id) {
    const s = statusFields(t.status, t.model_id)
    throw conflict(`training ${id} has no model yet (status ${s.status}${t.error ? `: ${t.error}` : ''})`, { train_id: id, status: s.status })
  }
  if (t.problem_type === 'Forecast') return forecastModelSummary(sql, t)
  const versions = await modelVersions(sql, id)
  const chosen = versions.find((v) => v.id === t.model_id)!
  const latest = versions.filter((v) => v.data_ref.job_id === chosen.data_ref.job_id)
  const m = chosen.metrics as Record<string, unknown>
  const classification = t.problem_type === 'Classification'
  const headline = classification
    ? { accuracy: m.accuracy, precision: m.precision, recall: m.recall, f1_score: m.f1_score, roc_auc: m.roc_auc, log_loss: m.log_loss }
    : { rmse: m.rmse, mae: m.mae, r2: m.r2, mape: m.mape, residual_quantiles: m.residual_quantiles }
  return {
    model_summary: { model: chosen.model_name, ...headline },
    confusion_matrix: classification ? m.confusion_matrix : null,
    train_id: t.id,
    model_id: chosen.id,
    version: chosen.version,
    algorithm: chosen.algorithm,
    problem_type: t.problem_type,
    classes: classification ? m.classes : null,
    metrics: m,
    score: chosen.score,
    cross_validation: chosen.cross_validation,
    best_iteration: chosen.best_iteration,
    params: chosen.params,
    data: chosen.data_ref,
    duration_ms: chosen.duration_ms,
    trained_by: chosen.trained_by,
    checksum: chosen.checksum,
    size_bytes: chosen.size_bytes,
    format: chosen.format,
    preprocess_id: t.preprocess_id,
    leaderboard: latest
      .sort((a, b) => a.rank - b.rank)
      .map((v) => ({ rank: v.rank, model_id: v.id, version: v.version, algorithm: v.algorithm, model: v.model_name, metric: v.score.metric, value: v.score.value, chosen: v.id === chosen.id, cross_validation: v.cross_validation, duration_ms: v.duration_ms })),
  }
}

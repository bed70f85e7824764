import type { Sql } from '#app/db/db.server.ts'
import type { PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { badRequest, conflict } from '#app/http/errors.server.ts'
import { ConnectorError, runQuery } from './connectors.server.ts'
import { predictedName, probabilityName } from './prediction.ts'
import type { Configuration, SqlParameter } from './schemas.ts'
import { loadSource, sourceSecret } from './sources.server.ts'
import { compileQuery, FieldError, sqlInputSchema } from './sql-query.ts'
import { asServer } from './session-role.server.ts'

/*
  What an asset executes, derived from what it is (never typed in by the provider):
  - model: the training's chosen model version (or a named one), its preprocess → input schema (each feature column's
    type, id columns as optional strings) and output schema (probability, risk level, interval, key factors);
  - sql: the query compiled for its source's dialect, the declared parameters → input schema, and the output columns
    the source reports for the query.
*/

export type Schema = Record<string, string>

export interface ModelDefinition {
  kind: 'model'
  training_id: number
  model_version_id: number
  preprocess_id: number
  problem_type: 'Classification' | 'Regression'
  target: string
  classes: string[] | null
  id_columns: string[]
  algorithm: string
  input_schema: Schema
  output_schema: Schema
}
export interface SqlDefinition {
  kind: 'sql'
  source_id: string
  source_type: string
  query: string
  /** the parameter names in the compiled query's placeholder order */
  order: string[]
  parameters: SqlParameter[]
  max_rows: number
  timeout_ms: number
  input_schema: Schema
  output_schema: Schema
}
export type Definition = ModelDefinition | SqlDefinition

const TYPE: Record<string, string> = { Integer: 'integer', Float: 'float', Boolean: 'boolean', Date: 'date', DateTime: 'datetime', String: 'string' }

export const DEFAULT_MAX_ROWS = 1000
export const DEFAULT_TIMEOUT_MS = 5000

export function assetKind(config: Configuration): 'model' | 'sql' {
  const model = config.train_id !== undefined || config.model_id !== undefined
  const query = config.query !== undefined
  if (model && query) throw badRequest('configuration', 'an asset is either a model (train_id / model_id) or a query (query), not both')
  if (!model && !query) throw badRequest('configuration', 'name what the asset runs: configuration.train_id (a trained model) or configuration.query (a SQL query)')
  return model ? 'model' : 'sql'
}

export function modelSchemas(spec: PreprocessSpec): { input: Schema; output: Schema } {
  const input: Schema = {}
  for (const id of spec.id_columns) input[id] = 'string'
  for (const c of spec.columns) input[c.column] = TYPE[c.data_type] ?? 'string'
  const output: Schema = {}
  for (const id of spec.id_columns) output[id] = 'string'
  if (spec.problem_type === 'Classification') {
    if (spec.target.classes?.length === 2) output[probabilityName(spec.target.column)] = 'float'
    output.prediction = 'string'
    output.probabilities = 'object'
    output.risk_level = 'string'
  } else output[predictedName(spec.target.column)] = 'float'
  output.confidence_interval = 'object'
  output.key_factors = 'array'
  return { input, output }
}

async function modelDefinition(sql: Sql, config: Configuration): Promise<ModelDefinition> {
  const field = config.train_id !== undefined ? 'configuration.train_id' : 'configuration.model_id'
  // As the caller: RLS shows only their tenant's trainings and models (models.read).
  const { rows } = await sql.query<{ id: number; training_id: number; preprocess_id: number; algorithm: string; chosen: number | null }>(
    config.model_id !== undefined
      ? `select m.id, m.training_id, m.preprocess_id, m.algorithm, t.model_id as chosen from public.model_versions m join public.training_jobs t on t.id = m.training_id
          where m.id = $1 and ($2::bigint is null or m.training_id = $2)`
      : `select m.id, m.training_id, m.preprocess_id, m.algorithm, t.model_id as chosen from public.training_jobs t left join public.model_versions m on m.id = t.model_id where t.id = $2 and $1::bigint is null`,
    [config.model_id ?? null, config.train_id ?? null],
  )
  const m = rows[0]
  if (!m) throw badRequest(field, 'no such trained model in your tenant')
  if (m.id === null) throw conflict(`${field}: the training has not produced a model yet`, { field })
  const { rows: pre } = await sql.query<{ spec: PreprocessSpec }>(`select spec from public.preprocesses where id = $1`, [m.preprocess_id])
  const spec = pre[0].spec
  const { input, output } = modelSchemas(spec)
  return {
    kind: 'model',
    training_id: m.training_id,
    model_version_id: m.id,
    preprocess_id: m.preprocess_id,
    problem_type: spec.problem_type,
    target: spec.target.column,
    classes: spec.target.classes,
    id_columns: spec.id_columns,
    algorithm: m.algorithm,
    input_schema: input,
    output_schema: output,
  }
}

async function sqlDefinition(sql: Sql, config: Configuration, sourceIds: string[]): Promise<SqlDefinition> {
  if (sourceIds.length !== 1) throw badRequest('data_sources', 'a SQL asset reads exactly one data source')
  const source = await loadSource(sql, sourceIds[0]).catch(() => {
    throw badRequest('data_sources.0.source_id', 'no such data source in your tenant')
  })
  if (source.type !== 'postgres' && source.type !== 'mysql') {
    throw badRequest('data_sources.0.source_id', `SQL assets run on postgres and mysql sources; this one is ${source.type}`)
  }
  const parameters = config.parameters ?? []
  const names = parameters.map((p) => p.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup) throw badRequest('configuration.parameters', `parameter ${dup} is declared twice`)
  let compiled: { text: string; order: string[] }
  try {
    compiled = compileQuery(config.query!, parameters, source.type)
  } catch (e) {
    if (e instanceof FieldError) throw badRequest(e.field, e.message)
    throw e
  }
  const max_rows = config.max_rows ?? DEFAULT_MAX_ROWS
  const timeout_ms = config.timeout_ms ?? DEFAULT_TIMEOUT_MS
  // The output columns, as the source reports them for this query (run once with the defaults, no rows kept).
  const byName = new Map(parameters.map((p) => [p.name, p]))
  const values = compiled.order.map((n) => byName.get(n)!.default ?? sampleValue(byName.get(n)!))
  let output: Schema
  try {
    const secret = await sourceSecret(sql, source.id)
    const res = await runQuery(source, secret, compiled.text, values, { timeoutMs: timeout_ms, maxRows: 0 })
    output = Object.fromEntries(res.columns.map((c) => [c.name, c.type]))
  } catch (e) {
    if (e instanceof ConnectorError) throw badRequest('configuration.query', `the source refused the query: ${e.message}`)
    throw e
  }
  return { kind: 'sql', source_id: source.id, source_type: source.type, query: compiled.text, order: compiled.order, parameters, max_rows, timeout_ms, input_schema: sqlInputSchema(parameters), output_schema: { rows: 'array', ...Object.fromEntries(Object.entries(output).map(([k, v]) => [`rows[].${k}`, v])) } }
}

/** A value of the parameter's type for describing the query's columns. */
function sampleValue(p: SqlParameter): unknown {
  if (p.enum) return p.enum[0]
  switch (p.type) {
    case 'integer':
    case 'number':
      return p.min ?? 0
    case 'boolean':
      return false
    case 'date':
      return '2000-01-01'
    default:
      return ''
  }
}

export async function deriveDefinition(sql: Sql, config: Configuration, sourceIds: string[]): Promise<Definition> {
  return assetKind(config) === 'model' ? modelDefinition(sql, config) : sqlDefinition(sql, config, sourceIds)
}

/** The metrics and data size of a model version (the provider's, read by the server for any viewer of the asset). */
export async function modelFacts(sql: Sql, modelVersionIds: number[]) {
  if (!modelVersionIds.length) return new Map<number, { metrics: Record<string, unknown>; data_ref: Record<string, unknown>; duration_ms: number }>()
  const { rows } = await asServer(sql, () =>
    sql.query<{ id: number; metrics: Record<string, unknown>; data_ref: Record<string, unknown>; duration_ms: number }>(
      `select id, metrics, data_ref, duration_ms from public.model_versions where id = any($1::bigint[])`,
      [`{${modelVersionIds.join(',')}}`],
    ),
  )
  return new Map(rows.map((r) => [r.id, r]))
}

/** The spec's model metrics from a model version's stored ones. */
export function modelPerformance(metrics: Record<string, unknown> | undefined) {
  if (!metrics) return {}
  const n = (k: string) => (typeof metrics[k] === 'number' ? (metrics[k] as number) : undefined)
  if (n('accuracy') !== undefined) return { accuracy: n('accuracy'), precision: n('precision'), recall: n('recall'), f1_score: n('f1_score'), auc_roc: n('roc_auc') ?? null }
  return { r2: n('r2'), rmse: n('rmse'), mae: n('mae') }
}

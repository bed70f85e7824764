import type { Sql } from '#app/db/db.server.ts'
import { loadModelVersion } from '#app/features/ml/ml.server.ts'
import type { PreprocessSpec } from '#app/features/ml/preprocess.ts'
import type { LoadedModel, ModelFormat } from '#app/features/ml/scoring.ts'
import type { DataType } from '#app/features/templates/column-types.ts'
import { ApiError, conflict, notFound } from '#app/http/errors.server.ts'
import type { ResidualQuantiles } from './score.ts'

/*
  What a prediction needs, read as the caller (RLS: another tenant's training is a 404 like an unknown one): the
  training, its current model version and the preprocess to read the input through. Parsed models and preprocess
  objects are cached per process by id and checksum; every request reads the training's current model id first, so
  a retrained model or a newly attached preprocess is picked up at once (in every process) and the cache only saves
  the parsing.
*/

export interface TrainingColumn {
  column_name: string
  data_type: DataType
  attribute_name: 'Id' | 'Target' | 'Feature' | 'Ignore'
}

export interface ModelContext {
  training: {
    id: number
    tenant_id: string
    predictor_name: string
    domain: string
    problem_type: 'Classification' | 'Regression'
    columns: TrainingColumn[]
    dataset_id: number | null
    dataset_name: string
    preprocess_id: number
  }
  version: { id: number; version: number; algorithm: string; model_name: string; format: ModelFormat; file_key: string; checksum: string; residuals: ResidualQuantiles | null }
  preprocessId: number
  spec: PreprocessSpec
  model: LoadedModel
  /** The parsed model came from this process's cache. */
  cached: boolean
}

interface ContextRow {
  id: number
  tenant_id: string
  predictor_name: string
  domain: string
  problem_type: 'Classification' | 'Regression'
  columns: TrainingColumn[]
  dataset_id: number | null
  dataset_name: string
  preprocess_id: number | null
  model_id: number | null
  version: number | null
  algorithm: string
  model_name: string
  format: ModelFormat
  file_key: string
  checksum: string
  model_preprocess_id: number
  residuals: ResidualQuantiles | null
  p_id: number | null
  p_checksum: string | null
}

const specs = new Map<number, { checksum: string; spec: PreprocessSpec }>()
const parsed = new Set<string>()
const SPECS_MAX = 128

async function preprocessSpec(sql: Sql, id: number, checksum: string): Promise<PreprocessSpec> {
  const hit = specs.get(id)
  if (hit && hit.checksum === checksum) return hit.spec
  const { rows } = await sql.query<{ spec: PreprocessSpec }>(`select spec from public.preprocesses where id = $1`, [id])
  if (!rows.length) throw notFound('Preprocess', id)
  if (specs.size >= SPECS_MAX) specs.delete(specs.keys().next().value!)
  specs.set(id, { checksum, spec: rows[0].spec })
  return rows[0].spec
}

/** The training's model and preprocess (`preprocessId` another preprocess of the tenant that fits the model). */
export async function modelContext(sql: Sql, trainId: number, opts: { preprocessId?: number; modelId?: number; field?: string } = {}): Promise<ModelContext> {
  const { preprocessId, modelId, field = 'train_id' } = opts
  const { rows } = await sql.query<ContextRow>(
    `select t.id, t.tenant_id, t.predictor_name, t.domain, t.problem_type, t.columns, t.dataset_id, t.dataset_name, t.preprocess_id, t.model_id,
            mv.version, mv.algorithm, mv.model_name, mv.format, mv.file_key, mv.checksum, mv.preprocess_id as model_preprocess_id,
            mv.metrics -> 'residual_quantiles' as residuals, p.id as p_id, p.checksum as p_checksum
       from public.training_jobs t
       left join public.model_versions mv on mv.id = coalesce($3::bigint, t.model_id) and mv.training_id = t.id
       left join public.preprocesses p on p.id = coalesce($2::bigint, t.preprocess_id)
      where t.id = $1`,
    [trainId, preprocessId ?? null, modelId ?? null],
  )
  if (!rows.length) throw notFound('Training', trainId)
  const r = rows[0]
  if (modelId && r.version === null) throw notFound('Model version', modelId)
  if (!r.model_id || !r.preprocess_id || r.version === null) {
    throw conflict(`${field}: training ${trainId} has no model yet`, { field, train_id: trainId })
  }
  if (r.p_id === null) {
    throw new ApiError(404, 'NOT_FOUND', `preprocess_id: preprocess ${preprocessId} not found`, { field: 'preprocess_id', fields: [{ field: 'preprocess_id', message: 'not found' }] })
  }
  const spec = await preprocessSpec(sql, r.p_id, r.p_checksum!)
  if (r.p_id !== r.preprocess_id && r.p_id !== r.model_preprocess_id) {
    // Another preprocess: it must make exactly the features the model reads (POST /train/update/ checks the same).
    const own = await modelPreprocess(sql, r.model_preprocess_id)
    const same = own.features.length === spec.features.length && own.features.every((f, i) => f === spec.features[i]) && own.target.column === spec.target.column
    if (!same) {
      throw new ApiError(422, 'VALIDATION_ERROR', `preprocess_id: preprocess ${r.p_id} does not fit training ${trainId}'s model (it reads it through preprocess ${r.preprocess_id})`, {
        field: 'preprocess_id',
        fields: [{ field: 'preprocess_id', message: `training ${trainId} reads its input through preprocess ${r.preprocess_id}` }],
      })
    }
  }
  const versionId = modelId ?? r.model_id
  const key = `${versionId}:${r.checksum}`
  const cached = parsed.has(key)
  const model = await loadModelVersion({ id: versionId, file_key: r.file_key, checksum: r.checksum, format: r.format })
  parsed.add(key)
  return {
    training: {
      id: r.id,
      tenant_id: r.tenant_id,
      predictor_name: r.predictor_name,
      domain: r.domain,
      problem_type: r.problem_type,
      columns: r.columns,
      dataset_id: r.dataset_id,
      dataset_name: r.dataset_name,
      preprocess_id: r.preprocess_id,
    },
    version: { id: versionId, version: r.version, algorithm: r.algorithm, model_name: r.model_name, format: r.format, file_key: r.file_key, checksum: r.checksum, residuals: r.residuals },
    preprocessId: r.p_id,
    spec,
    model,
    cached,
  }
}

async function modelPreprocess(sql: Sql, id: number) {
  const { rows } = await sql.query<{ checksum: string }>(`select checksum from public.preprocesses where id = $1`, [id])
  if (!rows.length) throw notFound('Preprocess', id)
  return preprocessSpec(sql, id, rows[0].checksum)
}

/** The training's target column name. */
export const targetOf = (t: ModelContext['training']) => t.columns.find((c) => c.attribute_name === 'Target')!.column_name
export const idColumnsOf = (t: ModelContext['training']) => t.columns.filter((c) => c.attribute_name === 'Id').map((c) => c.column_name)

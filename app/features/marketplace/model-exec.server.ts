import type { Db } from '#app/db/db.server.ts'
import { loadModelVersion } from '#app/features/ml/ml.server.ts'
import type { PreprocessSpec } from '#app/features/ml/preprocess.ts'
import { transformRecord } from '#app/features/ml/preprocess.ts'
import { predictRecords, shapValues, type LoadedModel, type ModelFormat } from '#app/features/ml/scoring.ts'
import type { ModelDefinition } from './definition.server.ts'
import { DEFAULT_RISK, keyFactors, normalInterval, predictedName, probabilityName, riskLevel, wilsonInterval, type RiskThresholds } from './prediction.ts'
import type { ExecuteInput } from './schemas.ts'
import { FieldError } from './sql-query.ts'

/*
  A model asset's execution, through ml's registry (loadModelVersion, checksum-checked, cached) and scoring
  (predictRecords, shapValues): the record validated against the derived input schema, the prediction, SHAP key
  factors, risk level and interval (prediction.ts). The bundle (row, preprocess, parsed model) is cached per model
  version: a version's bytes never change.
*/

interface Bundle {
  row: { id: number; file_key: string; checksum: string; format: ModelFormat; metrics: Record<string, unknown>; data_ref: Record<string, unknown> }
  spec: PreprocessSpec
  model: LoadedModel
}
const bundles = new Map<number, Bundle>()

export async function modelBundle(db: Db, modelVersionId: number): Promise<Bundle> {
  const hit = bundles.get(modelVersionId)
  if (hit) return hit
  // As the server: a consumer of another tenant executes the provider's model, never reads it.
  const { rows } = await db.query<Bundle['row'] & { spec: PreprocessSpec }>(
    `select m.id, m.file_key, m.checksum, m.format, m.metrics, m.data_ref, p.spec from public.model_versions m join public.preprocesses p on p.id = m.preprocess_id where m.id = $1`,
    [modelVersionId],
  )
  if (!rows[0]) throw new Error(`model version ${modelVersionId} is gone`)
  const { spec, ...row } = rows[0]
  const model = await loadModelVersion(row)
  const b = { row, spec, model }
  if (bundles.size > 64) bundles.delete(bundles.keys().next().value!)
  bundles.set(modelVersionId, b)
  return b
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** input_data with nested objects read as their leaves (`transaction_data.total_spent` → `total_spent`), checked. */
export function modelRecord(def: Pick<ModelDefinition, 'input_schema' | 'id_columns'>, input: Record<string, unknown>, prefix = 'input_data'): Record<string, unknown> {
  const flat = new Map<string, { value: unknown; path: string }>()
  const walk = (obj: Record<string, unknown>, path: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const p = `${path}.${k}`
      if (v && typeof v === 'object' && !Array.isArray(v) && !(k in def.input_schema)) walk(v as Record<string, unknown>, p)
      else {
        if (flat.has(k)) throw new FieldError(p, `${k} is given twice (also at ${flat.get(k)!.path})`)
        flat.set(k, { value: v, path: p })
      }
    }
  }
  walk(input, prefix)
  const record: Record<string, unknown> = {}
  for (const [k, { value, path }] of flat) {
    const type = def.input_schema[k]
    if (!type) throw new FieldError(path, 'is not an input of this asset')
    if (value === null) {
      record[k] = null
      continue
    }
    const bad = (what: string) => new FieldError(path, `must be ${what}`)
    switch (type) {
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) throw bad('an integer')
        break
      case 'float':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw bad('a number')
        break
      case 'boolean':
        if (typeof value !== 'boolean') throw bad('true or false')
        break
      case 'date':
        if (typeof value !== 'string' || !DATE.test(value) || Number.isNaN(Date.parse(value))) throw bad('a date (YYYY-MM-DD)')
        break
      case 'datetime':
        if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw bad('an ISO date-time')
        break
      default:
        if (typeof value !== 'string') throw bad('a string')
        if (value.length > 10_000) throw new FieldError(path, 'must be at most 10000 characters')
    }
    record[k] = value
  }
  for (const k of Object.keys(def.input_schema)) {
    if (!(k in record) && !def.id_columns.includes(k)) throw new FieldError(`${prefix}.${k}`, 'is required (null for a missing value)')
  }
  return record
}

export interface ModelAnswer {
  ids: Record<string, unknown>
  results: Record<string, unknown>
  dataPoints: number
}

export function scoreModel(b: Bundle, def: ModelDefinition, record: Record<string, unknown>, params: ExecuteInput['parameters'], risk: RiskThresholds | undefined): ModelAnswer {
  const [pred] = predictRecords(b.spec, b.model, [record])
  const metrics = b.row.metrics as { rows?: number; rmse?: number }
  const dataRef = b.row.data_ref as { used_rows?: number; rows?: number }
  const results: Record<string, unknown> = {}
  let group = 0
  if (b.spec.problem_type === 'Classification') {
    const classes = b.spec.target.classes!
    const probs = pred.probabilities!
    const binary = classes.length === 2
    const p = binary ? probs[classes[1]] : probs[String(pred.prediction)]
    if (binary) results[probabilityName(def.target)] = p
    results.prediction = pred.prediction
    results.probabilities = probs
    results.risk_level = riskLevel(binary ? p : 1 - p, risk ?? DEFAULT_RISK)
    if (params.include_confidence_interval) {
      results.confidence_interval = { ...wilsonInterval(p, metrics.rows ?? 0, params.confidence_level), level: params.confidence_level, method: 'wilson', n: metrics.rows ?? 0 }
    }
    group = binary ? 0 : classes.indexOf(String(pred.prediction))
  } else {
    const y = Number(pred.prediction)
    results[predictedName(def.target)] = y
    if (params.include_confidence_interval) {
      results.confidence_interval = { ...normalInterval(y, metrics.rmse ?? 0, params.confidence_level), level: params.confidence_level, method: 'validation_rmse' }
    }
  }
  if (params.include_feature_importance) {
    const x = transformRecord(b.spec, record)
    const shap = shapValues(b.model, x, 1)
    const phi = shap.values.subarray(group * shap.width, (group + 1) * shap.width)
    results.key_factors = keyFactors(b.spec, phi, params.top_factors)
  }
  const ids = Object.fromEntries(def.id_columns.filter((c) => c in record).map((c) => [c, record[c]]))
  return { ids, results, dataPoints: dataRef.used_rows ?? dataRef.rows ?? 0 }
}

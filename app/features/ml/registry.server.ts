import crypto from 'node:crypto'
import type { Db, Sql } from '#app/db/db.server.ts'
import { getFileStore } from '#app/storage/storage.server.ts'
import { logError } from '#app/http/log.server.ts'
import type { FeatureImportance } from './explain.ts'
import type { PreprocessSpec } from './preprocess.ts'
import { loadModel, type LoadedModel, type ModelFormat } from './scoring.ts'
import type { Candidate, TrainResult } from './train-core.ts'

/*
  The model registry: each completed training registers its preprocess and one model version per trained candidate
  (the leaderboard, rank 1 = chosen), each artefact written to the file store first with its SHA-256, then the rows in
  one transaction. A failed transaction removes the files it wrote. Deleting a training removes its files.
  Loading a model checks the stored checksum and caches the parsed trees by version id (inference reads through here).
*/

export const sha256Hex = (bytes: Uint8Array | string) => crypto.createHash('sha256').update(bytes).digest('hex')

/** Canonical JSON text of a preprocess: its checksum is over exactly these bytes. */
export const preprocessText = (spec: PreprocessSpec) => JSON.stringify(spec)

const EXT: Record<ModelFormat, string> = { 'xgboost-binary': 'bin', 'xgboost-json': 'json', 'linear-json': 'json' }

export function modelFileKey(tenantId: string, trainingId: number, version: number, algorithm: string, format: ModelFormat) {
  return `${tenantId}/models/training-${trainingId}/v${version}-${algorithm.toLowerCase()}.${EXT[format]}`
}

export interface Registration {
  preprocessId: number
  modelIds: number[]
  chosenId: number
}

export interface RegisterInput {
  tenantId: string
  trainingId: number
  jobId: string
  preprocess: PreprocessSpec
  candidates: Pick<Candidate, 'algorithm' | 'model' | 'format' | 'artefact' | 'metrics' | 'score' | 'params' | 'best_iteration' | 'history' | 'cv' | 'duration_ms'>[]
  data: TrainResult['data'] & { dataset_id: number | null; dataset_name: string; silver_table: string | null; job_id: string }
  importance: FeatureImportance | null
  trainedBy: 'wasm' | 'python' | 'ray'
}

/**
 * Registers a finished training. Returns null (and writes nothing) when the training no longer names this job: it was
 * deleted, or a newer request replaced it.
 */
export async function registerTraining(db: Db, input: RegisterInput): Promise<Registration | null> {
  const store = getFileStore()
  const { rows: versions } = await db.query<{ next: number }>(`select coalesce(max(version), 0) + 1 as next from public.model_versions where training_id = $1`, [input.trainingId])
  const first = versions[0].next
  const files = input.candidates.map((c, i) => ({ key: modelFileKey(input.tenantId, input.trainingId, first + i, c.algorithm, c.format), c, version: first + i }))
  const written: string[] = []
  try {
    for (const f of files) {
      await store.put(f.key, f.c.artefact)
      written.push(f.key)
    }
    return await db.transaction(async (tx) => {
      const { rows: own } = await tx.query(`select 1 from public.training_jobs where id = $1 and job_id = $2 for update`, [input.trainingId, input.jobId])
      if (!own.length) return null
      const text = preprocessText(input.preprocess)
      const { rows: pre } = await tx.query<{ id: number }>(
        `insert into public.preprocesses (tenant_id, training_id, spec, checksum, feature_count, fitted_rows)
         values ($1, $2, $3::text::jsonb, $4, $5, $6) returning id`,
        [input.tenantId, input.trainingId, text, sha256Hex(text), input.preprocess.features.length, input.preprocess.fitted_rows],
      )
      const preprocessId = pre[0].id
      const modelIds: number[] = []
      for (const [rank, f] of files.entries()) {
        const { rows } = await tx.query<{ id: number }>(
          `insert into public.model_versions (tenant_id, training_id, version, algorithm, model_name, rank, preprocess_id, format, file_key,
             checksum, size_bytes, metrics, score, params, cross_validation, history, best_iteration, data_ref, duration_ms, trained_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::text::jsonb, $13::text::jsonb, $14::text::jsonb, $15::text::jsonb,
             $16::text::jsonb, $17, $18::text::jsonb, $19, $20) returning id`,
          [
            input.tenantId,
            input.trainingId,
            f.version,
            f.c.algorithm,
            f.c.model,
            rank + 1,
            preprocessId,
            f.c.format,
            f.key,
            sha256Hex(f.c.artefact),
            f.c.artefact.length,
            JSON.stringify(f.c.metrics),
            JSON.stringify(f.c.score),
            JSON.stringify(f.c.params),
            f.c.cv ? JSON.stringify(f.c.cv) : null,
            f.c.history ? JSON.stringify(f.c.history) : null,
            f.c.best_iteration ?? null,
            JSON.stringify(input.data),
            Math.max(0, Math.round(f.c.duration_ms)),
            input.trainedBy,
          ],
        )
        modelIds.push(rows[0].id)
      }
      const chosenId = modelIds[0]
      await tx.query(`update public.training_jobs set preprocess_id = $2, model_id = $3 where id = $1`, [input.trainingId, preprocessId, chosenId])
      if (input.importance) {
        await tx.query(
          `insert into public.feature_importance (training_id, tenant_id, job_id, model_id, result, source, requested_at, computed_at)
           values ($1, $2, $3, $4, $5::text::jsonb, 'training', now(), now())
           on conflict (training_id) do update set job_id = excluded.job_id, model_id = excluded.model_id, result = excluded.result,
             source = excluded.source, requested_at = excluded.requested_at, computed_at = excluded.computed_at`,
          [input.trainingId, input.tenantId, input.jobId, chosenId, JSON.stringify(input.importance)],
        )
      }
      return { preprocessId, modelIds, chosenId }
    })
  } catch (e) {
    await removeFiles(written)
    throw e
  }
}

export async function removeFiles(keys: string[]) {
  const store = getFileStore()
  for (const key of keys) {
    await store.delete(key).catch((e) => logError(e, { where: 'ml.removeFiles', key }))
  }
}

/** The file keys of a training's model versions (read before deleting the rows). */
export async function trainingFiles(sql: Sql, trainingId: number) {
  const { rows } = await sql.query<{ file_key: string }>(`select file_key from public.model_versions where training_id = $1`, [trainingId])
  return rows.map((r) => r.file_key)
}

async function readAll(key: string) {
  const chunks: Uint8Array[] = []
  for await (const c of await getFileStore().read(key)) chunks.push(Uint8Array.from(c))
  return Buffer.concat(chunks)
}

export interface ModelVersionRow {
  id: number
  tenant_id: string
  training_id: number
  version: number
  algorithm: 'XGBoost' | 'Linear'
  model_name: string
  rank: number
  preprocess_id: number
  format: ModelFormat
  file_key: string
  checksum: string
  size_bytes: number
  metrics: Record<string, unknown>
  score: { metric: string; value: number; higher_is_better: boolean }
  params: Record<string, unknown>
  cross_validation: unknown
  history: number[] | null
  best_iteration: number | null
  data_ref: Record<string, unknown>
  duration_ms: number
  trained_by: string
  created_at: Date
}

/** A model version's artefact bytes, checked against the stored checksum. */
export async function readArtefact(version: Pick<ModelVersionRow, 'id' | 'file_key' | 'checksum'>): Promise<Buffer> {
  const bytes = await readAll(version.file_key)
  if (sha256Hex(bytes) !== version.checksum) throw new Error(`model version ${version.id}: the stored file does not match its checksum`)
  return bytes
}

const cache = new Map<number, { checksum: string; model: LoadedModel }>()
const CACHE_MAX = 32

/** The parsed model of a version, cached per process (a version's bytes never change). */
export async function loadModelVersion(version: Pick<ModelVersionRow, 'id' | 'file_key' | 'checksum' | 'format'>): Promise<LoadedModel> {
  const hit = cache.get(version.id)
  if (hit && hit.checksum === version.checksum) return hit.model
  const model = loadModel(version.format, await readArtefact(version))
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!)
  cache.set(version.id, { checksum: version.checksum, model })
  return model
}

export function forgetModels(ids: number[]) {
  for (const id of ids) cache.delete(id)
}

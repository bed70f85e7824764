import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ident } from '#app/features/datasets/datasets.server.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { ApiError, conflict, notFound } from '#app/http/errors.server.ts'
import { cancelJob, enqueueJob, isJobId } from '#app/jobs/jobs.server.ts'
import { loadPrediction, statusOf } from './log.server.ts'
import { modelContext } from './model.server.ts'
import type { BatchBody } from './schemas.ts'
import { withServerRole } from './server-role.server.ts'

/*
  Batch prediction requests (spec §9.2): the checks (the model exists, the dataset is validated and its columns cover
  the model's inputs with the same types) and the job, in the caller's transaction, so the prediction row and its job
  commit together; retry of a failed or cancelled batch (a new job on the same row); cancel
  (/ray/terminate_ray_job?usage=prediction); a preview of the gold table. The job itself is jobs.server.ts.
*/

export const BATCH_JOB = 'inference.batch'

interface DatasetInfo {
  id: number
  dataset_name: string
  columns: ColumnSpec[]
  is_valid: boolean
  valid_records: number
  silver_table: string | null
}

const invalid = (field: string, message: string, details: Record<string, unknown> = {}) =>
  new ApiError(422, 'VALIDATION_ERROR', `${field}: ${message}`, { field, fields: [{ field, message }], ...details })

export async function startBatch(sql: Sql, caller: Caller, body: BatchBody) {
  const ctx = await modelContext(sql, body.train_id)
  const { rows: ds } = await sql.query<DatasetInfo>(
    `select d.id, d.dataset_name, d.columns, d.is_valid, d.valid_records,
            (select r.table_name from public.dataset_tables r where r.dataset_id = d.id and r.schema_name = 'silver') as silver_table
       from public.datasets d where d.id = $1`,
    [body.dataset_id],
  )
  if (!ds.length) throw notFound('Dataset', body.dataset_id)
  const d = ds[0]
  if (!d.is_valid || !d.silver_table) {
    throw new ApiError(400, 'INVALID_DATASET', `dataset_id: dataset ${d.id} is not validated (no valid typed rows to score)`, {
      field: 'dataset_id',
      fields: [{ field: 'dataset_id', message: 'the dataset is not validated' }],
    })
  }
  const byName = new Map(d.columns.map((c) => [c.column_name, c]))
  const missing = ctx.spec.columns.filter((c) => !byName.has(c.column)).map((c) => c.column)
  if (missing.length) {
    throw invalid('dataset_id', `dataset ${d.id} lacks the model's input column(s) ${missing.join(', ')}`, { missing })
  }
  const mistyped = ctx.spec.columns.filter((c) => byName.get(c.column)!.data_type !== c.data_type)
  if (mistyped.length) {
    const what = mistyped.map((c) => `'${c.column}' is ${byName.get(c.column)!.data_type} there, the model reads ${c.data_type}`)
    throw invalid('dataset_id', `dataset ${d.id}: ${what.join('; ')}`, { mistyped: mistyped.map((c) => c.column) })
  }
  const job = await enqueueJob(sql, BATCH_JOB, null, { tenantId: caller.tenantId, createdBy: caller.kind === 'user' ? caller.userId : null })
  const id = await withServerRole(sql, async () => {
    const { rows } = await sql.query<{ id: number }>(
      `insert into public.predictions (tenant_id, training_id, kind, model_id, preprocess_id, dataset_id, dataset_name, job_id, input, created_by)
       values ($1, $2, 'batch', $3, $4, $5, $6, $7, $8::text::jsonb, $9) returning id`,
      [
        caller.tenantId,
        ctx.training.id,
        ctx.version.id,
        ctx.preprocessId,
        d.id,
        d.dataset_name,
        job.id,
        JSON.stringify({ dataset_id: d.id, explanations: body.explanations }),
        caller.kind === 'user' ? caller.userId : null,
      ],
    )
    return rows[0].id
  })
  return {
    status: 'submitted' as const,
    message: `Batch prediction ${id} of dataset ${d.id} (${d.valid_records} rows) with training ${ctx.training.id}'s model submitted.`,
    prediction_id: id,
    train_id: ctx.training.id,
    dataset_id: d.id,
    model_id: ctx.version.id,
    no_of_records: d.valid_records,
    explanations: body.explanations,
    job_id: job.id,
    result: `/api/v1/inference/result?prediction_id=${id}`,
  }
}

/** POST /inference/retry: a failed or cancelled batch runs again (a new job on the same prediction). */
export async function retryBatch(sql: Sql, caller: Caller, predictionId: number) {
  const p = await loadPrediction(sql, predictionId)
  if (p.kind !== 'batch') throw conflict(`prediction_id: prediction ${predictionId} is a real-time prediction`, { field: 'prediction_id' })
  const status = statusOf(p)
  if (status !== 'failed' && status !== 'cancelled') throw conflict(`prediction_id: prediction ${predictionId} is ${status}; only a failed or cancelled batch can be retried`, { field: 'prediction_id', status })
  if (p.dataset_id === null) throw conflict(`prediction_id: the dataset of prediction ${predictionId} was deleted`, { field: 'prediction_id' })
  const job = await enqueueJob(sql, BATCH_JOB, null, { tenantId: caller.tenantId, createdBy: caller.kind === 'user' ? caller.userId : null })
  await withServerRole(sql, () =>
    sql.query(
      `update public.predictions set job_id = $2, no_of_records = null, accuracy = null, metrics = null, gold_table = null, file_id = null, result_key = null
        where id = $1 and tenant_id = $3`,
      [predictionId, job.id, caller.tenantId],
    ),
  )
  return { status: 'submitted' as const, message: `Batch prediction ${predictionId} submitted again.`, prediction_id: predictionId, job_id: job.id, previous_job_id: p.job_id }
}

/**
 * POST /api/v1/ray/terminate_ray_job?usage=prediction: cancels a batch prediction's job. `ray_job_id` is its job id or
 * its prediction id; null when no prediction of the caller's has that id.
 */
export async function terminatePrediction(sql: Sql, rayJobId: string) {
  const { rows } = await sql.query<{ id: number; job_id: string }>(
    `select id, job_id from public.predictions where kind = 'batch' and (($1::uuid is not null and job_id = $1::uuid) or ($2::bigint is not null and id = $2::bigint))`,
    [isJobId(rayJobId) ? rayJobId : null, /^\d{1,15}$/.test(rayJobId) ? Number(rayJobId) : null],
  )
  if (!rows.length) return null
  const r = await cancelJob(sql, rows[0].job_id)
  if (!r) throw notFound('Prediction job', rayJobId)
  if (r.status !== 'cancelled') throw conflict(`Prediction ${rows[0].id}'s job has already ${r.status}`, { prediction_id: rows[0].id, job_status: r.status })
  return { status: 'success' as const, message: `Termination request for Ray job '${rayJobId}' has been sent.`, prediction_id: rows[0].id, job_id: rows[0].job_id }
}

/** The first rows of a completed batch's gold table (the page's preview). */
export async function previewGold(sql: Sql, caller: Caller, predictionId: number, limit: number) {
  const p = await loadPrediction(sql, predictionId)
  if (!p.gold_table) return { prediction_id: p.id, gold_table: null, columns: [], rows: [], total: 0 }
  const gold = p.gold_table
  return withServerRole(sql, async () => {
    const { rows: t } = await sql.query<{ table_name: string }>(
      `select table_name from public.dataset_tables where tenant_id = $1 and schema_name = 'gold' and display_name = $2`,
      [caller.tenantId, gold],
    )
    if (!t.length) return { prediction_id: p.id, gold_table: `gold.${gold}`, columns: [], rows: [], total: 0 }
    const table = `gold.${ident(t[0].table_name)}`
    const { rows } = await sql.query(`select * from ${table} order by _hd_file_id, _hd_row limit ${limit}`)
    const { rows: cols } = await sql.query<{ name: string }>(
      `select attname as name from pg_catalog.pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped and attname !~ '^_hd_' order by attnum`,
      [table],
    )
    const names = cols.map((c) => c.name)
    return {
      prediction_id: p.id,
      gold_table: `gold.${gold}`,
      columns: names,
      rows: rows.map((r) => Object.fromEntries(names.map((n) => [n, r[n]]))),
      total: p.no_of_records ?? 0,
    }
  })
}

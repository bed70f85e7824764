import type { Db, Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { forEachSilverBatch } from '#app/features/datasets/datasets.server.ts'
import { ApiError, conflict, notFound } from '#app/http/errors.server.ts'
import { cancelJob, enqueueJob, jobStateColumns, type JobContext } from '#app/jobs/jobs.server.ts'
import { runInThread } from '#app/jobs/thread-pool.server.ts'
import type { FeatureImportance } from './explain.ts'
import { transformRows, type PreprocessSpec } from './preprocess.ts'
import { readArtefact, type ModelVersionRow } from './registry.server.ts'
import { seededRandom } from './split.ts'
import { loadTraining, statusFields } from './training.server.ts'

/*
  Feature importance (ML spec §8.9, 8.10, 8.12): mean |SHAP| per original column, normalised to 1. Computed by the
  training itself when shap_enabled, on demand by a job (generate), or posted by an external trainer. The row keeps
  the result; its state is its job's.
*/

export const IMPORTANCE_JOB = 'ml.feature_importance'
const SAMPLE_ROWS = 2000

/** GET /api/v1/train/view-feature-importance. */
export async function viewImportance(sql: Sql, trainingId: number) {
  await loadTraining(sql, trainingId)
  const { rows } = await sql.query<{ result: (FeatureImportance & { reported?: unknown }) | null; source: string; job_id: string; model_id: number | null; requested_at: Date; computed_at: Date | null } & { status: string; error: string | null; progress: number; message: string | null }>(
    `select f.result, f.source, f.job_id, f.model_id, f.requested_at, f.computed_at, ${jobStateColumns('j')}
       from public.feature_importance f join public.jobs j on j.id = f.job_id where f.training_id = $1`,
    [trainingId],
  )
  if (!rows.length) return { feature_importance: null, status: 'not_requested', train_id: trainingId }
  const f = rows[0]
  // A result is complete whatever its job did after (a training whose later step failed keeps its SHAP).
  const status = f.result ? 'completed' : statusFields(f.status as 'queued', null).status
  return {
    feature_importance: f.result?.feature_importance ?? null,
    status,
    train_id: trainingId,
    source: f.source,
    method: f.result?.method ?? null,
    rows: f.result?.rows ?? null,
    mean_abs_shap: f.result?.mean_abs_shap ?? null,
    local_accuracy_max_error: f.result?.local_accuracy_max_error ?? null,
    model_id: f.model_id,
    job_id: f.job_id,
    progress: f.result ? 100 : f.progress,
    error: f.result ? null : f.error,
    requested_at: f.requested_at,
    computed_at: f.computed_at,
  }
}

/** GET /api/v1/train/generate-feature-importance: starts the SHAP job (one at a time per training). */
export async function generateImportance(sql: Sql, caller: Caller, trainingId: number) {
  const t = await loadTraining(sql, trainingId)
  if (!t.model_id) throw conflict(`training ${trainingId} has no model yet`, { train_id: trainingId })
  if (t.problem_type === 'Forecast') {
    throw new ApiError(422, 'VALIDATION_ERROR', `train_id: training ${trainingId} is a Forecast model (univariate); it has no feature importance — see its leaderboard in /train/model-summary`, {
      field: 'train_id',
      fields: [{ field: 'train_id', message: 'forecast models have no feature importance' }],
    })
  }
  const job = await enqueueJob(sql, IMPORTANCE_JOB, { trainingId }, { tenantId: caller.tenantId, createdBy: caller.kind === 'user' ? caller.userId : null, singletonKey: `training:${trainingId}` })
  if (!job.existing) {
    // As the caller: the policies let a member point the row at a new job with an empty result, never write one.
    await sql.query(
      `insert into public.feature_importance (training_id, tenant_id, job_id, model_id, result, source, requested_at, computed_at)
       values ($1, $2, $3, $4, null, 'job', now(), null)
       on conflict (training_id) do update set job_id = excluded.job_id, model_id = excluded.model_id, result = null, source = 'job',
         requested_at = now(), computed_at = null`,
      [trainingId, caller.tenantId, job.id, t.model_id],
    )
  }
  return { status: 'success', message: 'Feature importance job submitted successfully.', shap_job_id: job.id, train_id: trainingId }
}

/** DELETE /api/v1/train/delete-feature-importance/{train_id}. */
export async function deleteImportance(sql: Sql, trainingId: number) {
  await loadTraining(sql, trainingId)
  const { rows } = await sql.query<{ job_id: string }>(`select job_id from public.feature_importance where training_id = $1`, [trainingId])
  if (!rows.length) throw notFound('Feature importance of training', trainingId)
  const { rows: job } = await sql.query<{ name: string; status: string }>(`select name, status from public.jobs where id = $1`, [rows[0].job_id])
  if (job[0]?.name === IMPORTANCE_JOB && (job[0].status === 'queued' || job[0].status === 'running')) await cancelJob(sql, rows[0].job_id)
  await sql.query(`delete from public.feature_importance where training_id = $1`, [trainingId])
  return { status: 'success', message: `Feature importance of training ${trainingId} was deleted.`, train_id: trainingId }
}

/** The job: a seeded sample of the dataset's rows through the model's preprocess, SHAP on a pool thread. */
export async function computeImportance(db: Db, trainingId: number, ctx: JobContext) {
  const { rows } = await db.query<{ tenant_id: string; dataset_id: number | null; model_id: number | null; preprocess_id: number | null }>(
    `select tenant_id, dataset_id, model_id, preprocess_id from public.training_jobs where id = $1`,
    [trainingId],
  )
  const t = rows[0]
  if (!t) return { skipped: 'the training was deleted' }
  if (!t.model_id || !t.preprocess_id) throw new Error(`training ${trainingId} has no model`)
  if (t.dataset_id === null) throw new Error('the dataset this model was trained on was deleted')
  const { rows: mv } = await db.query<ModelVersionRow>(`select * from public.model_versions where id = $1`, [t.model_id])
  const { rows: pre } = await db.query<{ spec: PreprocessSpec }>(`select spec from public.preprocesses where id = $1`, [t.preprocess_id])
  const spec = pre[0].spec
  const columns = spec.columns.map((c) => c.column)
  await ctx.step(`Sampling up to ${SAMPLE_ROWS} rows of the dataset`, 5)
  // Reservoir sampling, seeded: the same data gives the same rows.
  const rng = seededRandom(trainingId)
  const sample: unknown[][] = []
  let seen = 0
  await forEachSilverBatch(
    db,
    t.tenant_id,
    t.dataset_id,
    (batch) => {
      for (const row of batch.rows) {
        seen++
        if (sample.length < SAMPLE_ROWS) sample.push(row)
        else {
          const j = Math.floor(rng() * seen)
          if (j < SAMPLE_ROWS) sample[j] = row
        }
      }
    },
    { columns, signal: ctx.signal },
  )
  await ctx.step(`SHAP values of ${sample.length} rows (${mv[0].model_name})`, 40)
  const x = transformRows(spec, columns, sample)
  const artefact = await readArtefact(mv[0])
  const result = await runInThread<FeatureImportance>('#app/features/ml/train.thread.ts', 'explain', { format: mv[0].format, artefact, preprocess: spec, x, rows: sample.length }, { signal: ctx.signal })
  const u = await db.query(
    `update public.feature_importance set result = $3::text::jsonb, model_id = $4, computed_at = now() where training_id = $1 and job_id = $2`,
    [trainingId, ctx.jobId, JSON.stringify(result), t.model_id],
  )
  await ctx.log(`local accuracy: max |bias + Σ SHAP − margin| = ${result.local_accuracy_max_error.toExponential(2)}`)
  return { training_id: trainingId, rows: sample.length, stored: u.rowCount === 1 }
}

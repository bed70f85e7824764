import type { Db, Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError, notFound } from '#app/http/errors.server.ts'
import { cancelJob, isJobId } from '#app/jobs/jobs.server.ts'
import { reconcileTrainings } from './jobs.server.ts'
import { readArtefact, type ModelVersionRow } from './registry.server.ts'
import { listTrainings, loadTraining } from './training.server.ts'

/*
  The ML area's public surface (training and the model registry): what routes, pages and other areas call.
  Inference (next) reads models through loadModelVersion (registry.server.ts) and scores with scoring.ts.
*/

export { createTraining, deleteTraining, listTrainings, loadTraining, modelSummary, modelVersions, trainingDetails, trainingSchema, updatePreprocess } from './training.server.ts'
export { deleteImportance, generateImportance, viewImportance } from './importance.server.ts'
export { acceptShapResult, acceptTrainResult, serveTrainerInput, serveTrainerScript } from './external.server.ts'
export { loadModelVersion, readArtefact } from './registry.server.ts'
export { reconcileTrainings } from './jobs.server.ts'
export { forecastChart, forecastChartOptions, forecastTrainings, generateForecast } from './forecast/forecast.server.ts'
// The New model page's Forecast settings show these defaults.
export { DEFAULT_HORIZON, MAX_STEPS } from './forecast/core.ts'
export { SEASON_LENGTH } from './forecast/calendar.ts'

/** GET /api/v1/train/refresh: lost workers' trainings retried or failed, rows reconciled with the queue, then the list. */
export async function refreshTrainings(db: Db, sql: Sql, caller: Caller, page: { skip: number; limit: number }) {
  const r = await reconcileTrainings(db, { tenantId: caller.tenantId })
  return { ...(await listTrainings(sql, page)), refreshed: { retried: r.retried, failed: r.failed } }
}

/** A model version's file in XGBoost's own format (or our linear JSON), to download. */
export async function downloadModel(sql: Sql, trainingId: number, modelId?: number) {
  const t = await loadTraining(sql, trainingId)
  const id = modelId ?? t.model_id
  if (!id) throw new ApiError(409, 'CONFLICT', `training ${trainingId} has no model yet`, { train_id: trainingId })
  const { rows } = await sql.query<ModelVersionRow>(`select * from public.model_versions where id = $1 and training_id = $2`, [id, trainingId])
  if (!rows.length) throw notFound('Model version', id)
  const v = rows[0]
  const bytes = await readArtefact(v)
  const ext = v.format === 'xgboost-binary' ? 'bin' : 'json'
  const name = `${t.predictor_name.replace(/[^A-Za-z0-9._-]+/g, '_')}-v${v.version}-${v.algorithm.toLowerCase()}.${ext}`
  return new Response(new Uint8Array(bytes), {
    headers: {
      'Content-Type': v.format === 'xgboost-binary' ? 'application/octet-stream' : 'application/json',
      'Content-Disposition': `attachment; filename="${name}"`,
      'X-Model-Format': v.format,
      'X-Model-Checksum': `sha256:${v.checksum}`,
    },
  })
}

/**
 * POST /api/v1/ray/terminate_ray_job?usage=training: cancels a training's job. `ray_job_id` is the training's job id,
 * its Ray submission id, or the training id; null when no training of the caller's has that id. A Ray job is stopped
 * on the cluster by the handler's abort.
 */
export async function terminateTraining(sql: Sql, rayJobId: string) {
  const { rows } = await sql.query<{ id: number; job_id: string }>(
    `select id, job_id from public.training_jobs where ($1::uuid is not null and job_id = $1::uuid) or external_job_id = $2 or ($3::bigint is not null and id = $3::bigint)`,
    [isJobId(rayJobId) ? rayJobId : null, rayJobId, /^\d{1,15}$/.test(rayJobId) ? Number(rayJobId) : null],
  )
  if (!rows.length) return null
  const r = await cancelJob(sql, rows[0].job_id)
  if (!r) throw notFound('Training job', rayJobId)
  if (r.status !== 'cancelled') throw new ApiError(409, 'CONFLICT', `Training ${rows[0].id}'s job has already ${r.status}`, { train_id: rows[0].id, job_status: r.status })
  return { status: 'success', message: `Termination request for Ray job '${rayJobId}' has been sent.`, train_id: rows[0].id, job_id: rows[0].job_id }
}

/** One training in the list's shape (the model page's header). */
export { listItem as trainingListItem } from './training.server.ts'
export { getJobLogs as trainingLog } from '#app/jobs/jobs.server.ts'

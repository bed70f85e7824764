import type { Sql } from '#app/db/db.server.ts'
import { conflict, notFound } from '#app/http/errors.server.ts'
import { cancelJob, getJob, getJobLogs } from './jobs.server.ts'

/** A job of the caller's tenant as the API shows it; 404 for unknown ids and other tenants' jobs alike. */
export async function readJob(db: Sql, jobId: string) {
  const job = await getJob(db, jobId)
  if (!job) throw notFound('Job', jobId)
  const { id, name, status, progress, message, result, error, created_by, created_at, started_at, finished_at, updated_at } = job
  return { id, name, status, progress, message, result, error, created_by, created_at, started_at, finished_at, updated_at }
}

/**
 * GET /api/v1/jobs/{job_id}/logs: the job's log lines after line `after`, oldest first. A client polls with
 * `after` set to the last `next_after` to follow a running job.
 */
export async function readJobLogs(db: Sql, jobId: string, opts: { after: number; limit: number }) {
  const logs = await getJobLogs(db, jobId, opts)
  if (!logs) throw notFound('Job', jobId)
  return { job_id: jobId, logs, next_after: logs.at(-1)?.id ?? opts.after }
}

/**
 * POST /api/v1/ray/terminate_ray_job, kept from the ML spec: our jobs run on pg-boss, not Ray, and the
 * "Ray job id" is the job id. Cancelling an already cancelled job succeeds again; a finished one is a 409.
 */
export async function terminateJob(db: Sql, jobId: string) {
  const r = await cancelJob(db, jobId)
  if (!r) throw notFound('Job', jobId)
  if (r.status !== 'cancelled') throw conflict(`Job '${jobId}' has already ${r.status}`, { id: jobId, job_status: r.status })
  return { status: 'success', message: `Termination request for Ray job '${jobId}' has been sent.` }
}

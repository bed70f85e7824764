import type { Db, Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError, badRequest, notFound } from '#app/http/errors.server.ts'
import { enqueueJob, type JobContext, type JobEnd } from '#app/jobs/jobs.server.ts'
import { checkCallbackUrl } from './address.server.ts'
import { executeAsset, executionTarget, paymentRequired, priced, subscription, usedThisPeriod, webhookSecret } from './execute.server.ts'
import type { BatchInput, BatchResultsQuery, ExecuteInput } from './schemas.ts'
import { newId } from './secrets.server.ts'
import { iso } from './sources.server.ts'
import { enqueueWebhook, webhookDeliveries } from './webhooks.server.ts'

/*
  Batch execution (MK spec "Batch Execute Analytics", "Get Batch Status"; the results endpoint the spec links to).
  POST stores the batch and its records and enqueues `marketplace.batch`; the job runs every record through the same
  path as POST …/execute (executeAsset: target, subscription, free tier, meter row tagged with the batch id), so each
  record succeeds or fails on its own — a bad record, or one past the free tier, is that record's error, never the
  batch's. The state is the job's (public.jobs); the counts are the records'. On completion the callback_url gets the
  signed `batch.completed` webhook with the subscriber's secret; when the job fails for good (retries exhausted, or its
  worker lost and the job expired) or is cancelled, `batch.failed` / `batch.cancelled` with that status (batchEnded,
  told by the job system; notifyEndedBatches catches an end no process with this module saw). Batches and records are the consumer tenant's rows
  (RLS): another tenant, the provider included, reads none of them.
*/

export const BATCH_JOB = 'marketplace.batch'
const PARALLEL = 4
const PROGRESS_EVERY_MS = 500

interface BatchJobData {
  batchId: string
  origin: string
  caller: Pick<Caller, 'kind' | 'userId' | 'tenantId' | 'apiKeyId'>
}

/** The origin clients reached us at (Fly terminates TLS in front: X-Forwarded-Proto says https). */
export function publicOrigin(request: Request) {
  const u = new URL(request.url)
  const https = u.protocol === 'https:' || request.headers.get('x-forwarded-proto')?.split(',')[0].trim() === 'https'
  return `${https ? 'https' : 'http'}://${u.host}`
}

const batchPaths = (origin: string, id: string) => ({
  progress_url: `${origin}/api/v1/analytics/batches/${id}/status`,
  results_url: `${origin}/api/v1/analytics/batches/${id}/results`,
})

/** Mean latency of the asset's recent successful executions (ms), for the estimate; null without any. */
async function meanLatencyMs(db: Db, assetId: string) {
  const { rows } = await db.query<{ ms: number | null }>(
    `select avg(latency_ms)::float8 as ms from (select latency_ms from public.asset_executions where asset_id = $1 and status = 'success' order by created_at desc limit 200) e`,
    [assetId],
  )
  return rows[0].ms
}

export async function startBatch(caller: Caller, assetId: string, input: BatchInput, origin: string) {
  const db = await getDb()
  const t = await executionTarget(db, caller, assetId)
  const callback = input.callback_url ? (await checkCallbackUrl(input.callback_url, 'callback_url')).url.href : null
  if (callback && t.owner) {
    throw badRequest('callback_url', "webhooks are signed with a subscriber's secret: the provider's own batches have none (poll progress_url)")
  }
  if (!t.owner) {
    const sub = await subscription(db, caller, t.asset)
    // Nothing could succeed: refuse the whole batch as /execute would refuse one request.
    if (priced(t.asset.pricing) && !sub.billing_agreement_at) {
      const used = await usedThisPeriod(db, t.asset, caller.tenantId)
      if (used >= (t.asset.pricing.free_tier?.requests ?? 0)) throw paymentRequired(t.asset, used)
    }
  }
  const id = newId('batch')
  const { parallel_processing, ...parameters } = input.parameters ?? {}
  const records = input.batch_data.map((r, idx) => ({ idx, record_id: r.id ?? null, customer_id: r.customer_id ?? null, input: r.input_data }))
  const data: BatchJobData = { batchId: id, origin, caller: { kind: caller.kind, userId: caller.userId, tenantId: caller.tenantId, apiKeyId: caller.apiKeyId } }
  await db.transaction(async (tx) => {
    const job = await enqueueJob(tx, BATCH_JOB, data, { tenantId: caller.tenantId, createdBy: caller.kind === 'user' ? caller.userId : null })
    await tx.query(
      `insert into public.asset_batches (id, asset_id, provider_tenant_id, consumer_tenant_id, job_id, total_records, parameters, callback_url, created_by, origin)
       values ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9, $10)`,
      [
        id,
        assetId,
        t.asset.tenant_id,
        caller.tenantId,
        job.id,
        records.length,
        JSON.stringify({ ...parameters, ...(parallel_processing === undefined ? {} : { parallel_processing }) }),
        callback,
        caller.kind === 'user' ? caller.userId : null,
        origin,
      ],
    )
    await tx.query(
      `insert into public.asset_batch_records (batch_id, idx, consumer_tenant_id, record_id, customer_id, input)
       select $1, r.idx, $2, r.record_id, r.customer_id, r.input
         from jsonb_to_recordset($3::text::jsonb) as r(idx int, record_id text, customer_id text, input jsonb)`,
      [id, caller.tenantId, JSON.stringify(records)],
    )
  })
  const perRecord = await meanLatencyMs(db, assetId)
  const lanes = parallel_processing === false ? 1 : PARALLEL
  return {
    data: {
      batch_id: id,
      asset_id: assetId,
      status: 'processing',
      total_records: records.length,
      // from the asset's recent latency; null until it has executed at least once
      estimated_completion: perRecord === null ? null : iso(new Date(Date.now() + (perRecord * records.length) / lanes)),
      callback_url: callback,
      progress_url: batchPaths(origin, id).progress_url,
    },
  }
}

interface BatchRow {
  id: string
  asset_id: string
  job_id: string
  total_records: number
  callback_url: string | null
  parameters: Record<string, unknown>
  consumer_tenant_id: string
  job_status: 'queued' | 'running' | 'completed' | 'failed' | 'cancelled'
  job_error: string | null
  started_at: Date | null
  finished_at: Date | null
  processed: number
  succeeded: number
  failed: number
}

async function batchRow(sql: Sql, batchId: string): Promise<BatchRow> {
  const { rows } = await sql.query<BatchRow>(
    `select b.id, b.asset_id, b.job_id, b.total_records, b.callback_url, b.parameters, b.consumer_tenant_id,
            j.status as job_status, j.error as job_error, j.started_at, j.finished_at,
            c.processed, c.succeeded, c.failed
       from public.asset_batches b
       join public.jobs j on j.id = b.job_id
       cross join lateral (
         select count(*) filter (where r.status <> 'pending')::int as processed,
                count(*) filter (where r.status = 'success')::int as succeeded,
                count(*) filter (where r.status = 'error')::int as failed
           from public.asset_batch_records r where r.batch_id = b.id
       ) c
      where b.id = $1`,
    [batchId],
  )
  if (!rows[0]) throw notFound('Batch', batchId)
  return rows[0]
}

// queued and running are both "processing", as the spec answers right after the POST
const batchStatus = (s: BatchRow['job_status']) => (s === 'queued' || s === 'running' ? 'processing' : s)

function statusView(b: BatchRow, origin: string, completedAt?: Date) {
  const done = completedAt ?? b.finished_at
  return {
    batch_id: b.id,
    asset_id: b.asset_id,
    status: completedAt ? 'completed' : batchStatus(b.job_status),
    progress: {
      total_records: b.total_records,
      processed_records: b.processed,
      successful_records: b.succeeded,
      failed_records: b.failed,
      percentage_complete: b.total_records ? Math.round((1000 * b.processed) / b.total_records) / 10 : 100,
    },
    started_at: b.started_at ? iso(b.started_at) : null,
    completed_at: done ? iso(done) : null,
    ...(b.job_status === 'failed' && !completedAt ? { error: b.job_error } : {}),
    results_url: batchPaths(origin, b.id).results_url,
  }
}

/** GET …/batches/{id}/status as the caller (RLS: the consumer tenant's batches only). */
export async function getBatchStatus(sql: Sql, batchId: string, origin: string) {
  const b = await batchRow(sql, batchId)
  const view = statusView(b, origin)
  let estimated: string | null = null
  if (view.status === 'processing' && b.started_at && b.processed > 0) {
    // from this batch's own pace so far
    const elapsed = Date.now() - new Date(b.started_at).getTime()
    estimated = iso(new Date(Date.now() + (elapsed / b.processed) * (b.total_records - b.processed)))
  }
  const deliveries = b.callback_url ? await webhookDeliveries(sql, batchId) : []
  const d = deliveries.at(-1)
  return {
    data: {
      ...view,
      ...(view.status === 'processing' ? { estimated_completion: estimated } : {}),
      // the job behind it: its log (GET /api/v1/jobs/{job_id}/logs) and cancel (POST /api/v1/ray/terminate_ray_job)
      job_id: b.job_id,
      callback_url: b.callback_url,
      ...(b.callback_url
        ? {
            callback: d
              ? { status: d.status, attempts: d.attempts.length, last_status_code: d.last_status_code, last_error: d.last_error, next_attempt_at: d.next_attempt_at, delivered_at: d.delivered_at }
              : { status: 'not_sent' },
          }
        : {}),
    },
  }
}

interface RecordRow {
  idx: number
  record_id: string | null
  customer_id: string | null
  status: 'pending' | 'success' | 'error'
  result: Record<string, unknown> | null
  error: Record<string, unknown> | null
  processed_at: Date | null
}

/** GET …/batches/{id}/results as the caller: the records in order, paginated, optionally of one status. */
export async function getBatchResults(sql: Sql, batchId: string, q: BatchResultsQuery, origin: string) {
  const b = await batchRow(sql, batchId)
  const { rows } = await sql.query<RecordRow>(
    `select idx, record_id, customer_id, status, result, error, processed_at from public.asset_batch_records
      where batch_id = $1 and ($2::text is null or status = $2) order by idx limit $3 offset $4`,
    [batchId, q.status ?? null, q.limit, q.offset],
  )
  const total = q.status ? { pending: b.total_records - b.processed, success: b.succeeded, error: b.failed }[q.status] : b.total_records
  return {
    data: rows.map((r) => ({
      id: r.record_id,
      index: r.idx,
      customer_id: r.customer_id,
      status: r.status,
      ...(r.status === 'success' ? r.result : {}),
      ...(r.status === 'error' ? { error: r.error } : {}),
      processed_at: r.processed_at ? iso(r.processed_at) : null,
    })),
    meta: {
      batch_id: batchId,
      status: batchStatus(b.job_status),
      total,
      successful_records: b.succeeded,
      failed_records: b.failed,
      pending_records: b.total_records - b.processed,
      limit: q.limit,
      offset: q.offset,
      ...(q.offset + rows.length < total ? { next: `${batchPaths(origin, batchId).results_url}?${new URLSearchParams({ ...(q.status ? { status: q.status } : {}), limit: String(q.limit), offset: String(q.offset + q.limit) })}` } : {}),
    },
  }
}

/** A record's error as the results show it: the API error, its field named within batch_data. */
function recordError(e: unknown, idx: number) {
  const err = e instanceof ApiError ? e : new ApiError(500, 'INTERNAL_ERROR', 'The asset failed')
  const details = (err.details ?? {}) as Record<string, unknown>
  const within = (f: unknown) => (typeof f === 'string' && f.startsWith('input_data') ? `batch_data.${idx}.${f}` : f)
  const fields = Array.isArray(details.fields) ? details.fields.map((x: { field: string; message: string }) => ({ ...x, field: within(x.field) })) : undefined
  return {
    code: err.code,
    message: typeof details.field === 'string' ? err.message.replace(details.field, String(within(details.field))) : err.message,
    details: { ...details, ...(details.field ? { field: within(details.field) } : {}), ...(fields ? { fields } : {}) },
  }
}

/** The `marketplace.batch` job: every pending record through executeAsset, then the callback. */
export async function runBatch(data: BatchJobData, ctx: Pick<JobContext, 'progress' | 'signal' | 'log'>) {
  const db = await getDb()
  const caller = { ...data.caller, via: 'bearer', roles: [], permissions: new Set<string>(), claims: { sub: data.caller.userId, role: 'authenticated', app_metadata: { tenant_id: data.caller.tenantId } } } as Caller
  const { rows: batch } = await db.query<{ asset_id: string; parameters: Record<string, unknown>; callback_url: string | null; total_records: number }>(
    `select asset_id, parameters, callback_url, total_records from public.asset_batches where id = $1`,
    [data.batchId],
  )
  if (!batch[0]) return { batch_id: data.batchId, status: 'gone' }
  const { asset_id: assetId, parameters, callback_url: callbackUrl, total_records: total } = batch[0]
  const { parallel_processing, ...execParameters } = parameters
  // pending records only: a retried job resumes where the last one stopped
  const { rows: pending } = await db.query<{ idx: number; input: Record<string, unknown> }>(
    `select idx, input from public.asset_batch_records where batch_id = $1 and status = 'pending' order by idx`,
    [data.batchId],
  )
  let done = total - pending.length
  let lastReport = 0
  let next = 0
  const parametersOf: ExecuteInput['parameters'] = {
    include_confidence_interval: true,
    include_feature_importance: true,
    confidence_level: 0.95,
    top_factors: 5,
    ...(execParameters as Partial<ExecuteInput['parameters']>),
  }
  const lane = async () => {
    while (next < pending.length) {
      ctx.signal.throwIfAborted()
      const r = pending[next++]
      let result: unknown = null
      let error: unknown = null
      try {
        const answer = await executeAsset(db, caller, assetId, { input_data: r.input, parameters: parametersOf, output_options: { format: 'detailed', include_metadata: true } }, { batchId: data.batchId })
        const { asset_id: _a, ...rest } = answer.data
        result = rest
      } catch (e) {
        error = recordError(e, r.idx)
      }
      await db.query(
        `update public.asset_batch_records set status = $3, result = $4::text::jsonb, error = $5::text::jsonb, processed_at = now() where batch_id = $1 and idx = $2`,
        [data.batchId, r.idx, error ? 'error' : 'success', result ? JSON.stringify(result) : null, error ? JSON.stringify(error) : null],
      )
      done++
      if (Date.now() - lastReport > PROGRESS_EVERY_MS) {
        lastReport = Date.now()
        await ctx.progress((100 * done) / Math.max(1, total), `${done} of ${total} records`)
      }
    }
  }
  await Promise.all(Array.from({ length: parallel_processing === false ? 1 : PARALLEL }, lane))
  await ctx.progress(100, `${total} of ${total} records`)
  const b = await batchRow(db, data.batchId)
  const view = statusView(b, data.origin, new Date())
  // the records are done whatever happens to the callback: a refused or failing URL is the delivery's (or the log's) story
  if (callbackUrl) await sendCallback(db, caller.tenantId, assetId, data.batchId, callbackUrl, 'batch.completed', view).catch((e: unknown) => ctx.log(`callback not sent: ${(e as Error).message}`, 'warn'))
  return { batch_id: data.batchId, successful_records: b.succeeded, failed_records: b.failed }
}

async function sendCallback(sql: Sql, tenantId: string, assetId: string, batchId: string, url: string, event: string, payload: unknown) {
  const { rows } = await sql.query<{ webhook_secret: string }>(
    `select webhook_secret from public.asset_subscriptions where asset_id = $1 and consumer_tenant_id = $2`,
    [assetId, tenantId],
  )
  // The subscription went away (the asset was deleted with it): nobody's secret to sign with.
  if (!rows[0]) return
  await enqueueWebhook(sql, { tenantId, url, secret: webhookSecret(rows[0], assetId, tenantId), event, payload, subject: batchId })
}

/**
 * The `marketplace.batch` job ended failed for good or cancelled (onJobEnded in jobs.server.ts): the batch's callback
 * gets `batch.failed` / `batch.cancelled` with the status GET …/status answers — the records done stay done and are
 * counted. Once per batch: the first path to claim end_notified_at sends it. `sql` runs as the server.
 */
export async function batchEnded(sql: Sql, end: Pick<JobEnd, 'jobId'>) {
  const { rows } = await sql.query<{ id: string; origin: string | null }>(
    `update public.asset_batches b set end_notified_at = now() from public.jobs j
      where b.job_id = $1 and j.id = b.job_id and j.status in ('failed', 'cancelled') and b.callback_url is not null and b.end_notified_at is null
      returning b.id, b.origin`,
    [end.jobId],
  )
  if (!rows[0]) return false
  const b = await batchRow(sql, rows[0].id)
  const view = statusView(b, rows[0].origin ?? '')
  await sendCallback(sql, b.consumer_tenant_id, b.asset_id, b.id, b.callback_url!, `batch.${view.status}`, view)
  return true
}

/**
 * The minute sweep: batches whose job ended failed or cancelled where no process told it — a queued batch cancelled by
 * a web process that runs no worker, a running one cancelled while its worker was gone. Waits GRACE_SECONDS after the
 * end so a worker still stopping the handler tells it (with the final counts) first; looks back one day.
 */
const GRACE_SECONDS = 30
export async function notifyEndedBatches(db: Db) {
  const { rows } = await db.query<{ job_id: string }>(
    `select b.job_id from public.asset_batches b join public.jobs j on j.id = b.job_id
      where b.callback_url is not null and b.end_notified_at is null and j.status in ('failed', 'cancelled')
        and j.finished_at between now() - interval '1 day' and now() - make_interval(secs => $1)
      limit 100`,
    [GRACE_SECONDS],
  )
  let told = 0
  for (const r of rows) if (await db.transaction((tx) => batchEnded(tx, { jobId: r.job_id }))) told++
  return { told }
}

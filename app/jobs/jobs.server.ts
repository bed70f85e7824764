import crypto from 'node:crypto'
import type PgBoss from 'pg-boss'
import type { Db, Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import { currentBoss, jobSchemaExists, migrateJobSchema, senderFor, startBoss, stopBoss, type BossOptions } from './boss.server.ts'

/*
  Background jobs. public.jobs holds a job's one state (status, progress, current step, error, result) and
  public.job_logs its log; pg-boss only carries the job to a worker. A domain row (dataset_statistics,
  training_jobs…) references its job and reads the state from it (see README.md).

  enqueueJob writes the job row and the pg-boss job through the caller's own transaction, so both
  commit together or not at all: a job never starts for a request that rolled back. cancelJob marks the
  row cancelled, cancels the pg-boss job and aborts the running handler's AbortSignal (at once in this
  process; within about a second in a separate worker process, which polls the rows of its running jobs).
*/

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled'
export type JobLogLevel = 'info' | 'warn' | 'error'

export interface JobContext {
  /** Aborted when the job is cancelled, times out, or the worker shuts down. Pass it on (fetch, runInThread). */
  signal: AbortSignal
  /**
   * Sets progress (0–100) and, when given, the current step (the row's `message`); no log line. For frequent
   * updates (per batch). Throws once the job is cancelled.
   */
  progress(pct: number, message?: string): Promise<void>
  /**
   * A step of the job: appends `message` to its log and makes it the current step, with progress when given
   * ("training round 3 of 10", 30). Throws once the job is cancelled.
   */
  step(message: string, pct?: number): Promise<void>
  /** Appends a line to the job's log without changing its current step (a warning, a figure). */
  log(message: string, level?: JobLogLevel): Promise<void>
  jobId: string
  tenantId: string
}

export interface JobOptions {
  /** Retries after a failure (default 0: a failed job stays failed). */
  retryLimit?: number
  retryDelaySeconds?: number
  /** Exponential backoff between retries: about retryDelaySeconds × 2^(retry − 1), up to twice that (pg-boss's jitter). */
  retryBackoff?: boolean
  /** The handler is aborted after this long (default 15 minutes, at most 23 hours). */
  expireInSeconds?: number
  /** Jobs of this kind one worker process runs at the same time (default 1). */
  teamSize?: number
}

export type JobHandler<T> = (data: T, ctx: JobContext) => Promise<unknown>
/** What an area learns when one of its jobs ends without completing: failed for good (no retry left), or cancelled. */
export interface JobEnd {
  jobId: string
  tenantId: string
  name: string
  status: 'failed' | 'cancelled'
  error: string | null
}
/** `sql` runs as the server: the worker's database, or the transaction of the cancelJob that ended the job. */
export type JobEndHandler = (sql: Sql, end: JobEnd) => Promise<unknown>
export type ScheduleHandler = (ctx: { signal: AbortSignal; jobId: string }) => Promise<unknown>

interface JobDefinition {
  name: string
  handler: JobHandler<any>
  opts: JobOptions
}
interface ScheduleDefinition {
  name: string
  cron: string
  handler: ScheduleHandler
  opts: JobOptions
}
interface RunningJob {
  controller: AbortController
  db: Db
}
interface Worker {
  db: Db
  workerIds: string[]
  cancelPoll: ReturnType<typeof setInterval>
  reconcile: ReturnType<typeof setInterval>
}

/** Why a job's signal was aborted; the reason decides the row's final status. */
export class JobCancelledError extends Error {
  name = 'AbortError'
  constructor() {
    super('The job was cancelled')
  }
}
class JobTimeoutError extends Error {
  name = 'TimeoutError'
  constructor(seconds: number) {
    super(`The job ran longer than ${seconds} s and was stopped`)
  }
}
class WorkerStoppingError extends Error {
  name = 'AbortError'
  constructor() {
    super('The worker shut down while the job was running')
  }
}

interface JobsState {
  jobs: Map<string, JobDefinition>
  endHandlers?: Map<string, JobEndHandler>
  schedules: Map<string, ScheduleDefinition>
  running: Map<string, RunningJob>
  worker?: Worker
  starting?: { db: Db; done: Promise<void> }
  schemaReady?: boolean
}
// The definitions and the running worker, once per process: on globalThis they survive Vite re-running this module after an edit in dev (decision 005).
const g = globalThis as { __hotdashJobs?: JobsState }
const state: JobsState = (g.__hotdashJobs ??= { jobs: new Map(), schedules: new Map(), running: new Map() })

const DEFAULT_EXPIRE_SECONDS = 15 * 60
const CANCEL_POLL_MS = 1000
const RECONCILE_MS = 30_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,100}$/

export const isJobId = (id: string) => UUID.test(id)

// ---------------------------------------------------------------- definitions

export function defineJob<T>(name: string, handler: JobHandler<T>, opts: JobOptions = {}) {
  if (!QUEUE_NAME.test(name)) throw new Error(`Job name '${name}' must be 1-100 of A-Z a-z 0-9 _ . -`)
  if (state.schedules.has(name)) throw new Error(`'${name}' is already a schedule`)
  state.jobs.set(name, { name, handler, opts })
  return { name }
}

/**
 * Runs `handler` once when a job of this name ends failed for good or cancelled — in the worker after its handler
 * stopped, after reconcileJobs found its worker lost, or in cancelJob for a job no worker had picked up (where this
 * process defines it). A domain row whose state is the job's uses it to tell someone (a batch's callback). The handler
 * must be idempotent and cheap; its errors are logged, never the job's.
 */
export function onJobEnded(name: string, handler: JobEndHandler) {
  ;(state.endHandlers ??= new Map()).set(name, handler)
}

async function jobEnded(sql: Sql, end: JobEnd, inTransaction = false) {
  const handler = state.endHandlers?.get(end.name)
  if (!handler) return
  if (inTransaction) await sql.query('savepoint job_ended')
  try {
    await handler(sql, end)
    if (inTransaction) await sql.query('release savepoint job_ended')
  } catch (err) {
    if (inTransaction) await sql.query('rollback to savepoint job_ended')
    log('warn', 'job end handler failed', { job_id: end.jobId, name: end.name, error: (err as Error)?.message ?? String(err) })
  }
}

/** A job pg-boss starts on a cron (UTC). Not tenant-scoped: it runs for the whole database. */
export function defineSchedule(name: string, cron: string, handler: ScheduleHandler, opts: JobOptions = {}) {
  if (!QUEUE_NAME.test(name)) throw new Error(`Schedule name '${name}' must be 1-100 of A-Z a-z 0-9 _ . -`)
  if (state.jobs.has(name)) throw new Error(`'${name}' is already a job`)
  state.schedules.set(name, { name, cron, handler, opts })
  return { name }
}

export function definedJobs() {
  return { jobs: [...state.jobs.keys()], schedules: [...state.schedules.values()].map(({ name, cron }) => ({ name, cron })) }
}

// ---------------------------------------------------------------- enqueue and cancel

export interface EnqueueOptions {
  tenantId: string
  createdBy?: string | null
  /** While a job of this name and key is queued or running for the tenant, return it instead of adding one. */
  singletonKey?: string
}

/**
 * Adds a job for a tenant. Pass the request's transaction: the job row and the pg-boss job are written
 * through it and exist only if it commits. Returns the job id (the same in public.jobs and pg-boss);
 * `existing: true` when singletonKey matched a job already queued or running.
 */
export async function enqueueJob(sql: Sql | Db, name: string, data: unknown, opts: EnqueueOptions): Promise<{ id: string; existing?: boolean }> {
  if (isDb(sql)) return sql.transaction((tx) => enqueueJob(tx, name, data, opts))
  if (!QUEUE_NAME.test(name)) throw new Error(`Job name '${name}' is not valid`)
  await ensureJobSchema(sql)
  return asServer(sql, opts.tenantId, async () => {
    const id = crypto.randomUUID()
    const inserted = await sql.query<{ id: string }>(
      `insert into public.jobs (id, tenant_id, name, singleton_key, created_by) values ($1, $2, $3, $4, $5)
       on conflict (tenant_id, name, singleton_key) where singleton_key is not null and status in ('queued', 'running')
       do nothing returning id`,
      [id, opts.tenantId, name, opts.singletonKey ?? null, opts.createdBy ?? null],
    )
    if (!inserted.rows.length) {
      const { rows } = await sql.query<{ id: string }>(
        `select id from public.jobs where tenant_id = $1 and name = $2 and singleton_key = $3 and status in ('queued', 'running')`,
        [opts.tenantId, name, opts.singletonKey],
      )
      return { id: rows[0].id, existing: true }
    }
    const def = state.jobs.get(name)
    const sender = senderFor(sql)
    // Without the definition in this process (a web process that imports no job modules) the queue's settings apply.
    const send = () => sender.send(name, { tenantId: opts.tenantId, data: data ?? null }, { id, ...(def ? sendOptions(def.opts) : {}) })
    let sent = await send()
    if (!sent) {
      // First job of this kind on this database and no worker has created its queue yet.
      await sender.createQueue(name, queueOptions(def?.opts ?? {}))
      sent = await send()
    }
    if (!sent) throw new Error(`pg-boss did not accept job '${name}'`)
    return { id }
  })
}

export interface CancelResult {
  id: string
  name: string
  /** The status after the call: 'cancelled', or the final status it had already reached. */
  status: JobStatus
  /** False when the job had already finished (completed, failed or cancelled before). */
  changed: boolean
}

/**
 * Cancels a job the caller can see (RLS decides when `sql` runs as a caller). Returns null for an id that
 * does not exist or is not visible, so routes answer 404 for other tenants' jobs.
 */
export async function cancelJob(sql: Sql | Db, jobId: string): Promise<CancelResult | null> {
  if (isDb(sql)) return sql.transaction((tx) => cancelJob(tx, jobId))
  if (!isJobId(jobId)) return null
  const { rows } = await sql.query<{ name: string; status: JobStatus; tenant_id: string }>(
    `select name, status, tenant_id from public.jobs where id = $1`,
    [jobId],
  )
  const job = rows[0]
  if (!job) return null
  if (job.status !== 'queued' && job.status !== 'running') return { id: jobId, name: job.name, status: job.status, changed: false }
  await asServer(sql, job.tenant_id, async () => {
    await sql.query(
      `update public.jobs set status = 'cancelled', finished_at = now(), message = 'Cancelled'
       where id = $1 and status in ('queued', 'running')`,
      [jobId],
    )
    await senderFor(sql).cancel(job.name, jobId)
    await appendJobLog(sql, jobId, 'warn', 'Cancellation requested')
    // A running job's end is told by its worker once the handler has stopped; a queued one has no worker: here, in
    // the same transaction (what the handler writes commits with the cancellation), behind a savepoint.
    if (job.status === 'queued') await jobEnded(sql, { jobId, tenantId: job.tenant_id, name: job.name, status: 'cancelled', error: null }, true)
  })
  // The handler in this process learns at once; one in another worker process from its cancel poll.
  state.running.get(jobId)?.controller.abort(new JobCancelledError())
  return { id: jobId, name: job.name, status: 'cancelled', changed: true }
}

export interface JobRow {
  id: string
  tenant_id: string
  name: string
  status: JobStatus
  progress: number
  message: string | null
  result: unknown
  error: string | null
  created_by: string | null
  created_at: Date
  started_at: Date | null
  finished_at: Date | null
  updated_at: Date
}

/** A job's row as the caller sees it (null when it does not exist or belongs to another tenant). */
export async function getJob(sql: Sql, jobId: string): Promise<JobRow | null> {
  if (!isJobId(jobId)) return null
  const { rows } = await sql.query<JobRow>(
    `select id, tenant_id, name, status, progress, message, result, error, created_by, created_at, started_at, finished_at, updated_at
     from public.jobs where id = $1`,
    [jobId],
  )
  return rows[0] ?? null
}

/**
 * The columns of a job's state, for a domain row that references its job: `select s.result, ${jobStateColumns('j')}
 * from my_rows s join public.jobs j on j.id = s.job_id`. Every area reads the same names.
 */
export function jobStateColumns(alias: string) {
  return ['status', 'progress', 'message', 'error', 'started_at', 'finished_at'].map((c) => `${alias}.${c}`).join(', ')
}

export interface JobLogLine {
  id: number
  at: Date
  level: JobLogLevel
  message: string
}

/**
 * A job's log lines in order, as the caller sees them (RLS), from after line `after` (0: the first), at most
 * `limit`. Returns null when the job does not exist or is not visible.
 */
export async function getJobLogs(sql: Sql, jobId: string, opts: { after?: number; limit?: number } = {}): Promise<JobLogLine[] | null> {
  if (!isJobId(jobId)) return null
  const { rows: job } = await sql.query(`select 1 from public.jobs where id = $1`, [jobId])
  if (!job.length) return null
  const { rows } = await sql.query<JobLogLine>(
    `select id, at, level, message from public.job_logs where job_id = $1 and id > $2 order by id limit $3`,
    [jobId, opts.after ?? 0, opts.limit ?? 1000],
  )
  return rows
}

/**
 * Records work done inline (no worker: the demo seed) as a completed job, so a domain row can reference it
 * like any other. Runs as the server; returns the job id.
 */
export async function recordCompletedJob(sql: Sql, name: string, opts: { tenantId: string; result?: unknown; message?: string }) {
  const id = crypto.randomUUID()
  await sql.query(
    `insert into public.jobs (id, tenant_id, name, status, progress, message, result, started_at, finished_at)
     values ($1, $2, $3, 'completed', 100, $4, $5::text::jsonb, now(), now())`,
    [id, opts.tenantId, name, opts.message ?? null, JSON.stringify(opts.result ?? null)],
  )
  await appendJobLog(sql, id, 'info', opts.message ?? 'Completed')
  return id
}

// ---------------------------------------------------------------- the worker

export interface WorkerOptions {
  /** Seconds between fetches of an idle queue (default 2; pg-boss minimum 0.5). */
  pollingIntervalSeconds?: number
  /** Seconds between cron checks (default 30; 1 in tests). */
  cronMonitorIntervalSeconds?: number
}

/** Starts pg-boss with maintenance and cron, creates every defined queue and schedule, and works them. */
export async function startWorker(db?: Db, opts: WorkerOptions = {}) {
  db ??= await getDb()
  // Concurrent callers (boot hook and a test, two module copies) share one start.
  if (state.starting?.db === db) return state.starting.done
  const done = launchWorker(db, opts)
  state.starting = { db, done }
  try {
    await done
  } catch (err) {
    state.starting = undefined
    throw err
  }
}

async function launchWorker(db: Db, opts: WorkerOptions) {
  if (state.worker) await stopWorker()
  const bossOpts: BossOptions = { supervise: true, ...opts }
  const boss = await startBoss(db, bossOpts)
  state.schemaReady = true
  const workerIds: string[] = []
  const poll = { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 2, includeMetadata: true as const, batchSize: 1 }

  for (const def of state.jobs.values()) {
    await ensureQueue(boss, def.name, def.opts)
    for (let i = 0; i < Math.max(1, def.opts.teamSize ?? 1); i++) {
      workerIds.push(await boss.work<Envelope>(def.name, poll, ([job]) => runJob(db, boss, def, job)))
    }
  }
  for (const def of state.schedules.values()) {
    await ensureQueue(boss, def.name, def.opts)
    await boss.schedule(def.name, def.cron, undefined, { tz: 'UTC' })
    // A schedule fires at most once a minute: polling its queue every 5 s is plenty (PGlite has one connection).
    const schedulePoll = { ...poll, pollingIntervalSeconds: Math.max(poll.pollingIntervalSeconds, Math.min(5, opts.cronMonitorIntervalSeconds ?? 30)) }
    workerIds.push(await boss.work<object>(def.name, schedulePoll, ([job]) => runScheduled(def, job)))
  }
  const cancelPoll = setInterval(() => void abortCancelled(db), CANCEL_POLL_MS)
  cancelPoll.unref()
  const reconcile = setInterval(() => void reconcileJobs(db).catch((e) => log('warn', 'reconcile failed', { error: e.message })), RECONCILE_MS)
  reconcile.unref()
  state.worker = { db, workerIds, cancelPoll, reconcile }
  log('info', 'worker started', { jobs: [...state.jobs.keys()], schedules: [...state.schedules.keys()] })
}

/**
 * Stops fetching, gives running handlers `timeoutMs` to finish, then aborts them (their rows go back to
 * queued when pg-boss will retry them, else failed) and stops pg-boss.
 */
export async function stopWorker(opts: { timeoutMs?: number } = {}) {
  const worker = state.worker
  state.worker = undefined
  state.starting = undefined
  if (worker) {
    clearInterval(worker.cancelPoll)
    clearInterval(worker.reconcile)
  }
  const timeoutMs = opts.timeoutMs ?? 10_000
  const boss = currentBoss()
  if (boss) for (const id of worker?.workerIds ?? []) await boss.boss.offWork({ id }).catch(() => {})
  const deadline = Date.now() + timeoutMs
  while (state.running.size && Date.now() < deadline) await sleep(100)
  for (const run of state.running.values()) run.controller.abort(new WorkerStoppingError())
  while (state.running.size && Date.now() < deadline + 2000) await sleep(50)
  await stopBoss({ timeoutMs: 1000 })
}

type Envelope = { tenantId: string; data: unknown }

async function runJob(db: Db, boss: PgBoss, def: JobDefinition, job: PgBoss.JobWithMetadata<Envelope>) {
  const started = await db.query<{ tenant_id: string }>(
    `update public.jobs set status = 'running', started_at = coalesce(started_at, now()), finished_at = null, error = null
     where id = $1 and status in ('queued', 'running') returning tenant_id`,
    [job.id],
  )
  // Cancelled (or its tenant deleted) before a worker picked it up: nothing to do.
  if (!started.rows.length) return null

  const controller = new AbortController()
  const expireIn = def.opts.expireInSeconds ?? DEFAULT_EXPIRE_SECONDS
  // Abort just before pg-boss gives up on the job, so the row says why.
  const timer = setTimeout(() => controller.abort(new JobTimeoutError(expireIn)), Math.max(500, expireIn * 1000 - 500))
  state.running.set(job.id, { controller, db })
  const tenantId: string = started.rows[0].tenant_id
  const ctx: JobContext = {
    signal: controller.signal,
    jobId: job.id,
    tenantId,
    async progress(pct, message) {
      controller.signal.throwIfAborted()
      const r = await db.query(
        `update public.jobs set progress = $2, message = coalesce($3, message) where id = $1 and status = 'running'`,
        [job.id, clampProgress(pct), message === undefined ? null : logText(message)],
      )
      if (!r.rowCount) controller.abort(new JobCancelledError())
      controller.signal.throwIfAborted()
    },
    async step(message, pct) {
      controller.signal.throwIfAborted()
      const text = logText(message)
      // One statement: the log line is written only while the job still runs (a cancelled job's is not).
      const r = await db.query(
        `with j as (
           update public.jobs set message = $2, progress = coalesce($3, progress) where id = $1 and status = 'running' returning tenant_id
         )
         insert into public.job_logs (job_id, tenant_id, level, message) select $1, tenant_id, 'info', $2 from j`,
        [job.id, text, pct === undefined ? null : clampProgress(pct)],
      )
      if (!r.rowCount) controller.abort(new JobCancelledError())
      controller.signal.throwIfAborted()
    },
    async log(message, level = 'info') {
      await appendJobLog(db, job.id, level, message)
    },
  }
  try {
    await appendJobLog(db, job.id, 'info', job.retryCount ? `Started (attempt ${job.retryCount + 1})` : 'Started')
    const result = await def.handler(job.data.data, ctx)
    controller.signal.throwIfAborted()
    // One statement: the row and its last log line change together.
    await db.query(
      `with done as (
         update public.jobs set status = 'completed', progress = 100, result = $2::text::jsonb, finished_at = now()
         where id = $1 and status = 'running' returning tenant_id
       )
       insert into public.job_logs (job_id, tenant_id, level, message) select $1, tenant_id, 'info', 'Completed' from done`,
      [job.id, JSON.stringify(result ?? null)],
    )
    log('info', 'job completed', { job_id: job.id, name: def.name })
    return result ?? null
  } catch (err) {
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined
    if (reason instanceof JobCancelledError) {
      await db.query(
        `update public.jobs set status = 'cancelled', finished_at = now(), message = 'Cancelled' where id = $1 and status in ('queued', 'running')`,
        [job.id],
      )
      await boss.cancel(def.name, job.id)
      await appendJobLog(db, job.id, 'warn', 'Cancelled')
      log('info', 'job cancelled', { job_id: job.id, name: def.name })
      await jobEnded(db, { jobId: job.id, tenantId, name: def.name, status: 'cancelled', error: null })
      return null
    }
    const error = reason instanceof Error ? reason : err
    const message = error instanceof Error ? error.message : String(error)
    const willRetry = job.retryCount < job.retryLimit
    const ended = await db.query(
      `update public.jobs set status = $2, error = $3, finished_at = case when $2 = 'failed' then now() end
       where id = $1 and status = 'running'`,
      [job.id, willRetry ? 'queued' : 'failed', message],
    )
    await appendJobLog(db, job.id, 'error', willRetry ? `Failed, will retry: ${message}` : `Failed: ${message}`)
    log(willRetry ? 'warn' : 'error', willRetry ? 'job failed, will retry' : 'job failed', {
      job_id: job.id,
      name: def.name,
      error: message,
    })
    if (!willRetry && ended.rowCount) await jobEnded(db, { jobId: job.id, tenantId, name: def.name, status: 'failed', error: message })
    throw error
  } finally {
    clearTimeout(timer)
    state.running.delete(job.id)
  }
}

async function runScheduled(def: ScheduleDefinition, job: PgBoss.JobWithMetadata) {
  const controller = new AbortController()
  const expireIn = def.opts.expireInSeconds ?? DEFAULT_EXPIRE_SECONDS
  const timer = setTimeout(() => controller.abort(new JobTimeoutError(expireIn)), Math.max(500, expireIn * 1000 - 500))
  try {
    const result = await def.handler({ signal: controller.signal, jobId: job.id })
    log('info', 'scheduled job completed', { job_id: job.id, name: def.name, result })
    return result ?? null
  } catch (err) {
    log('error', 'scheduled job failed', { job_id: job.id, name: def.name, error: (err as Error)?.message ?? String(err) })
    throw err
  } finally {
    clearTimeout(timer)
  }
}

/** Aborts this process's running handlers whose rows another process marked cancelled. */
async function abortCancelled(db: Db) {
  const ids = [...state.running].filter(([, r]) => r.db === db).map(([id]) => id)
  if (!ids.length) return
  try {
    const { rows } = await db.query<{ id: string }>(`select id from public.jobs where id = any($1::uuid[]) and status = 'cancelled'`, [ids])
    for (const { id } of rows) state.running.get(id)?.controller.abort(new JobCancelledError())
  } catch (err) {
    log('warn', 'cancel poll failed', { error: (err as Error).message })
  }
}

/**
 * Brings rows whose worker died (crash, OOM, lost machine) in line with pg-boss, which expires such jobs:
 * failed or cancelled there → the same here; waiting for a retry there → queued here. Jobs running in this
 * process are left to their handlers. Returns how many rows changed.
 */
export async function reconcileJobs(db: Db) {
  const local = [...state.running.keys()]
  const { rows } = await db.query<{ n: number; ended: { id: string; tenant_id: string; name: string; status: 'failed' | 'cancelled'; error: string | null }[] | null }>(
    `with changed as (
       update public.jobs j
       set status = case b.state when 'failed' then 'failed' when 'cancelled' then 'cancelled' else 'queued' end,
           error = case when b.state = 'failed' then coalesce(j.error, 'The job stopped without finishing (worker lost or timed out)') else j.error end,
           finished_at = case when b.state in ('failed', 'cancelled') then now() end
       from pgboss.job b
       where b.id = j.id and b.name = j.name and j.status in ('queued', 'running') and not (j.id = any($1::uuid[]))
         and (b.state in ('failed', 'cancelled') or (b.state = 'retry' and j.status = 'running'))
       returning j.id, j.tenant_id, j.name, j.status, j.error
     ), logged as (
       insert into public.job_logs (job_id, tenant_id, level, message)
       select id, tenant_id, case status when 'failed' then 'error' else 'warn' end,
              case status when 'queued' then 'The worker was lost; queued again for a retry'
                          when 'cancelled' then 'Cancelled'
                          else 'The job stopped without finishing (worker lost or timed out)' end
         from changed
     )
     select count(*)::int as n,
            jsonb_agg(jsonb_build_object('id', id, 'tenant_id', tenant_id, 'name', name, 'status', status, 'error', error))
              filter (where status in ('failed', 'cancelled')) as ended
       from changed`,
    [local],
  )
  for (const e of rows[0].ended ?? []) await jobEnded(db, { jobId: e.id, tenantId: e.tenant_id, name: e.name, status: e.status, error: e.error })
  return rows[0].n
}

// ---------------------------------------------------------------- helpers

function isDb(sql: Sql | Db): sql is Db {
  return typeof (sql as Db).transaction === 'function'
}

/**
 * Runs fn with the session's own role: job rows and pg-boss tables are written only by the server. When
 * `sql` runs as a caller, the job's tenant must be the caller's own (a guard against a wrong tenantId).
 */
async function asServer<T>(sql: Sql, tenantId: string, fn: () => Promise<T>): Promise<T> {
  const { rows } = await sql.query<{ role: string; session_role: string; tenant_id: string | null }>(
    `select current_user::text as role, session_user::text as session_role, (select app.tenant_id())::text as tenant_id`,
  )
  const who = rows[0]
  if (who.role === who.session_role) return fn()
  if (who.tenant_id !== tenantId) throw new Error(`A caller of tenant ${who.tenant_id ?? '(none)'} cannot manage jobs of tenant ${tenantId}`)
  await sql.query(`select set_config('role', 'none', true)`)
  let failed = false
  try {
    return await fn()
  } catch (err) {
    failed = true
    throw err
  } finally {
    // After a failed statement the transaction is aborted and this cannot run; the original error is what matters.
    await sql.query(`select set_config('role', $1, true)`, [who.role]).catch((e) => {
      if (!failed) throw e
    })
  }
}

/** pg-boss's schema exists once any worker has started; a web process that runs none creates it once. */
async function ensureJobSchema(sql: Sql) {
  if (state.schemaReady) return
  if (await jobSchemaExists(sql)) {
    state.schemaReady = true
    return
  }
  const db = await getDb()
  // PGlite has one connection and `sql` holds it: migrating now would wait on ourselves.
  if (db.engine === 'pglite') throw new Error('The job system is not started: call startWorker() (or startJobs()) at boot')
  await migrateJobSchema(db)
  state.schemaReady = true
}

function queueOptions(opts: JobOptions): PgBoss.Queue {
  return {
    name: '',
    retryLimit: opts.retryLimit ?? 0,
    retryDelay: opts.retryDelaySeconds ?? 0,
    retryBackoff: opts.retryBackoff ?? false,
    expireInSeconds: opts.expireInSeconds ?? DEFAULT_EXPIRE_SECONDS,
  }
}

function sendOptions(opts: JobOptions): PgBoss.SendOptions {
  return {
    retryLimit: opts.retryLimit ?? 0,
    retryDelay: opts.retryDelaySeconds ?? 0,
    retryBackoff: opts.retryBackoff ?? false,
    expireInSeconds: opts.expireInSeconds ?? DEFAULT_EXPIRE_SECONDS,
  }
}

async function ensureQueue(boss: PgBoss, name: string, opts: JobOptions) {
  const options = { ...queueOptions(opts), name }
  if (await boss.getQueue(name)) await boss.updateQueue(name, options)
  else await boss.createQueue(name, options)
}

const clampProgress = (pct: number) => Math.max(0, Math.min(100, Math.round(Number.isFinite(pct) ? pct : 0)))
const logText = (message: string) => (String(message).trim() || '(empty)').slice(0, 2000)

/** Appends a line to a job's log (none when the job row is gone, e.g. its tenant was deleted). */
async function appendJobLog(sql: Sql, jobId: string, level: JobLogLevel, message: string) {
  await sql.query(
    `insert into public.job_logs (job_id, tenant_id, level, message) select id, tenant_id, $2, $3 from public.jobs where id = $1`,
    [jobId, level, logText(message)],
  )
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>) {
  if (process.env.NODE_ENV === 'test' && process.env.LOG_JOBS !== 'true') return
  const line = JSON.stringify({ timestamp: new Date().toISOString(), level, source: 'jobs', message, ...fields }) + '\n'
  ;(level === 'info' ? process.stdout : process.stderr).write(line)
}

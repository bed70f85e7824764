import { setTimeout as sleep } from 'node:timers/promises'
import type { Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { periodCondition, type SilverPeriod } from '#app/features/datasets/datasets.server.ts'
import { createTraining, loadTraining } from '#app/features/ml/ml.server.ts'
import { hyperparameters, type TrainInput } from '#app/features/ml/schemas.ts'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { ApiError, badRequest, conflict, notFound } from '#app/http/errors.server.ts'
import { cancelJob, enqueueJob, getJobLogs, JobCancelledError, type JobContext } from '#app/jobs/jobs.server.ts'
import { asMinutes, ownAsset, patchAsset, publicUrl, trainingSeconds, versionRow } from './assets.server.ts'
import { modelPerformance, type ModelDefinition } from './definition.server.ts'
import { providerAsset, startDeployment } from './deploy.server.ts'
import type { DeployInput, TrainAssetInput } from './schemas.ts'
import { newId } from './secrets.server.ts'
import { asServer } from './session-role.server.ts'
import { iso } from './sources.server.ts'

/*
  Training an asset's model again (MK spec "Train Analytics Model", decision 063). The request resolves the spec's
  training_config / data_config against the asset's current training (dataset, columns, algorithm, hyperparameters)
  and starts an ml training through ml's createTraining, in the caller's transaction, with this job beside it
  (`marketplace.train`, the asset training's one state). The job follows the ml training (data_preparation →
  training → evaluation), makes the new model an asset version through PATCH's own rules (versioning), and, with
  deployment_config.auto_deploy, deploys it only when its metric reaches performance_threshold (deployment): through a
  blue_green (or canary) deployment that, with rollback_on_failure, watches rollback_threshold and switches back on a
  breach; a failed health check leaves the old version serving. A draft asset has no traffic to protect: its new
  version is active at once.
*/

export const ASSET_TRAIN_JOB = 'marketplace.train'
const STEPS = ['data_preparation', 'training', 'evaluation', 'versioning', 'deployment'] as const
type Step = (typeof STEPS)[number]
const POLL_MS = 500

/** ml's step labels (ml/jobs.server.ts) → the spec's five steps. */
function stepOfTraining(message: string | null): Step {
  if (!message || /^(Data preparation|Preprocessing|Queued|Started)/i.test(message)) return 'data_preparation'
  if (/^(Training|Cross-validation)/i.test(message)) return 'training'
  return 'evaluation'
}

interface DatasetColumns {
  id: number
  columns: ColumnSpec[]
  is_valid: boolean
  silver_table: string | null
}

/** POST /assets/{asset_id}/train, in the caller's transaction. */
export async function trainAsset(sql: Sql, caller: Caller, assetId: string, input: TrainAssetInput) {
  const a = await providerAsset(sql, assetId, 'train')
  if (a.kind !== 'model') throw conflict('asset_id: this asset runs a SQL query; it has no model to train', { field: 'asset_id', kind: a.kind })
  const current = (await versionRow(sql, a.active_version_id!)).definition as ModelDefinition
  const t = await loadTraining(sql, current.training_id)
  if (t.problem_type === 'Forecast') throw conflict('asset_id: forecast assets are retrained through POST /api/v1/train/', { field: 'asset_id' })
  const dc = input.data_config
  const datasetId = dc.dataset_id ?? t.dataset_id
  if (datasetId === null) throw badRequest('data_config.dataset_id', "the current training's dataset was deleted: name another dataset")
  const { rows: ds } = await sql.query<DatasetColumns>(
    `select d.id, d.columns, d.is_valid, (select r.table_name from public.dataset_tables r where r.dataset_id = d.id and r.schema_name = 'silver') as silver_table
       from public.datasets d where d.id = $1`,
    [datasetId],
  )
  const d = ds[0]
  if (!d) throw badRequest('data_config.dataset_id', 'no such dataset in your tenant')
  if (!d.is_valid || !d.silver_table) throw badRequest('data_config.dataset_id', `dataset ${d.id} is not validated (no valid typed rows to train on)`)
  const columns = resolveColumns(d, t.columns, dc)
  const period = dc.training_period ? await resolvePeriod(sql, d, dc.training_period) : undefined
  const tc = input.training_config
  const id = newId('job')
  const previous = Object.fromEntries(Object.entries(t.params.hyperparameters).filter(([k]) => k in hyperparameters.shape))
  const trainInput: TrainInput = {
    dataset_id: d.id,
    predictor_name: `${t.predictor_name.slice(0, 150)} · ${id}`,
    domain: t.domain,
    problem_type: t.problem_type,
    columns,
    is_incremental: false,
    algorithm: tc.algorithm ?? t.algorithm,
    shap_enabled: t.shap_enabled,
    hyperparameters: { ...previous, ...tc.hyperparameters },
    validation_split: tc.validation_split ?? t.params.validation_split,
    cv_folds: tc.cross_validation_folds ?? t.params.cv_folds,
    seed: tc.seed ?? t.params.seed,
    engine: t.engine,
    forecast: {},
  }
  const training = await createTraining(sql, caller, trainInput)
  const createdBy = caller.kind === 'user' ? caller.userId : null
  const job = await enqueueJob(sql, ASSET_TRAIN_JOB, { assetTrainingId: id }, { tenantId: caller.tenantId, createdBy })
  const estimate = await trainingSeconds(sql, t.id)
  const created = await asServer(sql, async () => {
    if (period) await sql.query(`update public.training_jobs set params = jsonb_set(params, '{period}', $2::text::jsonb) where id = $1`, [training.id, JSON.stringify(period)])
    const { rows } = await sql.query<{ created_at: Date }>(
      `insert into public.asset_trainings (id, asset_id, tenant_id, training_id, job_id, request, created_by) values ($1, $2, $3, $4, $5, $6::text::jsonb, $7) returning created_at`,
      [id, a.id, a.tenant_id, training.id, job.id, JSON.stringify({ ...input, resolved: { dataset_id: d.id, columns, period: period ?? null, from_training_id: t.id } }), createdBy],
    )
    return rows[0].created_at
  })
  return {
    data: {
      training_job_id: id,
      asset_id: a.id,
      status: 'started',
      estimated_duration: asMinutes(estimate),
      progress: { current_step: 'data_preparation' as Step, steps_completed: 0, steps_total: STEPS.length, percentage_complete: 0 },
      started_at: iso(created),
      estimated_completion: estimate === null ? null : iso(new Date(created.getTime() + 1000 * estimate)),
      training_id: training.id,
      status_url: publicUrl(`/training-jobs/${id}`),
      logs_url: publicUrl(`/training-jobs/${id}/logs`),
    },
  }
}

/** The columns' roles for the new training: the current training's, changed as data_config asks; every problem names its field. */
function resolveColumns(d: DatasetColumns, previous: { column_name: string; attribute_name: string }[], dc: TrainAssetInput['data_config']): TrainInput['columns'] {
  const names = new Set(d.columns.map((c) => c.column_name))
  const role = (r: string) => previous.filter((c) => c.attribute_name === r && names.has(c.column_name)).map((c) => c.column_name)
  const target = dc.target_variable ?? previous.find((c) => c.attribute_name === 'Target')?.column_name
  if (!target || !names.has(target)) throw badRequest('data_config.target_variable', `'${target}' is not a column of dataset ${d.id} (${[...names].join(', ')})`)
  const ids = role('Id').filter((c) => c !== target)
  let features: string[]
  if (dc.feature_selection === 'all') features = [...names].filter((c) => c !== target && !ids.includes(c))
  else if (dc.feature_selection === 'auto') features = role('Feature').filter((c) => c !== target)
  else {
    dc.feature_selection.forEach((c, i) => {
      if (!names.has(c)) throw badRequest(`data_config.feature_selection.${i}`, `'${c}' is not a column of dataset ${d.id}`)
      if (c === target || ids.includes(c)) throw badRequest(`data_config.feature_selection.${i}`, `'${c}' is the ${c === target ? 'target' : 'id'}, not a feature`)
    })
    features = dc.feature_selection
  }
  if (!features.length) throw badRequest('data_config.feature_selection', 'the training needs at least one feature')
  return d.columns.map((c) => ({
    column_name: c.column_name,
    data_type: c.data_type,
    attribute_name: c.column_name === target ? 'Target' : ids.includes(c.column_name) ? 'Id' : features.includes(c.column_name) ? 'Feature' : 'Ignore',
  }))
}

const MIN_PERIOD_ROWS = 20

/** The period's date column (named, or the dataset's only date column) and enough rows in it. */
async function resolvePeriod(sql: Sql, d: DatasetColumns, p: NonNullable<TrainAssetInput['data_config']['training_period']>): Promise<SilverPeriod> {
  const field = 'data_config.training_period'
  const dates = d.columns.filter((c) => c.data_type === 'Date' || c.data_type === 'DateTime')
  let column = p.date_column
  if (column === undefined) {
    if (dates.length !== 1) throw badRequest(`${field}.date_column`, dates.length ? `dataset ${d.id} has several date columns (${dates.map((c) => c.column_name).join(', ')}): name one` : `dataset ${d.id} has no Date or DateTime column to take a period of`)
    column = dates[0].column_name
  } else if (!dates.some((c) => c.column_name === column)) throw badRequest(`${field}.date_column`, `'${column}' is not a Date or DateTime column of dataset ${d.id}`)
  const period: SilverPeriod = { column, ...(p.start_date ? { from: p.start_date } : {}), ...(p.end_date ? { to: p.end_date } : {}) }
  const where = periodCondition(d.columns, period)
  // silver is the server's schema; the dataset was just read as the caller
  const { rows } = await asServer(sql, () => sql.query<{ n: number }>(`select count(*)::int as n from silver."${d.silver_table!.replace(/"/g, '""')}" where ${where}`))
  if (rows[0].n < MIN_PERIOD_ROWS) {
    throw new ApiError(422, 'INSUFFICIENT_DATA', `${field}: ${rows[0].n} row(s) of dataset ${d.id} fall in the period; at least ${MIN_PERIOD_ROWS} are needed`, { field, fields: [{ field, message: `${rows[0].n} rows in the period` }], rows: rows[0].n })
  }
  return period
}

// ---------------------------------------------------------------- reading

interface TrainingView {
  id: string
  asset_id: string
  training_id: number | null
  job_id: string
  request: TrainAssetInput
  result_version_id: number | null
  deployment_status: string | null
  deployment_id: string | null
  created_at: Date
  status: string
  progress: number
  message: string | null
  error: string | null
  result: Record<string, unknown> | null
  finished_at: Date | null
}

async function loadAssetTraining(sql: Sql, id: string): Promise<TrainingView> {
  const { rows } = await sql.query<TrainingView>(
    `select a.*, j.status, j.progress, j.message, j.error, j.result, j.finished_at from public.asset_trainings a join public.jobs j on j.id = a.job_id where a.id = $1`,
    [id],
  )
  if (!rows[0]) throw notFound('Training job', id)
  return rows[0]
}

const STATUS: Record<string, string> = { queued: 'started', running: 'running', completed: 'completed', failed: 'failed', cancelled: 'cancelled' }

/** GET /training-jobs/{job_id}: the spec's status, progress and results, as the caller's tenant sees them (RLS). */
export async function getAssetTraining(sql: Sql, id: string) {
  const t = await loadAssetTraining(sql, id)
  const prefix = t.message?.split(':')[0] as Step | undefined
  const step: Step = t.status === 'completed' ? 'deployment' : prefix && STEPS.includes(prefix) ? prefix : 'data_preparation'
  const done = t.status === 'completed' ? STEPS.length : STEPS.indexOf(step)
  return {
    data: {
      training_job_id: t.id,
      asset_id: t.asset_id,
      status: STATUS[t.status] ?? t.status,
      progress: {
        current_step: step,
        steps_completed: done,
        steps_total: STEPS.length,
        percentage_complete: t.progress,
        message: t.message?.slice(prefix && STEPS.includes(prefix) ? prefix.length + 2 : 0) ?? null,
      },
      results: t.status === 'completed' ? t.result : t.status === 'failed' || t.status === 'cancelled' ? { error: t.error, deployment_status: t.deployment_status ?? 'not_deployed' } : null,
      training_id: t.training_id,
      deployment_id: t.deployment_id,
      started_at: iso(t.created_at),
      completed_at: t.finished_at ? iso(t.finished_at) : null,
      logs_url: publicUrl(`/training-jobs/${t.id}/logs`),
    },
  }
}

/** An asset's latest trainings for its page, newest first: each as GET /training-jobs/{id} answers, with the version it made. */
export async function assetTrainings(sql: Sql, assetId: string, limit = 10) {
  const { rows } = await sql.query<{ id: string; version: string | null }>(
    `select t.id, v.version from public.asset_trainings t left join public.asset_versions v on v.id = t.result_version_id
      where t.asset_id = $1 order by t.created_at desc, t.id desc limit $2`,
    [assetId, limit],
  )
  const out = []
  for (const r of rows) out.push({ ...(await getAssetTraining(sql, r.id)).data, version: r.version })
  return out
}

/** GET /training-jobs/{job_id}/logs: the lines of the ml training, this job and its deployment, in time order. */
export async function assetTrainingLogs(sql: Sql, id: string) {
  const t = await loadAssetTraining(sql, id)
  const { rows: jobs } = await sql.query<{ source: string; job_id: string }>(
    `select 'training' as source, job_id from public.training_jobs where id = $1
     union all select 'deployment', job_id from public.asset_deployments where id = $2`,
    [t.training_id, t.deployment_id],
  )
  const all = [{ source: 'asset', job_id: t.job_id }, ...jobs]
  const lines = (await Promise.all(all.map(async (j) => ((await getJobLogs(sql, j.job_id)) ?? []).map((l) => ({ at: l.at, level: l.level, source: j.source, message: l.message }))))).flat()
  lines.sort((x, y) => new Date(x.at).getTime() - new Date(y.at).getTime())
  return { data: { training_job_id: t.id, logs: lines.map((l) => ({ ...l, at: new Date(l.at).toISOString() })) } }
}

// ---------------------------------------------------------------- the job

interface TrainingRowState {
  status: string
  progress: number
  message: string | null
  error: string | null
  job_id: string
  model_id: number | null
  problem_type: string
}

/** The `marketplace.train` job (registered in jobs.server.ts). Cancelling it cancels the ml training too. */
export async function runAssetTraining(data: { assetTrainingId: string }, ctx: Pick<JobContext, 'log' | 'progress' | 'signal' | 'step'>) {
  const db = await getDb()
  const { rows } = await db.query<{ id: string; asset_id: string; tenant_id: string; training_id: number | null; request: TrainAssetInput; created_by: string | null }>(
    `select id, asset_id, tenant_id, training_id, request, created_by from public.asset_trainings where id = $1`,
    [data.assetTrainingId],
  )
  const at = rows[0]
  if (!at) return { skipped: 'the asset training is gone (its asset was deleted)' }
  const setStatus = (status: string, extra: { version_id?: number; deployment_id?: string } = {}) =>
    db.query(`update public.asset_trainings set deployment_status = $2, result_version_id = coalesce($3, result_version_id), deployment_id = coalesce($4, deployment_id) where id = $1`, [at.id, status, extra.version_id ?? null, extra.deployment_id ?? null])
  let mlJob: string | null = null
  try {
    // 1–3: the ml training
    let last: string | null = '\u0000'
    let s: TrainingRowState
    for (;;) {
      const { rows: tr } = await db.query<TrainingRowState>(
        `select j.status, j.progress, j.message, j.error, t.job_id, t.model_id, t.problem_type from public.training_jobs t join public.jobs j on j.id = t.job_id where t.id = $1`,
        [at.training_id],
      )
      if (!tr[0]) throw new Error('The ml training was deleted while it ran')
      s = tr[0]
      mlJob = s.job_id
      if (s.message !== last) {
        await ctx.progress(0.7 * s.progress, `${stepOfTraining(s.message)}: ${s.message ?? 'queued'}`)
        last = s.message
      }
      if (s.status === 'completed') break
      if (s.status === 'failed' || s.status === 'cancelled') throw new Error(`The training ${s.status}${s.error ? `: ${s.error}` : ''}`)
      await sleep(POLL_MS, undefined, { signal: ctx.signal })
    }
    mlJob = null
    const cfg = at.request.deployment_config
    const { rows: mv } = await db.query<{ metrics: Record<string, number> }>(`select metrics from public.model_versions where id = $1`, [s.model_id])
    const metrics = mv[0].metrics
    const asset = (await ownAsset(db, at.asset_id))!
    const metric = cfg.metric ?? (s.problem_type === 'Classification' ? 'accuracy' : 'r2')
    const value = typeof metrics[metric] === 'number' ? metrics[metric] : null
    const threshold = cfg.performance_threshold ?? asset.configuration.performance_threshold ?? null
    const reached = threshold === null || (value !== null && value >= threshold)
    const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(4))
    await ctx.step(`evaluation: ${metric} ${fmt(value)} on the held-out rows${threshold === null ? '' : ` (threshold ${threshold}: ${reached ? 'reached' : 'not reached'})`}`, 72)

    // 4: a version of the asset, by PATCH's rules; a candidate unless it is to be deployed
    const before = asset.active_version_id ? await versionRow(db, asset.active_version_id) : null
    const { rows: was } = before?.model_version_id ? await db.query<{ metrics: Record<string, number> }>(`select metrics from public.model_versions where id = $1`, [before.model_version_id]) : { rows: [] }
    const deploy = cfg.auto_deploy && reached
    const notes = `Retrained (training ${at.training_id}, ${at.id}): ${metric} ${fmt(value)}${was[0] ? ` (was ${fmt(was[0].metrics[metric] ?? null)} in ${before!.version})` : ''}`
    const requester = {
      kind: at.created_by ? 'user' : 'service',
      via: 'bearer',
      userId: at.created_by ?? '',
      tenantId: at.tenant_id,
      roles: [],
      permissions: new Set<string>(),
      claims: { sub: at.created_by ?? '', role: 'service_role', app_metadata: { tenant_id: at.tenant_id } },
    } satisfies Caller
    const patched = await db.transaction((tx) => patchAsset(tx, requester, at.asset_id, { configuration: { train_id: at.training_id! }, version_notes: notes }, { candidate: !deploy }))
    const { rows: nv } = await db.query<{ id: number; version: string; status: string }>(`select id, version, status from public.asset_versions where asset_id = $1 and version = $2`, [at.asset_id, patched.data.version])
    const v = nv[0]
    await ctx.step(`versioning: version ${v.version} (${v.status}); ${patched.data.changes.join('; ')}`, 80)
    await setStatus(cfg.auto_deploy ? (reached ? 'deploying' : 'below_threshold') : 'not_requested', { version_id: v.id })

    // 5: deployment
    let deployment_status = !cfg.auto_deploy ? 'not_requested' : !reached ? 'below_threshold' : v.status === 'active' ? 'successful' : 'deploying'
    let deploymentId: string | null = null
    if (deployment_status === 'deploying') {
      const { auto_deploy: _a, performance_threshold: _p, metric: _m, rollback_on_failure, ...fields } = cfg
      const input: DeployInput = {
        ...fields,
        rollback_threshold: rollback_on_failure ? (fields.rollback_threshold ?? { error_rate: 0.05 }) : fields.deployment_strategy === 'blue_green' ? fields.rollback_threshold : undefined,
        monitor_seconds: rollback_on_failure ? fields.monitor_seconds : 0,
      }
      const started = await db.transaction(async (tx) => startDeployment(tx, null, (await ownAsset(tx, at.asset_id, true))!, v, input))
      deploymentId = started.id
      await setStatus('deploying', { deployment_id: started.id })
      await ctx.step(`deployment: ${input.deployment_strategy} deployment ${started.id} of ${v.version}`, 85)
      for (;;) {
        const { rows: dr } = await db.query<{ status: string; reason: string | null }>(`select status, reason from public.asset_deployments where id = $1`, [started.id])
        const st = dr[0]?.status ?? 'failed'
        if (st === 'completed' || st === 'failed' || st === 'rolled_back') {
          deployment_status = st === 'completed' ? 'successful' : st
          if (st !== 'completed') await ctx.log(`deployment: ${st}${dr[0]?.reason ? `: ${dr[0].reason}` : ''}; ${before?.version ?? 'the previous version'} keeps serving`, 'warn')
          break
        }
        await sleep(POLL_MS, undefined, { signal: ctx.signal })
      }
    }
    await setStatus(deployment_status)
    await ctx.step(`deployment: ${deployment_status}`, 99)
    return {
      model_performance: modelPerformance(metrics),
      metric: { name: metric, value, threshold, reached },
      deployment_status,
      model_version: v.version,
      version_status: (await versionRow(db, v.id)).status,
      deployment_id: deploymentId,
      model_id: s.model_id,
    }
  } catch (e) {
    if (mlJob && ctx.signal.reason instanceof JobCancelledError) await cancelJob(db, mlJob).catch(() => {})
    await setStatus('not_deployed').catch(() => {})
    throw e
  }
}

import { setTimeout as sleep } from 'node:timers/promises'
import type { Db, Sql } from '#app/db/db.server.ts'
import { getDb } from '#app/db/index.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError, conflict, notFound } from '#app/http/errors.server.ts'
import { cancelJob, enqueueJob, JobCancelledError, type JobContext } from '#app/jobs/jobs.server.ts'
import { checkCallbackUrl } from './address.server.ts'
import { ownAsset, publicUrl, type AssetRow, type VersionRow } from './assets.server.ts'
import { judgeHealth, judgeWindow, stepDue, type HealthCheck, type SampleRun, type Threshold, type Window } from './deploy-rules.ts'
import { runDefinition, toApiError, type ExecTarget } from './execute.server.ts'
import { sampleInputs } from './samples.server.ts'
import { executeBody, type DeployInput } from './schemas.ts'
import { newId, seal, unseal } from './secrets.server.ts'
import { asServer } from './session-role.server.ts'
import { iso } from './sources.server.ts'
import { enqueueWebhook, webhookDeliveries } from './webhooks.server.ts'

/*
  Deploying a version (MK spec "Deploy Specific Version", decision 063). The request checks and records the
  deployment and enqueues its job (`marketplace.deploy`, one per deployment) in the caller's transaction; the job moves
  the deployment through its states, each step written to the row (so a retried job resumes where it was), logged,
  and told to the notification webhooks (signed, enqueueWebhook):

  blue_green: health_check (the new version run on recorded inputs of past executions; failing → `failed`, the old
              version keeps all traffic) → switch (all traffic at once) → monitoring (rollback_threshold watched over
              the new version's live executions for monitor_seconds; a breach switches back) → completed
  canary:     canary (the new version takes steps[0] of executions, growing step by step once a step has lasted its
              interval and seen min_executions; a breach of rollback_threshold at any time removes it) → completed
*/

export const DEPLOY_JOB = 'marketplace.deploy'
const IN_FLIGHT = ['deploying', 'health_check', 'canary', 'monitoring']
const tickMs = () => Math.max(50, 1000 * (Number(process.env.HD_DEPLOY_TICK_SECONDS) || 5))

interface DeployConfig {
  steps: number[]
  step_interval_seconds: number
  min_executions: number
  monitor_seconds: number
  sample_size: number
}

interface DeploymentRow {
  id: string
  asset_id: string
  tenant_id: string
  version_id: number
  from_version_id: number | null
  strategy: 'blue_green' | 'canary'
  status: 'deploying' | 'health_check' | 'canary' | 'monitoring' | 'completed' | 'rolled_back' | 'failed'
  rollback_threshold: Threshold
  notification_webhooks: string[]
  job_id: string
  log: LogEntry[]
  config: DeployConfig
  step_index: number
  current_share: number | null
  step_started_at: Date | null
  switched_at: Date | null
  monitor_until: Date | null
  health_check: HealthCheck | null
  reason: string | null
  started_at: Date
  completed_at: Date | null
  version: string
  from_version: string | null
}

interface LogEntry {
  at: string
  event: string
  message: string
  [k: string]: unknown
}

const SELECT = `select d.*, v.version, f.version as from_version
  from public.asset_deployments d join public.asset_versions v on v.id = d.version_id left join public.asset_versions f on f.id = d.from_version_id`

async function loadDeployment(sql: Sql, id: string): Promise<DeploymentRow | null> {
  const { rows } = await sql.query<DeploymentRow>(`${SELECT} where d.id = $1`, [id])
  return rows[0] ?? null
}

const secretBinding = (assetId: string, tenantId: string) => `notify:${assetId}:${tenantId}`

/** The provider's signing secret of the asset's deployment notifications, made on first use. As the server. */
async function notificationSecret(sql: Sql, assetId: string, tenantId: string): Promise<string> {
  const { rows } = await sql.query<{ secret: string }>(`select secret from public.asset_notification_secrets where asset_id = $1`, [assetId])
  if (rows[0]) return unseal<string>(rows[0].secret, secretBinding(assetId, tenantId))
  const secret = `whsec_${newId('s').slice(2)}${newId('s').slice(2)}`
  await sql.query(`insert into public.asset_notification_secrets (asset_id, tenant_id, secret) values ($1, $2, $3) on conflict (asset_id) do nothing`, [
    assetId,
    tenantId,
    seal(secret, secretBinding(assetId, tenantId)),
  ])
  return notificationSecret(sql, assetId, tenantId)
}

/** An asset of the caller's tenant, locked; another tenant's published asset is a 403 (as PATCH), anything else 404. */
export async function providerAsset(sql: Sql, assetId: string, what: string): Promise<AssetRow> {
  const a = await ownAsset(sql, assetId, true)
  if (a) return a
  const { rows } = await sql.query(`select 1 from public.marketplace_assets where id = $1`, [assetId])
  if (rows.length) throw new ApiError(403, 'FORBIDDEN', `Only the asset's provider can ${what} it`, { asset_id: assetId })
  throw notFound('Asset', assetId)
}

// ---------------------------------------------------------------- the request

/** POST /assets/{asset_id}/versions/{version}/deploy, in the caller's transaction. */
export async function deployVersion(sql: Sql, caller: Caller, assetId: string, version: string, input: DeployInput) {
  const a = await providerAsset(sql, assetId, 'deploy')
  const { rows: vs } = await sql.query<VersionRow>(`select * from public.asset_versions where asset_id = $1 and version = $2`, [assetId, version])
  const v = vs[0]
  if (!v) throw notFound('Version', version)
  if (a.active_version_id === v.id) throw conflict(`version: ${version} is already the active version`, { field: 'version', version })
  const d = await startDeployment(sql, caller, a, v, input)
  return { data: deploymentAnswer(d, a, input, d.secret) }
}

interface Started {
  id: string
  version: string
  from_version: string | null
  started_at: Date
  secret: string | null
}

/** Checks the targets, records the deployment and enqueues its job (the caller's transaction). Used by training's auto-deploy too. */
export async function startDeployment(sql: Sql, caller: Caller | null, a: AssetRow, v: Pick<VersionRow, 'id' | 'version'>, input: DeployInput): Promise<Started> {
  const webhooks: string[] = []
  for (const [i, url] of input.notification_webhooks.entries()) webhooks.push((await checkCallbackUrl(url, `notification_webhooks.${i}`)).url.href)
  return asServer(sql, async () => {
    // A deployment whose job died (failed, cancelled, expired) no longer holds the asset.
    await sql.query(
      `update public.asset_deployments d set status = 'failed', completed_at = now(), reason = 'its job stopped: ' || coalesce(j.error, j.status)
         from public.jobs j where j.id = d.job_id and d.asset_id = $1 and d.status = any($2::text[]) and j.status in ('failed', 'cancelled')`,
      [a.id, `{${IN_FLIGHT.join(',')}}`],
    )
    const { rows: busy } = await sql.query<{ id: string; status: string }>(`select id, status from public.asset_deployments where asset_id = $1 and status = any($2::text[])`, [
      a.id,
      `{${IN_FLIGHT.join(',')}}`,
    ])
    if (busy[0]) throw conflict(`A deployment of this asset is in progress (${busy[0].id}, ${busy[0].status}): wait for it to end`, { deployment_id: busy[0].id, status: busy[0].status })
    const secret = webhooks.length ? await notificationSecret(sql, a.id, a.tenant_id) : null
    const id = newId('deploy')
    const createdBy = caller?.kind === 'user' ? caller.userId : null
    const job = await enqueueJob(sql, DEPLOY_JOB, { deploymentId: id }, { tenantId: a.tenant_id, createdBy })
    const config: DeployConfig = {
      steps: input.deployment_strategy === 'canary' ? (input.canary?.steps ?? [0.05, 0.25, 0.5]) : [],
      step_interval_seconds: input.canary?.step_interval_seconds ?? 300,
      min_executions: input.min_executions,
      monitor_seconds: input.rollback_threshold ? input.monitor_seconds : 0,
      sample_size: input.health_check.sample_size,
    }
    const log: LogEntry[] = [{ at: iso(new Date()), event: 'requested', message: `${input.deployment_strategy} deploy of ${v.version} requested` }]
    const { rows } = await sql.query<{ started_at: Date; from_version: string | null }>(
      `insert into public.asset_deployments (id, asset_id, tenant_id, version_id, from_version_id, strategy, canary_steps, rollback_threshold, notification_webhooks, job_id, log, config, created_by)
       values ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb, $9::text::jsonb, $10, $11::text::jsonb, $12::text::jsonb, $13)
       returning started_at, (select version from public.asset_versions where id = $5) as from_version`,
      [id, a.id, a.tenant_id, v.id, a.active_version_id, input.deployment_strategy, JSON.stringify(config.steps), JSON.stringify(input.rollback_threshold ?? {}), JSON.stringify(webhooks), job.id, JSON.stringify(log), JSON.stringify(config), createdBy],
    )
    return { id, version: v.version, from_version: rows[0].from_version, started_at: rows[0].started_at, secret }
  })
}

function estimatedSeconds(input: DeployInput) {
  if (input.deployment_strategy === 'canary') {
    const c = input.canary ?? { steps: [0.05, 0.25, 0.5], step_interval_seconds: 300 }
    return c.steps.length * c.step_interval_seconds
  }
  return 10 + (input.rollback_threshold ? input.monitor_seconds : 0)
}

function deploymentAnswer(d: Started, a: AssetRow, input: DeployInput, secret: string | null) {
  return {
    deployment_id: d.id,
    asset_id: a.id,
    version: d.version,
    from_version: d.from_version,
    status: 'deploying',
    strategy: input.deployment_strategy,
    started_at: iso(d.started_at),
    estimated_completion: iso(new Date(d.started_at.getTime() + 1000 * estimatedSeconds(input))),
    rollback_threshold: input.rollback_threshold ?? null,
    ...(input.deployment_strategy === 'canary' ? { canary: { steps: input.canary?.steps ?? [0.05, 0.25, 0.5], step_interval_seconds: input.canary?.step_interval_seconds ?? 300, min_executions: input.min_executions } } : {}),
    notifications: {
      webhooks: input.notification_webhooks,
      // signs the notifications: `HotDash-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`
      webhook_secret: secret,
    },
    status_url: publicUrl(`/deployments/${d.id}`),
  }
}

// ---------------------------------------------------------------- reading

/** The new version's executions since it took traffic (and since the current canary step began). */
async function liveWindow(sql: Sql, d: Pick<DeploymentRow, 'version_id' | 'switched_at' | 'step_started_at'>) {
  const since = d.switched_at!
  const step = d.step_started_at ?? since
  const { rows } = await sql.query<{ ran: number; errors: number; avg: number | null; step_ran: number; step_seconds: number | null; at: string }>(
    `select count(*) filter (where status <> 'rejected')::int as ran,
            count(*) filter (where status = 'error')::int as errors,
            avg(latency_ms) filter (where status = 'success') as avg,
            count(*) filter (where status <> 'rejected' and created_at >= $3)::int as step_ran,
            extract(epoch from now() - $3::timestamptz)::float8 as step_seconds,
            to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
       from public.asset_executions where version_id = $1 and created_at >= $2`,
    [d.version_id, since.toISOString(), step.toISOString()],
  )
  const r = rows[0]
  const w: Window = { ran: r.ran, errors: r.errors, avg_response_time: r.avg === null ? null : Math.round(Number(r.avg) * 100) / 100 }
  return { ...w, step_ran: r.step_ran, step_seconds: Number(r.step_seconds ?? 0), from: since.toISOString(), to: r.at }
}

function windowView(w: Awaited<ReturnType<typeof liveWindow>>) {
  return { from: w.from, to: w.to, executions: w.ran, errors: w.errors, error_rate: w.ran ? w.errors / w.ran : null, avg_response_time: w.avg_response_time }
}

const summary = (d: DeploymentRow) => ({ deployment_id: d.id, asset_id: d.asset_id, version: d.version, from_version: d.from_version, strategy: d.strategy, status: d.status })

/** GET /deployments/{deployment_id}: the deployment as the caller's tenant sees it (RLS), with its live window and notifications. */
export async function getDeployment(sql: Sql, id: string) {
  const d = await loadDeployment(sql, id)
  if (!d) throw notFound('Deployment', id)
  const w = d.switched_at ? await liveWindow(sql, d) : null
  return {
    data: {
      ...summary(d),
      reason: d.reason,
      started_at: iso(d.started_at),
      switched_at: d.switched_at ? iso(d.switched_at) : null,
      completed_at: d.completed_at ? iso(d.completed_at) : null,
      rollback_threshold: Object.keys(d.rollback_threshold).length ? d.rollback_threshold : null,
      config: d.config,
      ...(d.strategy === 'canary' ? { canary: { step: d.step_index + 1, steps: d.config.steps, traffic_share: d.current_share === null ? null : Number(d.current_share) } } : {}),
      monitor_until: d.monitor_until ? iso(d.monitor_until) : null,
      health_check: d.health_check,
      live_window: w ? windowView(w) : null,
      log: d.log,
      job_id: d.job_id,
      notifications: { webhooks: d.notification_webhooks, deliveries: d.notification_webhooks.length ? await webhookDeliveries(sql, d.id) : [] },
    },
  }
}

/** DELETE /deployments/{deployment_id}: stops a deployment in flight; its job rolls back whatever traffic the new version had. */
export async function cancelDeployment(sql: Sql, id: string) {
  const d = await loadDeployment(sql, id)
  if (!d) throw notFound('Deployment', id)
  if (!IN_FLIGHT.includes(d.status)) throw conflict(`The deployment has already ended (${d.status})`, { deployment_id: id, status: d.status })
  await cancelJob(sql, d.job_id)
  // A job that had not started never will: end the deployment here (nothing took traffic yet).
  await asServer(sql, () =>
    sql.query(
      `update public.asset_deployments d set status = 'failed', reason = 'cancelled', completed_at = now() from public.jobs j
        where d.id = $1 and j.id = d.job_id and d.status = 'deploying' and j.started_at is null`,
      [id],
    ),
  )
  return { data: { deployment_id: id, status: 'cancelling', status_url: publicUrl(`/deployments/${id}`) } }
}

/** The asset's newest deployment (the versions list shows it). */
export async function latestDeployment(sql: Sql, assetId: string) {
  const { rows } = await sql.query<DeploymentRow>(`${SELECT} where d.asset_id = $1 order by d.started_at desc, d.id limit 1`, [assetId])
  const d = rows[0]
  return d ? { deployment_id: d.id, version: d.version, strategy: d.strategy, status: d.status, reason: d.reason, started_at: iso(d.started_at), completed_at: d.completed_at ? iso(d.completed_at) : null } : null
}

// ---------------------------------------------------------------- the job

class Deployer {
  constructor(
    private db: Db,
    private d: DeploymentRow,
    private ctx: Pick<JobContext, 'log' | 'progress' | 'signal'>,
  ) {}

  /** Appends to the row's log (and the job's), and tells the webhooks. */
  async record(event: string, message: string, extra: Record<string, unknown> = {}, set: Record<string, unknown> = {}) {
    const entry: LogEntry = { at: iso(new Date()), event, message, ...extra }
    const cols = Object.keys(set)
    await this.db.query(
      `update public.asset_deployments set log = log || $2::text::jsonb${cols.map((c, i) => `, ${c} = $${i + 3}`).join('')} where id = $1`,
      [this.d.id, JSON.stringify([entry]), ...cols.map((c) => (set[c] instanceof Date ? (set[c] as Date).toISOString() : set[c]))],
    )
    await this.ctx.log(`${event}: ${message}`, event === 'failed' || event === 'rolled_back' ? 'warn' : 'info')
    await this.notify(event, { message, ...extra })
  }

  async notify(event: string, extra: Record<string, unknown>) {
    if (!this.d.notification_webhooks.length) return
    const d = (await loadDeployment(this.db, this.d.id))!
    const secret = await notificationSecret(this.db, d.asset_id, d.tenant_id)
    const payload = {
      ...summary(d),
      traffic_share: d.strategy === 'canary' && d.current_share !== null ? Number(d.current_share) : d.switched_at ? 1 : 0,
      ...extra,
    }
    for (const url of d.notification_webhooks) {
      try {
        await enqueueWebhook(this.db, { tenantId: d.tenant_id, url, secret, event: `deployment.${event}`, payload, subject: d.id, field: 'notification_webhooks' })
      } catch (e) {
        await this.ctx.log(`notification to a webhook refused: ${e instanceof ApiError ? e.message : String(e)}`, 'warn')
      }
    }
  }

  target(asset: AssetRow, v: VersionRow): ExecTarget {
    return { asset: { id: asset.id, tenant_id: asset.tenant_id, status: asset.status, pricing: asset.pricing, configuration: asset.configuration }, version: { id: v.id, version: v.version, definition: v.definition }, owner: true }
  }

  async healthCheck(): Promise<boolean> {
    await this.db.query(`update public.asset_deployments set status = 'health_check' where id = $1`, [this.d.id])
    await this.ctx.progress(10, `Health check of ${this.d.version} on recorded inputs`)
    const asset = (await ownAsset(this.db, this.d.asset_id))!
    const { rows } = await this.db.query<VersionRow>(`select * from public.asset_versions where id = $1`, [this.d.version_id])
    const t = this.target(asset, rows[0])
    const params = executeBody.parse({}).parameters
    const runs: SampleRun[] = []
    for (const input of await sampleInputs(this.db, this.d.asset_id, this.d.config.sample_size)) {
      this.ctx.signal.throwIfAborted()
      const started = performance.now()
      try {
        await runDefinition(this.db, t, input, params)
        runs.push({ ok: true, latency_ms: performance.now() - started })
      } catch (e) {
        const err = toApiError(e, true)
        runs.push({ ok: false, latency_ms: performance.now() - started, code: err.code, message: err.message })
      }
    }
    const h = judgeHealth(runs, this.d.rollback_threshold)
    await this.db.query(`update public.asset_deployments set health_check = $2::text::jsonb where id = $1`, [this.d.id, JSON.stringify(h)])
    const figures = { samples: h.samples, passed: h.passed, failed: h.failed, error_rate: h.error_rate, avg_response_time: h.avg_response_time }
    if (!h.ok) {
      await this.db.query(`update public.asset_versions set status = 'failed' where id = $1 and status <> 'active'`, [this.d.version_id])
      await this.record('failed', `health check failed: ${h.reasons.join('; ')}; ${this.d.from_version ?? 'the old version'} keeps all traffic`, { health_check: figures }, { status: 'failed', reason: `health check failed: ${h.reasons.join('; ')}`, completed_at: new Date() })
      return false
    }
    await this.record('health_check_passed', `${h.passed} of ${h.samples} recorded inputs answered by ${this.d.version}`, { health_check: figures })
    return true
  }

  /** All traffic to the new version; false when the asset changed under the deployment. */
  async switchOver(expect: 'active' | 'canary'): Promise<boolean> {
    const d = this.d
    const ok = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<AssetRow>(`select * from public.assets where id = $1 for update`, [d.asset_id])
      const a = rows[0]
      if (!a || (expect === 'active' ? a.active_version_id !== d.from_version_id : a.canary_version_id !== d.version_id)) return false
      await tx.query(`update public.asset_versions set status = 'deprecated' where asset_id = $1 and id <> $2 and status in ('active', 'canary')`, [d.asset_id, d.version_id])
      await tx.query(`update public.asset_versions set status = 'active', deployed_at = now() where id = $1`, [d.version_id])
      await tx.query(`update public.assets set active_version_id = $2, canary_version_id = null, canary_share = null where id = $1`, [d.asset_id, d.version_id])
      return true
    })
    if (!ok) await this.interrupted()
    return ok
  }

  async interrupted() {
    await this.db.query(`update public.asset_versions set status = 'candidate' where id = $1 and status = 'canary'`, [this.d.version_id])
    await this.record('failed', 'the asset was changed while the deployment ran (another version was made active); stopped', {}, { status: 'failed', reason: 'the asset changed during the deployment', completed_at: new Date() })
  }

  async rollBack(w: Awaited<ReturnType<typeof liveWindow>>, reasons: string[]) {
    const d = this.d
    await this.db.transaction(async (tx) => {
      await tx.query(`select 1 from public.assets where id = $1 for update`, [d.asset_id])
      if (d.strategy === 'canary') {
        await tx.query(`update public.assets set canary_version_id = null, canary_share = null where id = $1 and canary_version_id = $2`, [d.asset_id, d.version_id])
      } else if (d.from_version_id) {
        const back = await tx.query(`update public.assets set active_version_id = $2 where id = $1 and active_version_id = $3`, [d.asset_id, d.from_version_id, d.version_id])
        // only when the new version still had the traffic (nobody made another version active meanwhile)
        if (back.rowCount) await tx.query(`update public.asset_versions set status = 'active' where id = $1`, [d.from_version_id])
      }
      await tx.query(`update public.asset_versions set status = 'rolled_back' where id = $1`, [d.version_id])
    })
    const back = d.strategy === 'canary' ? `${d.from_version ?? 'the active version'} keeps all traffic` : `traffic switched back to ${d.from_version}`
    await this.record('rolled_back', `${reasons.join('; ')}: rolled back, ${back}`, { window: windowView(w) }, { status: 'rolled_back', reason: reasons.join('; '), completed_at: new Date(), current_share: null })
  }

  /** One look at the live window; true when the deployment has ended. */
  async watch(): Promise<boolean> {
    const d = this.d
    const w = await liveWindow(this.db, d)
    const verdict = judgeWindow(w, d.rollback_threshold, d.config.min_executions)
    if (verdict.breached) {
      await this.rollBack(w, verdict.reasons)
      return true
    }
    if (d.status === 'monitoring') {
      const { rows } = await this.db.query<{ over: boolean }>(`select now() >= $1::timestamptz as over`, [d.monitor_until])
      const left = Math.max(0, (d.monitor_until!.getTime() - Date.now()) / 1000)
      await this.ctx.progress(60 + 40 * (1 - left / Math.max(1, d.config.monitor_seconds)), `Watching ${d.version}: ${w.ran} executions, ${w.errors} errors`)
      if (!rows[0].over) return false
      const judged = verdict.judged ? `within the threshold over ${w.ran} executions` : `only ${w.ran} execution(s) seen (fewer than ${d.config.min_executions} to judge)`
      await this.record('completed', `${d.version} kept all traffic: ${judged}`, { window: windowView(w) }, { status: 'completed', completed_at: new Date() })
      return true
    }
    // canary
    const { rows: a } = await this.db.query<{ canary_version_id: number | null }>(`select canary_version_id from public.assets where id = $1`, [d.asset_id])
    if (a[0]?.canary_version_id !== d.version_id) {
      await this.interrupted()
      return true
    }
    const steps = d.config.steps
    await this.ctx.progress((100 * d.step_index) / (steps.length + 1), `Canary step ${d.step_index + 1} of ${steps.length}: ${w.step_ran} executions this step`)
    if (!stepDue(w.step_ran, w.step_seconds, d.config.step_interval_seconds, d.config.min_executions)) return false
    const next = d.step_index + 1
    if (next < steps.length) {
      await this.db.query(`update public.assets set canary_share = $3 where id = $1 and canary_version_id = $2`, [d.asset_id, d.version_id, steps[next]])
      await this.record('canary_step', `${d.version} now takes ${Math.round(steps[next] * 100)}% of executions (step ${next + 1} of ${steps.length})`, { step: next + 1, share: steps[next], window: windowView(w) }, {
        step_index: next,
        current_share: steps[next],
        step_started_at: new Date(),
      })
      return false
    }
    if (!(await this.switchOver('canary'))) return true
    await this.record('completed', `${d.version} takes all traffic after ${steps.length} canary step(s)`, { window: windowView(w) }, { status: 'completed', completed_at: new Date(), current_share: 1 })
    return true
  }

  async startCanary(): Promise<boolean> {
    const d = this.d
    const share = d.config.steps[0]
    const ok = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<AssetRow>(`select * from public.assets where id = $1 for update`, [d.asset_id])
      if (!rows[0] || rows[0].active_version_id !== d.from_version_id) return false
      await tx.query(`update public.asset_versions set status = 'candidate' where asset_id = $1 and status = 'canary' and id <> $2`, [d.asset_id, d.version_id])
      await tx.query(`update public.asset_versions set status = 'canary' where id = $1`, [d.version_id])
      await tx.query(`update public.assets set canary_version_id = $2, canary_share = $3 where id = $1`, [d.asset_id, d.version_id, share])
      return true
    })
    if (!ok) {
      await this.interrupted()
      return false
    }
    const now = new Date()
    await this.record('canary_step', `${d.version} takes ${Math.round(share * 100)}% of executions (step 1 of ${d.config.steps.length})`, { step: 1, share }, { status: 'canary', step_index: 0, current_share: share, step_started_at: now, switched_at: now })
    return true
  }

  /** Runs the deployment from its current state to its end. */
  async run() {
    for (;;) {
      this.d = (await loadDeployment(this.db, this.d.id))!
      const d = this.d
      if (!IN_FLIGHT.includes(d.status)) return { deployment_id: d.id, status: d.status }
      if ((d.status === 'deploying' || d.status === 'health_check') && d.strategy === 'blue_green') {
        if (!(await this.healthCheck())) continue
        if (!(await this.switchOver('active'))) continue
        const watch = d.config.monitor_seconds > 0
        await this.record('switched', `${d.version} takes all traffic${d.from_version ? ` (was ${d.from_version})` : ''}${watch ? `; watching the threshold for ${d.config.monitor_seconds} s` : ''}`, {}, {
          status: watch ? 'monitoring' : 'completed',
          switched_at: new Date(),
          ...(watch ? { monitor_until: new Date(Date.now() + 1000 * d.config.monitor_seconds) } : { completed_at: new Date() }),
        })
        continue
      }
      if (d.status === 'deploying') {
        await this.startCanary()
        continue
      }
      if (await this.watch()) continue
      await sleep(tickMs(), undefined, { signal: this.ctx.signal })
    }
  }
}

/** The `marketplace.deploy` job (registered in jobs.server.ts). A cancelled job rolls its deployment back. */
export async function runDeployment(data: { deploymentId: string }, ctx: Pick<JobContext, 'log' | 'progress' | 'signal'>) {
  const db = await getDb()
  const d = await loadDeployment(db, data.deploymentId)
  if (!d) return { skipped: 'the deployment is gone (its asset was deleted)' }
  const deployer = new Deployer(db, d, ctx)
  try {
    return await deployer.run()
  } catch (e) {
    if (ctx.signal.reason instanceof JobCancelledError) {
      const now = (await loadDeployment(db, d.id))!
      if (IN_FLIGHT.includes(now.status)) {
        const quiet = { ...ctx, log: async () => {}, progress: async () => {} }
        const w = now.switched_at ? await liveWindow(db, now) : { ran: 0, errors: 0, avg_response_time: null, step_ran: 0, step_seconds: 0, from: '', to: '' }
        if (now.switched_at) await new Deployer(db, now, quiet).rollBack(w, ['the deployment was cancelled'])
        else await new Deployer(db, now, quiet).record('failed', 'the deployment was cancelled before the new version took traffic', {}, { status: 'failed', reason: 'cancelled', completed_at: new Date() })
      }
    }
    throw e
  }
}

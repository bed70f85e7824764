import type { Db } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError, badRequest, notFound } from '#app/http/errors.server.ts'
import { ConnectorError, runQuery } from './connectors.server.ts'
import type { Definition, ModelDefinition, SqlDefinition } from './definition.server.ts'
import { modelBundle, modelRecord, scoreModel } from './model-exec.server.ts'
import { recordSample } from './samples.server.ts'
import type { ExecuteInput, Pricing } from './schemas.ts'
import { newId, seal, unseal } from './secrets.server.ts'
import { loadSource, sourceSecret } from './sources.server.ts'
import { FieldError, parameterValues } from './sql-query.ts'
import type { Secret } from './connectors.server.ts'
import { iso } from './sources.server.ts'

/*
  Executing an asset (MK spec "Execute Analytics") and the meter. The provider's internals (version definition,
  model, data source credentials) are read by the server; the caller only sees the asset if it is their own or
  published. A consumer of another tenant is subscribed on first use and metered against the asset's pricing: past
  the free tier of the period, without a billing agreement, the execution is refused with 402. Every execution that
  reaches the asset — success, failure or refusal — is one row of public.asset_executions, written by the server after
  the answer is known, in a transaction that holds the (asset, consumer) lock so the free tier is exact under
  concurrency.
*/

export interface ExecTarget {
  asset: { id: string; tenant_id: string; status: string; pricing: Pricing; configuration: { risk_thresholds?: { medium: number; high: number } } }
  version: { id: number; version: string; definition: Definition }
  owner: boolean
}

interface AssetLookup {
  id: string
  tenant_id: string
  status: string
  pricing: Pricing
  configuration: ExecTarget['asset']['configuration']
  active_version_id: number | null
  canary_version_id: number | null
  canary_share: number | null
  active: { id: number; version: string; definition: Definition } | null
  canary: { id: number; version: string; definition: Definition } | null
}

/** The asset as the caller may execute it, and the version that takes this execution (the canary its share). */
export async function executionTarget(db: Db, caller: Caller, assetId: string, pick: () => number = Math.random): Promise<ExecTarget> {
  const { rows } = await db.query<AssetLookup>(
    `select a.id, a.tenant_id, a.status, a.pricing, a.configuration, a.active_version_id, a.canary_version_id, a.canary_share,
            (select jsonb_build_object('id', v.id, 'version', v.version, 'definition', v.definition) from public.asset_versions v where v.id = a.active_version_id) as active,
            (select jsonb_build_object('id', v.id, 'version', v.version, 'definition', v.definition) from public.asset_versions v where v.id = a.canary_version_id) as canary
       from public.assets a where a.id = $1`,
    [assetId],
  )
  const a = rows[0]
  const owner = a?.tenant_id === caller.tenantId
  if (!a || (!owner && a.status !== 'published')) throw notFound('Asset', assetId)
  if (!a.active) throw new ApiError(409, 'CONFLICT', 'The asset has no deployed version', { asset_id: assetId })
  const version = a.canary && a.canary_share && pick() < Number(a.canary_share) ? a.canary : a.active
  return { asset: { id: a.id, tenant_id: a.tenant_id, status: a.status, pricing: a.pricing, configuration: a.configuration }, version, owner }
}

export const priced = (p: Pricing) => p.model !== 'free' && (p.price ?? 0) > 0

interface Subscription {
  id: number
  billing_agreement_at: Date | null
  webhook_secret: string
}

/** The consumer's subscription, made on first use (with its webhook secret). */
export async function subscription(db: Db, caller: Caller, asset: ExecTarget['asset'], opts: { acceptPricing?: boolean } = {}): Promise<Subscription & { created: boolean }> {
  const { rows: found } = await db.query<Subscription>(
    `select id, billing_agreement_at, webhook_secret from public.asset_subscriptions where asset_id = $1 and consumer_tenant_id = $2`,
    [asset.id, caller.tenantId],
  )
  if (found[0] && !(opts.acceptPricing && !found[0].billing_agreement_at)) return { ...found[0], created: false }
  const secret = `whsec_${newId('s').slice(2)}${newId('s').slice(2)}`
  const { rows } = await db.query<Subscription & { created: boolean }>(
    `insert into public.asset_subscriptions (asset_id, provider_tenant_id, consumer_tenant_id, webhook_secret, billing_agreement_at, created_by)
     values ($1, $2, $3, $4, case when $5 then now() end, $6)
     on conflict (asset_id, consumer_tenant_id) do update set status = 'active',
       billing_agreement_at = coalesce(public.asset_subscriptions.billing_agreement_at, excluded.billing_agreement_at)
     returning id, billing_agreement_at, webhook_secret, (xmax = 0) as created`,
    [asset.id, asset.tenant_id, caller.tenantId, seal(secret, `${asset.id}:${caller.tenantId}`), opts.acceptPricing === true, caller.kind === 'user' ? caller.userId : null],
  )
  return rows[0]
}

export function webhookSecret(sub: Pick<Subscription, 'webhook_secret'>, assetId: string, tenantId: string) {
  return unseal<string>(sub.webhook_secret, `${assetId}:${tenantId}`)
}

function periodStart(p: Pricing) {
  return p.free_tier?.period === 'daily' ? 'day' : 'month'
}

export function paymentRequired(asset: ExecTarget['asset'], used: number) {
  const p = asset.pricing
  return new ApiError(402, 'PAYMENT_REQUIRED', `The free tier of ${p.free_tier?.requests ?? 0} requests per ${periodStart(p)} is used up: accept the pricing to continue`, {
    asset_id: asset.id,
    free_tier: { requests: p.free_tier?.requests ?? 0, period: p.free_tier?.period ?? 'monthly', used },
    price: p.price,
    currency: p.currency,
    pricing_model: p.model,
    billing: `POST /api/v1/analytics/assets/${asset.id}/subscription with {"accept_pricing": true}`,
  })
}

export async function usedThisPeriod(db: Db, asset: ExecTarget['asset'], tenantId: string) {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from public.asset_executions where asset_id = $1 and consumer_tenant_id = $2 and status = 'success' and created_at >= date_trunc('${periodStart(asset.pricing)}', now())`,
    [asset.id, tenantId],
  )
  return rows[0].n
}

export interface Meter {
  id: string
  status: 'success' | 'error' | 'rejected'
  errorCode?: string
  latencyMs: number
  dataPoints?: number
  batchId?: string
}

/**
 * Records one execution; for a metered success re-checks the free tier under the (asset, consumer) lock and either
 * bills it, or (no billing agreement) records a refusal and throws the 402.
 */
export async function recordExecution(db: Db, caller: Caller, t: ExecTarget, m: Meter, sub: Subscription | null): Promise<{ billable: boolean }> {
  return db.transaction(async (tx) => {
    let billable = false
    let status = m.status
    let code = m.errorCode ?? null
    let refusal: ApiError | null = null
    if (!t.owner && status === 'success' && priced(t.asset.pricing)) {
      await tx.query(`select pg_advisory_xact_lock(hashtext($1))`, [`${t.asset.id}:${caller.tenantId}`])
      const { rows } = await tx.query<{ n: number }>(
        `select count(*)::int as n from public.asset_executions where asset_id = $1 and consumer_tenant_id = $2 and status = 'success' and created_at >= date_trunc('${periodStart(t.asset.pricing)}', now())`,
        [t.asset.id, caller.tenantId],
      )
      const used = rows[0].n
      if (used >= (t.asset.pricing.free_tier?.requests ?? 0)) {
        if (sub?.billing_agreement_at) billable = true
        else {
          status = 'rejected'
          code = 'PAYMENT_REQUIRED'
          refusal = paymentRequired(t.asset, used)
        }
      }
    }
    await tx.query(
      `insert into public.asset_executions (id, asset_id, version_id, version, provider_tenant_id, consumer_tenant_id, consumer_user_id, consumer_api_key_id, batch_id,
         status, error_code, latency_ms, data_points, price, currency, billable)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
      [
        m.id,
        t.asset.id,
        t.version.id,
        t.version.version,
        t.asset.tenant_id,
        caller.tenantId,
        caller.kind === 'api_key' ? null : caller.userId,
        caller.apiKeyId ?? null,
        m.batchId ?? null,
        status,
        code,
        Math.max(0, m.latencyMs),
        m.dataPoints ?? null,
        billable ? (t.asset.pricing.price ?? 0) : 0,
        t.asset.pricing.currency ?? null,
        billable,
      ],
    )
    if (refusal) return { billable, refusal }
    return { billable }
  }).then((r) => {
    if ('refusal' in r && r.refusal) throw r.refusal
    return { billable: r.billable }
  })
}

/** Runs a version's definition on one input. FieldError for bad input; ConnectorError when a source fails. */
export async function runDefinition(db: Db, t: ExecTarget, input: Record<string, unknown>, params: ExecuteInput['parameters']) {
  const def = t.version.definition
  if (def.kind === 'model') {
    const record = modelRecord(def, input)
    const b = await modelBundle(db, (def as ModelDefinition).model_version_id)
    return scoreModel(b, def as ModelDefinition, record, params, t.asset.configuration.risk_thresholds)
  }
  const d = def as SqlDefinition
  const byName = parameterValues(d.parameters, input)
  const source = await loadSource(db, d.source_id)
  const secret: Secret = await sourceSecret(db, d.source_id)
  const out = await runQuery(source, secret, d.query, d.order.map((n) => byName[n]), { timeoutMs: d.timeout_ms, maxRows: d.max_rows })
  return { ids: {}, results: { rows: out.rows, row_count: out.rows.length, truncated: out.truncated, columns: out.columns }, dataPoints: out.rows.length }
}

export function toApiError(e: unknown, owner: boolean): ApiError {
  if (e instanceof FieldError) return badRequest(e.field, e.message)
  if (e instanceof ConnectorError) {
    if (e.kind === 'timeout') return new ApiError(504, 'REQUEST_TIMEOUT', 'The asset ran past its time limit')
    return new ApiError(502, 'DATABASE_ERROR', owner ? `The asset's data source failed: ${e.message}` : "The asset's data source failed")
  }
  if (e instanceof ApiError) return e
  return new ApiError(500, 'INTERNAL_ERROR', 'The asset failed')
}

/** One execution, metered; `batchId` tags the meter row of a batch's record (batch.server.ts runs records through here). */
export async function executeAsset(db: Db, caller: Caller, assetId: string, input: ExecuteInput, opts: { batchId?: string } = {}) {
  const { batchId } = opts
  const started = performance.now()
  const t = await executionTarget(db, caller, assetId)
  let sub: Subscription | null = null
  if (!t.owner) {
    sub = await subscription(db, caller, t.asset)
    // A quick refusal before running anything; recordExecution decides exactly under the lock.
    if (priced(t.asset.pricing) && !sub.billing_agreement_at) {
      const used = await usedThisPeriod(db, t.asset, caller.tenantId)
      if (used >= (t.asset.pricing.free_tier?.requests ?? 0)) {
        await recordExecution(db, caller, t, { id: newId('exec'), status: 'rejected', errorCode: 'PAYMENT_REQUIRED', latencyMs: performance.now() - started, batchId }, sub)
        throw paymentRequired(t.asset, used)
      }
    }
  }
  const id = newId('exec')
  let answer: Awaited<ReturnType<typeof runDefinition>>
  try {
    answer = await runDefinition(db, t, input.input_data, input.parameters)
  } catch (e) {
    const err = toApiError(e, t.owner)
    await recordExecution(db, caller, t, { id, status: err.status < 500 ? 'rejected' : 'error', errorCode: err.code, latencyMs: performance.now() - started, batchId }, sub)
    throw err
  }
  const elapsed = performance.now() - started
  await recordExecution(db, caller, t, { id, status: 'success', latencyMs: elapsed, dataPoints: answer.dataPoints, batchId }, sub)
  // the inputs a blue-green deploy health-checks a new version on (decision 063)
  await recordSample(db, t, input.input_data).catch(() => {})
  return {
    data: {
      execution_id: id,
      asset_id: assetId,
      ...answer.ids,
      results: input.output_options.format === 'compact' ? compact(answer.results) : answer.results,
      ...(input.output_options.include_metadata
        ? {
            metadata: {
              model_version: t.version.version,
              execution_time_ms: Math.round(elapsed * 100) / 100,
              data_points_used: answer.dataPoints,
              prediction_date: iso(new Date()),
            },
          }
        : {}),
    },
  }
}

function compact(r: Record<string, unknown>) {
  const { probabilities: _p, key_factors: _k, columns: _c, ...rest } = r
  return rest
}

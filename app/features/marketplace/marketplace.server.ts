import { getDb } from '#app/db/index.server.ts'
import type { Sql } from '#app/db/db.server.ts'
import type { Caller } from '#app/features/auth/auth.server.ts'
import { ApiError } from '#app/http/errors.server.ts'
import { executeAsset, executionTarget, subscription, webhookSecret } from './execute.server.ts'
import { listVersions as versionsOf } from './assets.server.ts'
import { latestDeployment } from './deploy.server.ts'
import { consumerUsage } from './metering.server.ts'
import type { ExecuteInput } from './schemas.ts'

/*
  The marketplace's public functions: what the api.v1.analytics.* routes and the pages call.
  Assets, versions and data sources run in the caller's transaction (RLS); execution opens its own transactions
  (the meter must be written whether the asset succeeds or not).
*/

export { createAsset, deleteAsset, getAsset, listAssets, patchAsset } from './assets.server.ts'
export { connectSource, listSources, testDataSource } from './sources.server.ts'
export { assetBatchIds, consumerBreakdown, recentExecutions, usageSeries } from './usage.server.ts'
export { cancelDeployment, deployVersion, getDeployment } from './deploy.server.ts'
export { assetTrainingLogs, assetTrainings, getAssetTraining, trainAsset } from './trainings.server.ts'
export { getBatchResults, getBatchStatus, publicOrigin, startBatch } from './batch.server.ts'
export { enqueueWebhook, SIGNATURE_HEADER, verifyWebhookSignature, webhookDeliveries } from './webhooks.server.ts'

/** GET /assets/{asset_id}/versions: every version (status, metrics, changes, traffic share) and the newest deployment. */
export async function listVersions(sql: Sql, assetId: string) {
  const r = await versionsOf(sql, assetId)
  return { ...r, meta: { ...r.meta, deployment: await latestDeployment(sql, assetId) } }
}

export async function execute(caller: Caller, assetId: string, input: ExecuteInput) {
  return executeAsset(await getDb(), caller, assetId, input)
}

/** The caller's tenant's subscription to an asset and its usage against the free tier. */
export async function mySubscription(sql: Sql, caller: Caller, assetId: string) {
  const db = await getDb()
  const t = await executionTarget(db, caller, assetId)
  if (t.owner) throw new ApiError(409, 'CONFLICT', 'You provide this asset: providers do not subscribe to their own assets', { asset_id: assetId })
  const { rows } = await sql.query(`select id, status, billing_agreement_at, created_at from public.asset_subscriptions where asset_id = $1 and consumer_tenant_id = $2`, [assetId, caller.tenantId])
  return { data: { asset_id: assetId, subscribed: rows[0]?.status === 'active', billing_agreement: Boolean(rows[0]?.billing_agreement_at), pricing: t.asset.pricing, usage: await consumerUsage(sql, assetId, caller.tenantId, t.asset.pricing) } }
}

/** Subscribes (or accepts the pricing: the billing agreement); returns the webhook signing secret, to this tenant only. */
export async function subscribe(caller: Caller, assetId: string, acceptPricing: boolean) {
  const db = await getDb()
  const t = await executionTarget(db, caller, assetId)
  if (t.owner) throw new ApiError(409, 'CONFLICT', 'You provide this asset: providers do not subscribe to their own assets', { asset_id: assetId })
  const sub = await subscription(db, caller, t.asset, { acceptPricing })
  return {
    data: {
      asset_id: assetId,
      status: 'active',
      billing_agreement: Boolean(sub.billing_agreement_at),
      pricing: t.asset.pricing,
      // signs this subscriber's webhooks (batch callbacks): `HotDash-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`
      webhook_secret: webhookSecret(sub, assetId, caller.tenantId),
    },
  }
}

export async function unsubscribe(caller: Caller, assetId: string) {
  const db = await getDb()
  await db.query(`update public.asset_subscriptions set status = 'cancelled' where asset_id = $1 and consumer_tenant_id = $2`, [assetId, caller.tenantId])
  return undefined
}

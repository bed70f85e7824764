import { publicOrigin, startBatch } from '#app/features/marketplace/marketplace.server.ts'
import { assetIdParam, batchBody } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Execute an asset on many records in a background job (each record metered as one execution; per-record success or error)',
    description:
      'Answers 202 with the batch id and progress_url. On completion, callback_url receives a `batch.completed` webhook signed with your subscription\'s webhook_secret: header `HotDash-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (verify over the raw body, refuse a t outside your replay window), `HotDash-Delivery: evt_…` the same on every retry; retried with exponential backoff until a 2xx.',
    tags: ['Marketplace'],
    permission: 'assets.execute',
    params: assetIdParam,
    body: batchBody,
    status: 202,
    // up to 10,000 records of a few hundred bytes each (the default limit is 2 MiB)
    maxBodyBytes: 16 * 1024 * 1024,
    // the batch and its job commit together in the feature's own transaction; the precheck reads the meter as the server
    transaction: false,
    handler: ({ caller, params, body, request }) => startBatch(caller, params.asset_id, body, publicOrigin(request)),
  },
})

export const loader = route.loader
export const action = route.action

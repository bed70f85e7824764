import { mySubscription, subscribe, unsubscribe } from '#app/features/marketplace/marketplace.server.ts'
import { assetIdParam, subscribeBody } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "Your tenant's subscription to an asset and its usage against the free tier",
    tags: ['Marketplace'],
    permission: 'assets.read',
    params: assetIdParam,
    // statements as the caller one at a time: the asset lookup reads the server's own connection beside them
    transaction: false,
    handler: ({ db, caller, params }) => mySubscription(db, caller, params.asset_id),
  },
  POST: {
    summary: 'Subscribe to a published asset; accept_pricing: true is the billing agreement. Returns the webhook signing secret',
    tags: ['Marketplace'],
    permission: 'assets.execute',
    params: assetIdParam,
    body: subscribeBody,
    transaction: false,
    handler: ({ caller, params, body }) => subscribe(caller, params.asset_id, body.accept_pricing),
  },
  DELETE: {
    summary: 'Cancel your subscription',
    tags: ['Marketplace'],
    permission: 'assets.execute',
    params: assetIdParam,
    status: 204,
    transaction: false,
    handler: ({ caller, params }) => unsubscribe(caller, params.asset_id),
  },
})

export const loader = route.loader
export const action = route.action

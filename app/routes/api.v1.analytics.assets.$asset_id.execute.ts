import { execute } from '#app/features/marketplace/marketplace.server.ts'
import { assetIdParam, executeBody } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Execute an asset's deployed version on input_data (metered; 402 past the free tier without a billing agreement)",
    tags: ['Marketplace'],
    permission: 'assets.execute',
    params: assetIdParam,
    body: executeBody,
    // The meter is written whether the asset succeeds or fails: the execution opens its own transactions.
    transaction: false,
    handler: ({ caller, params, body }) => execute(caller, params.asset_id, body),
  },
})

export const loader = route.loader
export const action = route.action

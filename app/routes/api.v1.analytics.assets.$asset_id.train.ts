import { trainAsset } from '#app/features/marketplace/marketplace.server.ts'
import { assetIdParam, trainAssetBody } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Train the asset's model again (training_config, data_config incl. training_period, deployment_config); with auto_deploy the new version is deployed only if it reaches performance_threshold",
    tags: ['Marketplace'],
    permission: 'assets.write',
    params: assetIdParam,
    body: trainAssetBody,
    status: 202,
    handler: ({ db, caller, params, body }) => trainAsset(db, caller, params.asset_id, body),
  },
})

export const loader = route.loader
export const action = route.action

import { deleteAsset, getAsset, patchAsset } from '#app/features/marketplace/marketplace.server.ts'
import { assetIdParam, deleteAssetQuery, patchAssetBody } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "An analytics asset: the provider's full view, or a published asset's public view and your own usage",
    tags: ['Marketplace'],
    permission: 'assets.read',
    params: assetIdParam,
    handler: ({ db, caller, params }) => getAsset(db, caller, params.asset_id),
  },
  PATCH: {
    summary: 'Change an asset: the semantic version bumps by what changed (major: input schema, minor: model or configuration, patch: metadata)',
    tags: ['Marketplace'],
    permission: 'assets.write',
    params: assetIdParam,
    body: patchAssetBody,
    handler: ({ db, caller, params, body }) => patchAsset(db, caller, params.asset_id, body),
  },
  DELETE: {
    summary: 'Archive an asset, or delete it permanently (permanent=true; refused while it has active subscribers)',
    tags: ['Marketplace'],
    permission: 'assets.write',
    params: assetIdParam,
    query: deleteAssetQuery,
    status: 204,
    handler: ({ db, params, query }) => deleteAsset(db, params.asset_id, query.permanent),
  },
})

export const loader = route.loader
export const action = route.action

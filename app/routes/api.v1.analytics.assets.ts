import { createAsset, listAssets } from '#app/features/marketplace/marketplace.server.ts'
import { createAssetBody, listAssetsQuery } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "List analytics assets: your company's (filters status, category, data_source; sort; limit/offset; meta counts), or the marketplace's published ones (scope=marketplace)",
    tags: ['Marketplace'],
    permission: 'assets.read',
    query: listAssetsQuery,
    handler: ({ db, caller, query }) => listAssets(db, caller, query),
  },
  POST: {
    summary: 'Create an analytics asset from a trained model (configuration.train_id) or a read-only query over a data source (configuration.query)',
    tags: ['Marketplace'],
    permission: 'assets.write',
    body: createAssetBody,
    status: 201,
    handler: ({ db, caller, body }) => createAsset(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action

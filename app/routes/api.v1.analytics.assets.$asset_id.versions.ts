import { listVersions } from '#app/features/marketplace/marketplace.server.ts'
import { assetIdParam } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "An asset's versions, newest first: status (active, canary, candidate, deprecated…), metrics from its executions, changes, notes",
    tags: ['Marketplace'],
    permission: 'assets.read',
    params: assetIdParam,
    handler: ({ db, params }) => listVersions(db, params.asset_id),
  },
})

export const loader = route.loader
export const action = route.action

import { getBatchResults, publicOrigin } from '#app/features/marketplace/marketplace.server.ts'
import { batchIdParam, batchResultsQuery } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A batch's records in order with each one's result or error (status filter; limit/offset; your tenant's batches only)",
    tags: ['Marketplace'],
    permission: 'assets.read',
    params: batchIdParam,
    query: batchResultsQuery,
    handler: ({ db, params, query, request }) => getBatchResults(db, params.batch_id, query, publicOrigin(request)),
  },
})

export const loader = route.loader
export const action = route.action

import { testDataSource } from '#app/features/marketplace/marketplace.server.ts'
import { sourceIdParam } from '#app/features/marketplace/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Test a data source: measured latency, discovered tables, read access, read-only enforcement, the validation query',
    tags: ['Marketplace'],
    permission: 'assets.write',
    params: sourceIdParam,
    handler: ({ db, params }) => testDataSource(db, params.source_id),
  },
})

export const loader = route.loader
export const action = route.action

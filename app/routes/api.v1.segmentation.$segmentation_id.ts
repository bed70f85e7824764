import { z } from 'zod'
import { getSegmentation } from '#app/features/analytics/analytics.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: 'A saved segmentation: its clusters, metrics and a sample of its assigned points',
    tags: ['Analytics service'],
    permission: 'analytics.read',
    params: z.object({ segmentation_id: intId }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(20_000).default(2000) }),
    handler: ({ db, caller, params, query }) => getSegmentation(db, caller, params.segmentation_id, query),
  },
})

export const loader = route.loader
export const action = route.action

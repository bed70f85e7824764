import { z } from 'zod'
import { requestStatistics } from '#app/features/datasets/statistics.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  POST: {
    summary: 'Start the statistics job of a dataset (read the result at GET /api/v1/dataset/statistics)',
    tags: ['Datasets'],
    permission: 'datasets.write',
    status: 202,
    query: z.object({ dataset_id: intId }),
    handler: ({ db, caller, query }) => requestStatistics(db, caller, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action

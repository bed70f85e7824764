import { requestStatistics } from '#app/features/datasets/datasets.server.ts'
import { datasetIdQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Start the statistics job of a dataset (read the result at GET /api/v1/dataset/statistics)',
    tags: ['Datasets'],
    permission: 'datasets.write',
    status: 202,
    query: datasetIdQuery,
    handler: ({ db, caller, query }) => requestStatistics(db, caller, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action

import { getStatistics } from '#app/features/datasets/datasets.server.ts'
import { datasetIdQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A dataset's statistics and the status and progress of the job computing them",
    tags: ['Datasets'],
    permission: 'datasets.read',
    query: datasetIdQuery,
    handler: ({ db, query }) => getStatistics(db, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action

import { listFiles } from '#app/features/datasets/datasets.server.ts'
import { datasetIdQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'The files of a dataset',
    tags: ['Files'],
    permission: 'datasets.read',
    query: datasetIdQuery,
    handler: ({ db, query }) => listFiles(db, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action

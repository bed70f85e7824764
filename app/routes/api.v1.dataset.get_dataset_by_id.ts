import { getDatasetById } from '#app/features/datasets/datasets.server.ts'
import { datasetIdQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'A dataset by id (paths are its bronze and silver tables)',
    tags: ['Datasets'],
    permission: 'datasets.read',
    query: datasetIdQuery,
    handler: ({ db, query }) => getDatasetById(db, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action

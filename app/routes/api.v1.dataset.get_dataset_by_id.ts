import { z } from 'zod'
import { getDatasetById } from '#app/features/datasets/datasets.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: 'A dataset by id (paths are its bronze and silver tables)',
    tags: ['Datasets'],
    permission: 'datasets.read',
    query: z.object({ dataset_id: intId }),
    handler: ({ db, query }) => getDatasetById(db, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action

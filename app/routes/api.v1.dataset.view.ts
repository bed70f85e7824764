import { z } from 'zod'
import { viewDataset } from '#app/features/datasets/datasets.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: "A page of a dataset's rows: typed valid rows (silver, default) or raw rows (bronze)",
    tags: ['Datasets'],
    permission: 'datasets.read',
    query: z.object({
      dataset_id: intId,
      skip: z.coerce.number().int('must be an integer').min(0, 'must be 0 or more').default(0),
      limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
      layer: z.enum(['silver', 'bronze'], 'must be silver or bronze').default('silver'),
    }),
    handler: ({ db, query }) => viewDataset(db, query.dataset_id, query),
  },
})

export const loader = route.loader
export const action = route.action

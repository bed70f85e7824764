import { viewDataset } from '#app/features/datasets/datasets.server.ts'
import { viewQuery } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A page of a dataset's rows: typed valid rows (silver, default) or raw rows (bronze)",
    tags: ['Datasets'],
    permission: 'datasets.read',
    query: viewQuery,
    handler: ({ db, query }) => viewDataset(db, query.dataset_id, query),
  },
})

export const loader = route.loader
export const action = route.action

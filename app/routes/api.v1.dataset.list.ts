import { listDatasets } from '#app/features/datasets/datasets.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "List your tenant's datasets with usability and validity",
    tags: ['Datasets'],
    permission: 'datasets.read',
    handler: ({ db }) => listDatasets(db),
  },
})

export const loader = route.loader
export const action = route.action

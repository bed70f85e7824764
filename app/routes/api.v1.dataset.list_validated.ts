import { listValidatedDatasets } from '#app/features/datasets/datasets.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'List the datasets that passed validation (is_valid)',
    tags: ['Datasets'],
    permission: 'datasets.read',
    handler: ({ db }) => listValidatedDatasets(db),
  },
})

export const loader = route.loader
export const action = route.action

import { getDb } from '#app/db/index.server.ts'
import { deleteDataset } from '#app/features/datasets/datasets.server.ts'
import { datasetIdParams } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  DELETE: {
    summary: 'Delete a dataset with its files, error reports, statistics and datalake tables',
    tags: ['Datasets'],
    permission: 'datasets.write',
    transaction: false,
    params: datasetIdParams,
    handler: async ({ caller, params }) => deleteDataset(await getDb(), caller, params.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action

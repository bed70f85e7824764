import { getDb } from '#app/db/index.server.ts'
import { deleteFile } from '#app/features/datasets/datasets.server.ts'
import { fileIdParams } from '#app/features/datasets/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  DELETE: {
    summary: 'Delete a file and its rows from the dataset',
    tags: ['Files'],
    permission: 'datasets.write',
    transaction: false,
    params: fileIdParams,
    handler: async ({ caller, params }) => deleteFile(await getDb(), caller, params.file_id),
  },
})

export const loader = route.loader
export const action = route.action

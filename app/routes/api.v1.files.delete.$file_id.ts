import { z } from 'zod'
import { getDb } from '#app/db/index.server.ts'
import { deleteFile } from '#app/features/datasets/files.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  DELETE: {
    summary: 'Delete a file and its rows from the dataset',
    tags: ['Files'],
    permission: 'datasets.write',
    transaction: false,
    params: z.object({ file_id: intId }),
    handler: async ({ caller, params }) => deleteFile(await getDb(), caller, params.file_id),
  },
})

export const loader = route.loader
export const action = route.action

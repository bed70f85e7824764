import { z } from 'zod'
import { listFiles } from '#app/features/datasets/files.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: 'The files of a dataset',
    tags: ['Files'],
    permission: 'datasets.read',
    query: z.object({ dataset_id: intId }),
    handler: ({ db, query }) => listFiles(db, query.dataset_id),
  },
})

export const loader = route.loader
export const action = route.action

import { z } from 'zod'
import { getFileById } from '#app/features/datasets/files.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: "A file's details",
    tags: ['Files'],
    permission: 'datasets.read',
    query: z.object({ file_id: intId }),
    handler: ({ db, query }) => getFileById(db, query.file_id),
  },
})

export const loader = route.loader
export const action = route.action

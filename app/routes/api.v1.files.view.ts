import { z } from 'zod'
import { viewFile } from '#app/features/datasets/files.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: 'The first lines of a file as uploaded',
    tags: ['Files'],
    permission: 'datasets.read',
    query: z.object({
      file_id: intId,
      lines: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(10),
    }),
    handler: ({ db, query }) => viewFile(db, query.file_id, query.lines),
  },
})

export const loader = route.loader
export const action = route.action

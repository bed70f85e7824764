import { z } from 'zod'
import { fileErrorReport } from '#app/features/datasets/files.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: "A file's per-row error report (row, column, value, rule, message) as JSON pages or a CSV download",
    tags: ['Files'],
    permission: 'datasets.read',
    // The CSV streams page by page after the handler returns: one short caller transaction per page.
    transaction: false,
    query: z.object({
      file_id: intId,
      format: z.enum(['json', 'csv'], 'must be json or csv').default('json'),
      skip: z.coerce.number().int('must be an integer').min(0, 'must be 0 or more').default(0),
      limit: z.coerce.number().int('must be an integer').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
    }),
    handler: ({ db, query }) => fileErrorReport(db, query.file_id, query),
  },
})

export const loader = route.loader
export const action = route.action

import { z } from 'zod'
import { api } from '#app/http/api-route.server.ts'
import { page } from '#app/http/schemas.ts'
import { readJobLogs } from '#app/jobs/jobs-api.server.ts'

const route = api({
  GET: {
    summary: "A background job's log: its steps, oldest first (poll with after = the last next_after)",
    tags: ['Jobs'],
    params: z.object({ job_id: z.string().max(100) }),
    query: z.object({
      after: z.coerce.number().int('must be an integer').min(0, 'must be 0 or more').default(0),
      limit: page.limit,
    }),
    handler: ({ db, params, query }) => readJobLogs(db, params.job_id, query),
  },
})

export const loader = route.loader
export const action = route.action

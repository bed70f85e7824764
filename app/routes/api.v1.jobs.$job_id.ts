import { z } from 'zod'
import { api } from '#app/http/api-route.server.ts'
import { readJob } from '#app/jobs/jobs-api.server.ts'

const route = api({
  GET: {
    summary: 'A background job: status, progress, message, result, error',
    tags: ['Jobs'],
    params: z.object({ job_id: z.string().max(100) }),
    handler: ({ db, params }) => readJob(db, params.job_id),
  },
})

export const loader = route.loader
export const action = route.action

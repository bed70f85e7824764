import { z } from 'zod'
import { api } from '#app/http/api-route.server.ts'
import { terminateJob } from '#app/jobs/jobs-api.server.ts'

const route = api({
  POST: {
    summary: 'Terminate a running job (ML spec name; cancels the job of the caller’s tenant)',
    tags: ['Jobs'],
    permission: 'jobs.manage',
    query: z.object({
      ray_job_id: z.string().min(1).max(100),
      usage: z.string().min(1).max(100),
    }),
    response: z.object({ status: z.literal('success'), message: z.string() }),
    handler: ({ db, query }) => terminateJob(db, query.ray_job_id),
  },
})

export const loader = route.loader
export const action = route.action

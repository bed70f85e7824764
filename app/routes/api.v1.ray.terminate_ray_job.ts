import { z } from 'zod'
import { terminateTraining } from '#app/features/ml/ml.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { forbidden } from '#app/http/errors.server.ts'
import { terminateJob } from '#app/jobs/jobs-api.server.ts'

const route = api({
  POST: {
    summary: 'Terminate a running job (ML spec name; cancels the job of the caller’s tenant)',
    description: 'usage=training: ray_job_id is a training’s job id, Ray submission id or training id (needs models.write); otherwise a job id (needs jobs.manage).',
    tags: ['Jobs'],
    query: z.object({
      ray_job_id: z.string().min(1).max(100),
      usage: z.string().min(1).max(100),
    }),
    response: z.object({ status: z.literal('success'), message: z.string() }),
    handler: ({ db, caller, query }) => {
      const training = query.usage.toLowerCase() === 'training'
      const permission = training ? 'models.write' : 'jobs.manage'
      if (!caller.permissions.has(permission)) throw forbidden(`This needs the '${permission}' permission`, { permission })
      return training ? terminateTraining(db, query.ray_job_id) : terminateJob(db, query.ray_job_id)
    },
  },
})

export const loader = route.loader
export const action = route.action

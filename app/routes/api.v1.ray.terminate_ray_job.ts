import { z } from 'zod'
import { terminatePrediction } from '#app/features/inference/inference.server.ts'
import { terminateTraining } from '#app/features/ml/ml.server.ts'
import { api } from '#app/http/api-route.server.ts'
import { forbidden } from '#app/http/errors.server.ts'
import { terminateJob } from '#app/jobs/jobs-api.server.ts'

const route = api({
  POST: {
    summary: 'Terminate a running job (ML spec name; cancels the job of the caller’s tenant)',
    description:
      'usage=training: ray_job_id may be a training’s job id, Ray submission id or training id (needs models.write); usage=prediction: a batch prediction’s job id or prediction id (needs inference.run); any job id works with jobs.manage.',
    tags: ['Jobs'],
    query: z.object({
      ray_job_id: z.string().min(1).max(100),
      usage: z.string().min(1).max(100),
    }),
    response: z.object({ status: z.literal('success'), message: z.string() }),
    handler: async ({ db, caller, query }) => {
      const may = (p: string) => caller.permissions.has(p)
      if (query.usage.toLowerCase() === 'training' && (may('models.write') || may('jobs.manage'))) {
        const stopped = await terminateTraining(db, query.ray_job_id)
        if (stopped) return stopped
      }
      if (query.usage.toLowerCase() === 'prediction' && (may('inference.run') || may('jobs.manage'))) {
        const stopped = await terminatePrediction(db, query.ray_job_id)
        if (stopped) return stopped
      }
      if (!may('jobs.manage')) throw forbidden("This needs the 'jobs.manage' permission", { permission: 'jobs.manage' })
      return terminateJob(db, query.ray_job_id)
    },
  },
})

export const loader = route.loader
export const action = route.action

import { retryBatch } from '#app/features/inference/inference.server.ts'
import { resultQuery } from '#app/features/inference/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Run a failed or cancelled batch prediction again (a new job on the same prediction)',
    tags: ['Inference'],
    permission: 'inference.run',
    status: 202,
    body: resultQuery,
    handler: ({ db, caller, body }) => retryBatch(db, caller, body.prediction_id),
  },
})

export const loader = route.loader
export const action = route.action

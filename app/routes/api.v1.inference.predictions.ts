import { listPredictions } from '#app/features/inference/inference.server.ts'
import { predictionsQuery } from '#app/features/inference/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'The prediction log (real-time and batch), newest first, as JSON pages or a CSV download',
    description: 'train_id filters by model (the spec requires it; without it every model’s predictions are listed). Filters: prediction_type, status, from, to.',
    tags: ['Inference'],
    permission: 'models.read',
    // The CSV streams page by page after the handler returns: one short caller transaction per page.
    transaction: false,
    query: predictionsQuery,
    handler: ({ db, query }) => listPredictions(db, query),
  },
})

export const loader = route.loader
export const action = route.action

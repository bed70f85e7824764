import { previewGold } from '#app/features/inference/inference.server.ts'
import { previewQuery } from '#app/features/inference/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'The first rows of a batch prediction’s gold table',
    tags: ['Inference'],
    permission: 'models.read',
    query: previewQuery,
    handler: ({ db, caller, query }) => previewGold(db, caller, query.prediction_id, query.limit),
  },
})

export const loader = route.loader
export const action = route.action

import { modelSummary } from '#app/features/ml/ml.server.ts'
import { trainIdQuery } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "The chosen model's summary and metrics, confusion matrix, leaderboard and cross-validation",
    tags: ['Train'],
    permission: 'models.read',
    query: trainIdQuery,
    handler: ({ db, query }) => modelSummary(db, query.train_id),
  },
})

export const loader = route.loader
export const action = route.action

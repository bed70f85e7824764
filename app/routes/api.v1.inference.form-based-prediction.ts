import { formBasedPrediction } from '#app/features/inference/inference.server.ts'
import { formQuery } from '#app/features/inference/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'The input form of a model: its columns with types and defaults (template default, else training median / mode), target and preprocess_id',
    tags: ['Inference'],
    permission: 'models.read',
    query: formQuery,
    handler: ({ db, query }) => formBasedPrediction(db, query.id),
  },
})

export const loader = route.loader
export const action = route.action

import { viewImportance } from '#app/features/ml/ml.server.ts'
import { trainIdQuery } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "A training's SHAP feature importance (mean |SHAP| per column, normalised to 1) and its status",
    tags: ['Train'],
    permission: 'models.read',
    query: trainIdQuery,
    handler: ({ db, query }) => viewImportance(db, query.train_id),
  },
})

export const loader = route.loader
export const action = route.action

import { generateImportance } from '#app/features/ml/ml.server.ts'
import { trainIdQuery } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'Start the SHAP feature-importance job of a trained model (GET, as the spec has it)',
    tags: ['Train'],
    permission: 'models.write',
    status: 202,
    query: trainIdQuery,
    handler: ({ db, caller, query }) => generateImportance(db, caller, query.train_id),
  },
})

export const loader = route.loader
export const action = route.action

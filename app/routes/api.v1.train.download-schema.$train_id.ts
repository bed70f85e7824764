import { trainingSchema } from '#app/features/ml/ml.server.ts'
import { trainIdParam } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'Download the input schema of a training (its Id, Feature and Target columns)',
    tags: ['Train'],
    permission: 'models.read',
    params: trainIdParam,
    handler: async ({ db, params, headers }) => {
      headers.set('Content-Disposition', `attachment; filename="training-${params.train_id}-schema.json"`)
      return trainingSchema(db, params.train_id)
    },
  },
})

export const loader = route.loader
export const action = route.action

import { deleteImportance } from '#app/features/ml/ml.server.ts'
import { trainIdParam } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  DELETE: {
    summary: "Delete a training's feature importance (its job is cancelled if running)",
    tags: ['Train'],
    permission: 'models.write',
    params: trainIdParam,
    handler: ({ db, params }) => deleteImportance(db, params.train_id),
  },
})

export const loader = route.loader
export const action = route.action

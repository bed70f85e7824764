import { getDb } from '#app/db/index.server.ts'
import { deleteTraining } from '#app/features/ml/ml.server.ts'
import { idParam } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  DELETE: {
    summary: 'Delete a training with its model versions, preprocesses, feature importance and files (a running job is cancelled)',
    tags: ['Train'],
    permission: 'models.write',
    transaction: false,
    params: idParam,
    handler: async ({ caller, params }) => deleteTraining(await getDb(), caller, params.id),
  },
})

export const loader = route.loader
export const action = route.action

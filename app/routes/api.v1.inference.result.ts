import { predictionResult } from '#app/features/inference/inference.server.ts'
import { resultQuery } from '#app/features/inference/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'A prediction’s result: status, result_path, file_id, dataset_id, counts, accuracy, gold table and download link',
    tags: ['Inference'],
    permission: 'models.read',
    query: resultQuery,
    handler: ({ db, query }) => predictionResult(db, query.prediction_id),
  },
})

export const loader = route.loader
export const action = route.action

import { api } from '#app/http/api-route.server.ts'
import { startBatch } from './batch.server.ts'
import { batchBody } from './schemas.ts'

/**
 * POST /api/v1/inference/batchPrediction and its spelling /batch-prediction: one definition, two route modules (a
 * route module may export only React Router's names, so the shared definition lives here).
 */
export function batchPredictionRoute() {
  return api({
    POST: {
      summary: 'Start a batch prediction over a dataset’s validated rows: a gold table and a CSV with top-3 reasons per row',
      description:
        'The dataset’s columns must cover the model’s inputs with the same types (422 naming what is missing). Follow it with GET /inference/result?prediction_id=; cancel with POST /ray/terminate_ray_job?usage=prediction; retry a failed or cancelled one with POST /inference/retry. explanations: false leaves the reasons out (faster).',
      tags: ['Inference'],
      permission: 'inference.run',
      status: 202,
      body: batchBody,
      handler: ({ db, caller, body }) => startBatch(db, caller, body),
    },
  })
}

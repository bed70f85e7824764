import { getDb } from '#app/db/index.server.ts'
import { acceptTrainResult } from '#app/features/ml/ml.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Callback: an external trainer posts a training's result (service_role or the job's trainer token)",
    description:
      'Body { train_id, preprocess_id?, result: { metrics, checkpoint, error, path, model_base64 (native XGBoost JSON model), model_format } }. Idempotent; the model is scored here on the held-out rows before it is registered.',
    tags: ['Train'],
    auth: 'none',
    // Read by the feature: a model is larger than the default JSON limit.
    bodyType: 'raw',
    handler: async ({ request }) => acceptTrainResult(await getDb(), request),
  },
})

export const loader = route.loader
export const action = route.action

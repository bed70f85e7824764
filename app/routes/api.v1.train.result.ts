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
    // Read and checked by the feature (a model (base64 JSON) is larger than the default JSON limit); it authenticates the caller itself and writes as the server.
    bodyType: 'raw',
    maxBodyBytes: 64 * 1024 * 1024,
    handler: async ({ request }) => acceptTrainResult(await getDb(), request),
  },
})

export const loader = route.loader
export const action = route.action

import { getDb } from '#app/db/index.server.ts'
import { acceptShapResult } from '#app/features/ml/ml.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: "Callback: an external trainer posts a training's SHAP importance (service_role or the job's trainer token)",
    description: 'Body { training_id, result: { column: importance } }; columns must be the training’s features. Idempotent.',
    tags: ['Train'],
    auth: 'none',
    // Read and checked by the feature (one number per column); it authenticates the caller itself and writes as the server.
    bodyType: 'raw',
    maxBodyBytes: 1024 * 1024,
    handler: async ({ request }) => acceptShapResult(await getDb(), request),
  },
})

export const loader = route.loader
export const action = route.action

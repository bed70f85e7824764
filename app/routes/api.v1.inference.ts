import { predictOne } from '#app/features/inference/inference.server.ts'
import { predictBody } from '#app/features/inference/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'One real-time prediction: class and probabilities or value and interval, with every column’s SHAP contribution',
    description:
      'features must name every input column of the model (null for a missing value); the training’s Id and Target columns are ignored, any other key is a 400 naming it. A category not seen in training is scored through the unseen bucket and listed in unseen_categories (unseen: "reject" refuses it). Every prediction is logged (GET /inference/predictions).',
    tags: ['Inference'],
    permission: 'inference.run',
    body: predictBody,
    handler: ({ db, body }) => predictOne(db, body),
  },
})

export const loader = route.loader
export const action = route.action

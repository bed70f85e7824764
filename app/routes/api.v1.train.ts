import { createTraining } from '#app/features/ml/ml.server.ts'
import { trainInput } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Create a predictor and start its training job on a validated dataset',
    description:
      'columns assigns attribute_name Id, Target, Feature or Ignore (unlisted columns are features). algorithm auto (default) trains XGBoost and a linear baseline and keeps the better one. Optional: hyperparameters, validation_split, cv_folds, seed, engine.',
    tags: ['Train'],
    permission: 'models.write',
    status: 201,
    body: trainInput,
    handler: ({ db, caller, body }) => createTraining(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action

import { z } from 'zod'
import { downloadModel } from '#app/features/ml/ml.server.ts'
import { trainIdParam } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'
import { intId } from '#app/http/schemas.ts'

const route = api({
  GET: {
    summary: "Download a training's model in XGBoost's own format (xgboost.Booster().load_model() opens it); linear models as JSON",
    tags: ['Train'],
    permission: 'models.read',
    params: trainIdParam,
    query: z.object({ model_id: intId.optional() }),
    handler: ({ db, params, query }) => downloadModel(db, params.train_id, query.model_id),
  },
})

export const loader = route.loader
export const action = route.action

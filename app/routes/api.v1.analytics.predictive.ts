import { predictDataset } from '#app/features/analytics/analytics.server.ts'
import { predictiveBody } from '#app/features/analytics/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  POST: {
    summary: 'Fit a linear model (OLS or ridge) and predict future periods with t-based intervals; the model is saved (model_id)',
    tags: ['Analytics service'],
    permission: 'analytics.write',
    body: predictiveBody,
    handler: ({ db, caller, body }) => predictDataset(db, caller, body),
  },
})

export const loader = route.loader
export const action = route.action

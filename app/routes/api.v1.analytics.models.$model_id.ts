import { z } from 'zod'
import { getModel } from '#app/features/analytics/analytics.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'A model fitted by /analytics/predictive: coefficients, covariance and metrics',
    tags: ['Analytics service'],
    permission: 'analytics.read',
    params: z.object({ model_id: z.string().min(1).max(64) }),
    handler: ({ db, params }) => getModel(db, params.model_id),
  },
})

export const loader = route.loader
export const action = route.action

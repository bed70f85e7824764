import { serveTrainerScript } from '#app/features/ml/ml.server.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: 'The external trainer script (native XGBoost), for a Ray worker, with its job’s X-Trainer-Token',
    tags: ['Train'],
    auth: 'none',
    handler: ({ request }) => serveTrainerScript(request),
  },
})

export const loader = route.loader
export const action = route.action

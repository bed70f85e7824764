import { getDb } from '#app/db/index.server.ts'
import { serveTrainerInput } from '#app/features/ml/ml.server.ts'
import { trainIdQuery } from '#app/features/ml/schemas.ts'
import { api } from '#app/http/api-route.server.ts'

const route = api({
  GET: {
    summary: "An external trainer's prepared data (HDML1), with its job's X-Trainer-Token",
    tags: ['Train'],
    auth: 'none',
    query: trainIdQuery,
    handler: async ({ request, query }) => serveTrainerInput(await getDb(), request, query.train_id),
  },
})

export const loader = route.loader
export const action = route.action
